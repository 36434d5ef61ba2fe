/* Makes the frames of the transport benchmark and measures their LZ4 ratio.
 *
 *   bench-frames WIDTH HEIGHT K OUTFILE
 *
 * Writes K I420 frames back to back: a camera-like picture (fractal value
 * noise with smooth gradients and fine texture, flat shapes with hard edges)
 * panned by PAN pixels per frame, plus per-frame sensor noise (about +-3 on
 * luma, +-2 on chroma). Prints one JSON line with the LZ4 frame ratio
 * (liblz4 with redisstreamsink's settings: 256 KiB independent blocks,
 * acceleration 1). Deterministic: the same arguments give the same bytes. */
#include "bench-common.h"

#include <lz4frame.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAN 4

static uint32_t
hash2 (int x, int y, uint32_t seed)
{
  uint32_t h = (uint32_t) x * 374761393u + (uint32_t) y * 668265263u + seed;

  h = (h ^ (h >> 13)) * 1274126177u;
  return h ^ (h >> 16);
}

static double
value_noise (double x, double y, int cell, uint32_t seed)
{
  int x0 = (int) floor (x / cell), y0 = (int) floor (y / cell);
  double fx = x / cell - x0, fy = y / cell - y0;
  double v00 = (hash2 (x0, y0, seed) & 0xffff) / 65535.0;
  double v10 = (hash2 (x0 + 1, y0, seed) & 0xffff) / 65535.0;
  double v01 = (hash2 (x0, y0 + 1, seed) & 0xffff) / 65535.0;
  double v11 = (hash2 (x0 + 1, y0 + 1, seed) & 0xffff) / 65535.0;

  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  return (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) +
      v11 * fx) * fy;
}

static double
fbm (double x, double y, uint32_t seed)
{
  double sum = 0, amp = 0.5;
  int cell;

  for (cell = 256; cell >= 2; cell /= 2) {
    sum += amp * value_noise (x, y, cell, seed + cell);
    amp *= 0.6;
  }
  return sum;
}

static uint32_t rng_state = 12345;

static uint32_t
rng (void)
{
  /* xorshift32 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* roughly Gaussian noise in [-amp, amp] (sum of two uniform values) */
static int
noise (int amp)
{
  uint32_t r = rng ();

  return (int) ((r & 0xff) % (amp + 1)) - (int) (((r >> 8) & 0xff) % (amp + 1));
}

static uint8_t
clamp8 (double v)
{
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) (v + 0.5);
}

int
main (int argc, char **argv)
{
  int w, h, k, sw, x, y, i;
  uint8_t *sy, *su, *sv, *frame, *lz;
  size_t size, bound, in_total = 0, out_total = 0;
  LZ4F_preferences_t prefs;
  FILE *fp;

  if (argc != 5) {
    fprintf (stderr, "usage: %s WIDTH HEIGHT K OUTFILE\n", argv[0]);
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
  sw = w + PAN * k;
  sy = malloc ((size_t) sw * h);
  su = malloc ((size_t) (sw / 2) * (h / 2));
  sv = malloc ((size_t) (sw / 2) * (h / 2));
  frame = malloc (size);

  /* The scene, in the picture's own scale: 1080p shows the same scene as
   * 480p with more detail. */
  for (y = 0; y < h; y++) {
    for (x = 0; x < sw; x++) {
      double sx = x * 640.0 / w, syy = y * 480.0 / h;
      double v = 20 + 215 * fbm (sx, syy, 1);
      int bx = (int) (sx / 80), by = (int) (syy / 80);

      /* flat shapes with hard edges: some "windows" and a bright disc */
      if ((bx * 5 + by * 3) % 7 == 0 && fmod (sx, 80) > 12 && fmod (syy, 80) > 16)
        v = 35 + 22 * ((bx * 7 + by * 3) % 8) + 8 * fbm (sx * 4, syy * 4, 5);
      if (hypot (sx - 420, syy - 220) < 70)
        v = 215 + 10 * fbm (sx * 3, syy * 3, 3);
      sy[(size_t) y * sw + x] = clamp8 (v);
    }
  }
  for (y = 0; y < h / 2; y++) {
    for (x = 0; x < sw / 2; x++) {
      double sx = x * 1280.0 / w, syy = y * 960.0 / h;

      su[(size_t) y * (sw / 2) + x] = clamp8 (128 + 70 * (fbm (sx, syy, 7) - 0.5));
      sv[(size_t) y * (sw / 2) + x] = clamp8 (128 + 70 * (fbm (sx, syy, 9) - 0.5));
    }
  }

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
    int off = PAN * i;
    uint8_t *py = frame, *pu = frame + (size_t) w * h,
        *pv = pu + (size_t) (w / 2) * (h / 2);
    size_t n;

    for (y = 0; y < h; y++)
      for (x = 0; x < w; x++)
        py[(size_t) y * w + x] =
            clamp8 (sy[(size_t) y * sw + x + off] + noise (3));
    for (y = 0; y < h / 2; y++) {
      for (x = 0; x < w / 2; x++) {
        pu[(size_t) y * (w / 2) + x] =
            clamp8 (su[(size_t) y * (sw / 2) + x + off / 2] + noise (2));
        pv[(size_t) y * (w / 2) + x] =
            clamp8 (sv[(size_t) y * (sw / 2) + x + off / 2] + noise (2));
      }
    }
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
      "\"lz4_ratio\": %.4f}\n", w, h, k, size, (double) in_total / out_total);
  free (sy);
  free (su);
  free (sv);
  free (frame);
  free (lz);
  return 0;
}
