/* Makes the frames of the transport and capacity benchmarks and measures
 * their LZ4 ratio.
 *
 *   bench-frames [--photo PATH] WIDTH HEIGHT K OUTFILE
 *
 * Writes K I420 frames back to back: a window of a scene (bench-scene.h:
 * the synthetic scene, or with --photo a natural photo scaled to cover it)
 * panning by PAN pixels per frame to the right and PAN / 2 down, then back
 * (a cycle of K frames, so that frame K follows frame K - 1 smoothly), plus
 * per-frame sensor noise (about +-3 on luma, +-2 on chroma). Prints one JSON
 * line with the LZ4 frame ratio (liblz4 with redisstreamsink's settings:
 * 256 KiB independent blocks, acceleration 1). Deterministic: the same
 * arguments give the same bytes. */
#include "bench-common.h"
#include "bench-scene.h"

#include <lz4frame.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pixels per frame, horizontally; half of it vertically */
#define PAN 4

int
main (int argc, char **argv)
{
  int w, h, k, i, margin_x, margin_y;
  const char *photo = NULL;
  BenchScene *scene;
  BenchNoise noise = { 12345 };
  uint8_t *frame, *lz;
  size_t size, bound, in_total = 0, out_total = 0;
  LZ4F_preferences_t prefs;
  FILE *fp;

  if (argc == 7 && strcmp (argv[1], "--photo") == 0) {
    photo = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc != 5) {
    fprintf (stderr, "usage: %s [--photo PATH] WIDTH HEIGHT K OUTFILE\n",
        argv[0]);
    return 2;
  }
  w = atoi (argv[1]);
  h = atoi (argv[2]);
  k = atoi (argv[3]);
  if (w < 16 || h < 16 || w % 8 || h % 2 || k < 1) {
    fprintf (stderr, "width must be a multiple of 8, height even\n");
    return 2;
  }
  size = bench_i420_size (w, h);
  margin_x = PAN * MAX (k / 2, 1);
  margin_y = (margin_x / 2) & ~1;
  if (photo) {
    char *error;

    scene = bench_scene_new_photo (photo, w, h, margin_x, margin_y, &error);
    if (scene == NULL) {
      fprintf (stderr, "%s\n", error);
      free (error);
      return 1;
    }
  } else {
    scene = bench_scene_new_synthetic (w, h, margin_x, margin_y);
  }
  frame = malloc (size);
  memset (&prefs, 0, sizeof (prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max256KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentSize = size;
  prefs.compressionLevel = 0;
  bound = LZ4F_compressFrameBound (size, &prefs);
  lz = malloc (bound);

  fp = fopen (argv[4], "wb");
  if (fp == NULL) {
    perror (argv[4]);
    return 1;
  }
  for (i = 0; i < k; i++) {
    uint8_t *planes[3];
    int strides[3] = { w, w / 2, w / 2 };
    size_t n;

    planes[0] = frame;
    planes[1] = frame + (size_t) w *h;
    planes[2] = planes[1] + (size_t) (w / 2) * (h / 2);
    bench_scene_render (scene, w, h, bench_scene_pan (i, k, margin_x),
        bench_scene_pan (i, k, margin_y), 3, 2, &noise, planes, strides);
    /* The header bytes of every frame are the sender's; zero here. */
    memset (frame, 0, BENCH_HEADER_SIZE);
    if (fwrite (frame, 1, size, fp) != size) {
      perror ("write");
      return 1;
    }
    n = LZ4F_compressFrame (lz, bound, frame, size, &prefs);
    if (LZ4F_isError (n)) {
      fprintf (stderr, "lz4: %s\n", LZ4F_getErrorName (n));
      return 1;
    }
    in_total += size;
    out_total += n;
  }
  if (fclose (fp) != 0) {
    perror ("close");
    return 1;
  }
  printf ("{\"width\": %d, \"height\": %d, \"k\": %d, \"frame_size\": %zu, "
      "\"lz4_ratio\": %.4f, \"source\": \"%s\", \"photo_width\": %d, "
      "\"photo_height\": %d}\n", w, h, k, size,
      (double) in_total / out_total, photo ? "photo" : "synthetic",
      scene->photo_width, scene->photo_height);
  bench_scene_free (scene);
  free (frame);
  free (lz);
  return 0;
}
