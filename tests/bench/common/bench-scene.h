/* The frame generator of the benchmarks in tests/bench (transport's
 * bench-frames, frameproc-bench, and through bench-frames run-capacity): one
 * scene, a window of it panned across the frame, plus sensor noise, so that
 * frames move and compress like a camera's.
 *
 * The scene is larger than a frame by a margin in each direction; frame
 * (ox, oy) is the window at that offset, 0 <= ox <= margin_x. Two scenes:
 * a synthetic one (fractal value noise with smooth gradients and fine
 * texture, flat shapes with hard edges, in the picture's own scale: 1080p
 * shows the same scene as 480p with more detail) and a natural photo,
 * decoded with GStreamer and scaled (bilinear, aspect kept, centre crop) to
 * cover the scene. Deterministic: the same arguments give the same bytes. */
#ifndef BENCH_SCENE_H
#define BENCH_SCENE_H

#include <stdint.h>

typedef struct
{
  int width, height;            /* the scene: frame size plus the margins */
  int photo_width, photo_height;        /* 0 for the synthetic scene */
  uint8_t *y, *u, *v;           /* I420, strides width and width / 2 */
} BenchScene;

/* frame_w, frame_h, margin_x, margin_y even */
BenchScene *bench_scene_new_synthetic (int frame_w, int frame_h,
    int margin_x, int margin_y);
/* NULL and a message in *error (free ()) when the file cannot be decoded */
BenchScene *bench_scene_new_photo (const char *path, int frame_w, int frame_h,
    int margin_x, int margin_y, char **error);
void bench_scene_free (BenchScene * s);

/* xorshift32 state of the sensor noise; any non-zero seed */
typedef struct
{
  uint32_t state;
} BenchNoise;

/* Writes the frame_w x frame_h window at (ox, oy) into an I420 frame (the
 * chroma window at (ox / 2, oy / 2))
 * (planes and strides), adding noise of about +-luma_noise on luma and
 * +-chroma_noise on chroma (roughly Gaussian: the difference of two uniform
 * values). */
void bench_scene_render (const BenchScene * s, int frame_w, int frame_h,
    int ox, int oy, int luma_noise, int chroma_noise, BenchNoise * noise,
    uint8_t * const planes[3], const int strides[3]);

/* Offset of frame i of a cycle of k frames panning 0 -> margin -> 0 (a
 * triangle, so the cycle repeats without a jump); even. */
int bench_scene_pan (int i, int k, int margin);

#endif
