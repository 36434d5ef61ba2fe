/* The frame generator of the benchmarks, see bench-scene.h. */
#include "bench-scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

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

static uint8_t
clamp8 (double v)
{
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) (v + 0.5);
}

static BenchScene *
scene_alloc (int frame_w, int frame_h, int margin_x, int margin_y)
{
  BenchScene *s = calloc (1, sizeof (BenchScene));

  s->width = frame_w + margin_x;
  s->height = frame_h + margin_y;
  s->y = malloc ((size_t) s->width * s->height);
  s->u = malloc ((size_t) (s->width / 2) * (s->height / 2));
  s->v = malloc ((size_t) (s->width / 2) * (s->height / 2));
  return s;
}

BenchScene *
bench_scene_new_synthetic (int frame_w, int frame_h, int margin_x, int margin_y)
{
  BenchScene *s = scene_alloc (frame_w, frame_h, margin_x, margin_y);
  int x, y;

  /* scene coordinates in the frame's own scale (a 640x480 frame) */
  for (y = 0; y < s->height; y++) {
    for (x = 0; x < s->width; x++) {
      double sx = x * 640.0 / frame_w, sy = y * 480.0 / frame_h;
      double v = 20 + 215 * fbm (sx, sy, 1);
      int bx = (int) (sx / 80), by = (int) (sy / 80);

      /* flat shapes with hard edges: some "windows" and a bright disc */
      if ((bx * 5 + by * 3) % 7 == 0 && fmod (sx, 80) > 12
          && fmod (sy, 80) > 16)
        v = 35 + 22 * ((bx * 7 + by * 3) % 8) + 8 * fbm (sx * 4, sy * 4, 5);
      if (hypot (sx - 420, sy - 220) < 70)
        v = 215 + 10 * fbm (sx * 3, sy * 3, 3);
      s->y[(size_t) y * s->width + x] = clamp8 (v);
    }
  }
  for (y = 0; y < s->height / 2; y++) {
    for (x = 0; x < s->width / 2; x++) {
      double sx = x * 1280.0 / frame_w, sy = y * 960.0 / frame_h;
      size_t i = (size_t) y * (s->width / 2) + x;

      s->u[i] = clamp8 (128 + 70 * (fbm (sx, sy, 7) - 0.5));
      s->v[i] = clamp8 (128 + 70 * (fbm (sx, sy, 9) - 0.5));
    }
  }
  return s;
}

/* Bilinear sample of plane (w x h, stride) at (fx, fy), clamped. */
static uint8_t
sample (const uint8_t * p, int stride, int w, int h, double fx, double fy)
{
  int x0, y0, x1, y1;
  double ax, ay, top, bottom;

  fx = fx < 0 ? 0 : fx > w - 1 ? w - 1 : fx;
  fy = fy < 0 ? 0 : fy > h - 1 ? h - 1 : fy;
  x0 = (int) fx;
  y0 = (int) fy;
  x1 = x0 + 1 < w ? x0 + 1 : x0;
  y1 = y0 + 1 < h ? y0 + 1 : y0;
  ax = fx - x0;
  ay = fy - y0;
  top = p[(size_t) y0 * stride + x0] * (1 - ax) + p[(size_t) y0 * stride +
      x1] * ax;
  bottom = p[(size_t) y1 * stride + x0] * (1 - ax) + p[(size_t) y1 * stride +
      x1] * ax;
  return clamp8 (top * (1 - ay) + bottom * ay);
}

static void
scale_plane (const uint8_t * src, int stride, int pw, int ph, uint8_t * dst,
    int dw, int dh, double scale, double cx, double cy)
{
  int x, y;

  /* pixel centres: dst (x + 0.5) = src (fx + 0.5) * scale - offset */
  for (y = 0; y < dh; y++)
    for (x = 0; x < dw; x++)
      dst[(size_t) y * dw + x] = sample (src, stride, pw, ph,
          (x + 0.5 + cx) / scale - 0.5, (y + 0.5 + cy) / scale - 0.5);
}

BenchScene *
bench_scene_new_photo (const char *path, int frame_w, int frame_h,
    int margin_x, int margin_y, char **error)
{
  GstElement *pipeline, *src, *sink;
  GstSample *sample_ = NULL;
  GError *err = NULL;
  GstVideoInfo info;
  GstVideoFrame frame;
  BenchScene *s = NULL;
  double scale;
  int pw, ph;

  *error = NULL;
  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  pipeline = gst_parse_launch ("filesrc name=src ! decodebin ! videoconvert "
      "! video/x-raw,format=I420 ! appsink name=sink sync=false", &err);
  if (pipeline == NULL) {
    *error = strdup (err->message);
    g_clear_error (&err);
    return NULL;
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "location", path, NULL);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE)
    sample_ = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
        20 * GST_SECOND);
  if (sample_ == NULL || !gst_video_info_from_caps (&info,
          gst_sample_get_caps (sample_))
      || !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample_),
          GST_MAP_READ)) {
    GstMessage *msg = gst_bus_pop_filtered (GST_ELEMENT_BUS (pipeline),
        GST_MESSAGE_ERROR);
    char buf[512];

    if (msg)
      gst_message_parse_error (msg, &err, NULL);
    snprintf (buf, sizeof (buf), "cannot decode %s: %s (the default photo "
        "comes with python-matplotlib-data: pipelines/install-deps --bench)",
        path, err ? err->message : "no picture");
    *error = strdup (buf);
    g_clear_error (&err);
    if (msg)
      gst_message_unref (msg);
    goto out;
  }

  /* scale to cover the scene, keeping the aspect ratio; crop the centre */
  s = scene_alloc (frame_w, frame_h, margin_x, margin_y);
  pw = GST_VIDEO_INFO_WIDTH (&info);
  ph = GST_VIDEO_INFO_HEIGHT (&info);
  s->photo_width = pw;
  s->photo_height = ph;
  scale = MAX ((double) s->width / pw, (double) s->height / ph);
  scale_plane (GST_VIDEO_FRAME_COMP_DATA (&frame, 0),
      GST_VIDEO_FRAME_COMP_STRIDE (&frame, 0), pw, ph, s->y, s->width,
      s->height, scale, (pw * scale - s->width) / 2,
      (ph * scale - s->height) / 2);
  scale_plane (GST_VIDEO_FRAME_COMP_DATA (&frame, 1),
      GST_VIDEO_FRAME_COMP_STRIDE (&frame, 1),
      GST_VIDEO_FRAME_COMP_WIDTH (&frame, 1),
      GST_VIDEO_FRAME_COMP_HEIGHT (&frame, 1), s->u, s->width / 2,
      s->height / 2, scale, (pw * scale - s->width) / 4,
      (ph * scale - s->height) / 4);
  scale_plane (GST_VIDEO_FRAME_COMP_DATA (&frame, 2),
      GST_VIDEO_FRAME_COMP_STRIDE (&frame, 2),
      GST_VIDEO_FRAME_COMP_WIDTH (&frame, 2),
      GST_VIDEO_FRAME_COMP_HEIGHT (&frame, 2), s->v, s->width / 2,
      s->height / 2, scale, (pw * scale - s->width) / 4,
      (ph * scale - s->height) / 4);
  gst_video_frame_unmap (&frame);

out:
  if (sample_)
    gst_sample_unref (sample_);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return s;
}

void
bench_scene_free (BenchScene * s)
{
  if (s == NULL)
    return;
  free (s->y);
  free (s->u);
  free (s->v);
  free (s);
}

static uint32_t
rng (BenchNoise * n)
{
  /* xorshift32 */
  n->state ^= n->state << 13;
  n->state ^= n->state >> 17;
  n->state ^= n->state << 5;
  return n->state;
}

/* roughly Gaussian noise in [-amp, amp] (difference of two uniform values) */
static int
noise (BenchNoise * n, int amp)
{
  uint32_t r;

  if (amp <= 0)
    return 0;
  r = rng (n);
  return (int) ((r & 0xff) % (amp + 1)) - (int) (((r >> 8) & 0xff) % (amp + 1));
}

static inline uint8_t
add_clamp (uint8_t v, int d)
{
  int r = v + d;

  return r < 0 ? 0 : r > 255 ? 255 : (uint8_t) r;
}

void
bench_scene_render (const BenchScene * s, int frame_w, int frame_h, int ox,
    int oy, int luma_noise, int chroma_noise, BenchNoise * n,
    uint8_t * const planes[3], const int strides[3])
{
  int x, y, p;

  for (y = 0; y < frame_h; y++) {
    const uint8_t *src = s->y + (size_t) (y + oy) * s->width + ox;
    uint8_t *d = planes[0] + (size_t) y * strides[0];

    for (x = 0; x < frame_w; x++)
      d[x] = add_clamp (src[x], noise (n, luma_noise));
  }
  for (p = 1; p < 3; p++) {
    const uint8_t *plane = p == 1 ? s->u : s->v;

    for (y = 0; y < frame_h / 2; y++) {
      const uint8_t *src = plane + (size_t) (y + oy / 2) * (s->width / 2) +
          ox / 2;
      uint8_t *d = planes[p] + (size_t) y * strides[p];

      for (x = 0; x < frame_w / 2; x++)
        d[x] = add_clamp (src[x], noise (n, chroma_noise));
    }
  }
}

int
bench_scene_pan (int i, int k, int margin)
{
  int half = k / 2 > 0 ? k / 2 : 1, pos = i % (2 * half);
  int off = pos <= half ? pos : 2 * half - pos;

  return (int) ((long) margin * off / half) & ~1;
}
