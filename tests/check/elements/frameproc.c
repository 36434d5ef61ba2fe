/* GStreamer frameproc unit tests
 * Copyright (C) 2025 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * This library is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
 * Library General Public License for more details.
 *
 * You should have received a copy of the GNU Library General Public
 * License along with this library; if not, write to the
 * Free Software Foundation, Inc., 51 Franklin St, Fifth Floor,
 * Boston, MA 02110-1301, USA.
 */

/* Every operation is compared, byte for byte over the whole buffer (row
 * padding included), with a reference written here from the documented
 * formulas. The test keeps its own description of each pixel format (where
 * R, G, B and the padding/alpha byte sit, how the chroma planes are laid
 * out) rather than asking GstVideoInfo for component offsets, so a wrong
 * component mapping in the element cannot cancel out. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <gobject/gvaluecollector.h>

typedef enum
{
  KIND_I420,
  KIND_NV12,
  KIND_GRAY,
  KIND_RGB,
} Kind;

typedef struct
{
  const gchar *name;
  Kind kind;
  gint bpp;                     /* RGB: bytes per pixel */
  gint r, g, b, x;              /* RGB: byte of each component, x = -1: none */
} Fmt;

static const Fmt formats[] = {
  {"I420", KIND_I420, 1, 0, 0, 0, -1},
  {"NV12", KIND_NV12, 1, 0, 0, 0, -1},
  {"GRAY8", KIND_GRAY, 1, 0, 0, 0, -1},
  {"RGBx", KIND_RGB, 4, 0, 1, 2, 3},
  {"BGRx", KIND_RGB, 4, 2, 1, 0, 3},
  {"xRGB", KIND_RGB, 4, 1, 2, 3, 0},
  {"xBGR", KIND_RGB, 4, 3, 2, 1, 0},
  {"RGBA", KIND_RGB, 4, 0, 1, 2, 3},
  {"BGRA", KIND_RGB, 4, 2, 1, 0, 3},
  {"ARGB", KIND_RGB, 4, 1, 2, 3, 0},
  {"ABGR", KIND_RGB, 4, 3, 2, 1, 0},
  {"RGB", KIND_RGB, 3, 0, 1, 2, -1},
  {"BGR", KIND_RGB, 3, 2, 1, 0, -1},
};

#define N_FORMATS G_N_ELEMENTS (formats)

/* Planar model of a frame: YUV: p[0] = Y (w x h), p[1] = U, p[2] = V
 * (cw x ch); GRAY8: p[0]; RGB: p[0..2] = R, G, B and p[3] the alpha or
 * padding byte, all w x h. */
typedef struct
{
  const Fmt *fmt;
  gint w, h, cw, ch;
  guint8 *p[4];
} Img;

/* How a buffer stores the frame. meta = FALSE: GStreamer's default layout,
 * no GstVideoMeta; else custom strides described by a GstVideoMeta. */
typedef struct
{
  gboolean meta;
  gint n_planes;
  /* GST_VIDEO_MAX_PLANES entries, as gst_buffer_add_video_meta_full reads */
  gsize offset[GST_VIDEO_MAX_PLANES];
  gint stride[GST_VIDEO_MAX_PLANES];
  gsize size;
} Layout;

typedef enum
{
  LAYOUT_DEFAULT,
  LAYOUT_ODD_PADDING,           /* stride = row bytes + 13 */
  LAYOUT_ALIGNED_PADDING,       /* stride = row bytes rounded up to 64, + 64 */
  N_LAYOUTS
} LayoutKind;

typedef enum
{
  PATTERN_GRADIENT,
  PATTERN_SQUARE,
  PATTERN_CHECKERBOARD,
  PATTERN_RANDOM,
  N_PATTERNS
} Pattern;

static const gint sizes[][2] = {
  {1, 1}, {2, 2}, {3, 5}, {33, 17}, {17, 40}, {64, 48},
};

static gboolean
is_yuv (const Fmt * f)
{
  return f->kind == KIND_I420 || f->kind == KIND_NV12;
}

static gint
n_colour (const Fmt * f)
{
  return f->kind == KIND_GRAY ? 1 : 3;
}

static Img *
img_new (const Fmt * fmt, gint w, gint h)
{
  Img *img = g_new0 (Img, 1);
  gint i;

  img->fmt = fmt;
  img->w = w;
  img->h = h;
  img->cw = (w + 1) / 2;
  img->ch = (h + 1) / 2;
  for (i = 0; i < 4; i++) {
    gboolean chroma = is_yuv (fmt) && (i == 1 || i == 2);

    if (i >= n_colour (fmt) && !(fmt->kind == KIND_RGB && i == 3
            && fmt->x >= 0))
      continue;
    img->p[i] = g_malloc0 (chroma ? img->cw * img->ch : w * h);
  }
  return img;
}

static Img *
img_copy (const Img * src)
{
  Img *img = img_new (src->fmt, src->w, src->h);
  gint i;

  for (i = 0; i < 4; i++) {
    if (img->p[i]) {
      gboolean chroma = is_yuv (src->fmt) && (i == 1 || i == 2);

      memcpy (img->p[i], src->p[i], chroma ? src->cw * src->ch :
          src->w * src->h);
    }
  }
  return img;
}

static void
img_free (Img * img)
{
  gint i;

  for (i = 0; i < 4; i++)
    g_free (img->p[i]);
  g_free (img);
}

static guint8
pattern_value (Pattern pattern, gint comp, gint x, gint y, gint w, gint h,
    GRand * rand)
{
  switch (pattern) {
    case PATTERN_GRADIENT:
      return (x * 7 + y * 3 + comp * 50) & 255;
    case PATTERN_SQUARE:
      if (x >= w / 4 && x < (3 * w + 3) / 4 && y >= h / 4
          && y < (3 * h + 3) / 4)
        return 200 - comp * 20;
      return 40 + comp * 30;
    case PATTERN_CHECKERBOARD:
      return ((x / 3 + y / 3) & 1) ? 230 - comp * 5 : 20 + comp * 10;
    case PATTERN_RANDOM:
    default:
      return g_rand_int_range (rand, 0, 256);
  }
}

static Img *
img_pattern (const Fmt * fmt, gint w, gint h, Pattern pattern)
{
  Img *img = img_new (fmt, w, h);
  GRand *rand = g_rand_new_with_seed (w * 1000 + h);
  gint i, x, y;

  for (i = 0; i < 4; i++) {
    gboolean chroma = is_yuv (fmt) && (i == 1 || i == 2);
    gint pw = chroma ? img->cw : w, ph = chroma ? img->ch : h;

    if (!img->p[i])
      continue;
    for (y = 0; y < ph; y++) {
      for (x = 0; x < pw; x++) {
        img->p[i][y * pw + x] = i == 3 ? (x * 13 + y * 5 + 77) & 255 :
            pattern_value (pattern, i, x, y, pw, ph, rand);
      }
    }
  }
  g_rand_free (rand);
  return img;
}

static gint
plane_rowbytes (const Fmt * f, gint plane, gint w)
{
  gint cw = (w + 1) / 2;

  switch (f->kind) {
    case KIND_I420:
      return plane == 0 ? w : cw;
    case KIND_NV12:
      return plane == 0 ? w : 2 * cw;
    case KIND_GRAY:
      return w;
    case KIND_RGB:
    default:
      return w * f->bpp;
  }
}

static gint
plane_rows (const Fmt * f, gint plane, gint h)
{
  return plane == 0 ? h : (h + 1) / 2;
}

static gint
fmt_n_planes (const Fmt * f)
{
  return f->kind == KIND_I420 ? 3 : f->kind == KIND_NV12 ? 2 : 1;
}

static Layout
make_layout (const Fmt * f, gint w, gint h, LayoutKind kind)
{
  Layout l;
  gint p;

  memset (&l, 0, sizeof (l));
  l.n_planes = fmt_n_planes (f);
  if (kind == LAYOUT_DEFAULT) {
    GstVideoInfo info;

    fail_unless (gst_video_info_set_format (&info,
            gst_video_format_from_string (f->name), w, h));
    for (p = 0; p < l.n_planes; p++) {
      l.offset[p] = GST_VIDEO_INFO_PLANE_OFFSET (&info, p);
      l.stride[p] = GST_VIDEO_INFO_PLANE_STRIDE (&info, p);
    }
    l.size = GST_VIDEO_INFO_SIZE (&info);
    return l;
  }

  l.meta = TRUE;
  for (p = 0; p < l.n_planes; p++) {
    gint rb = plane_rowbytes (f, p, w);

    if (kind == LAYOUT_ODD_PADDING)
      l.stride[p] = rb + 13;
    else
      l.stride[p] = GST_ROUND_UP_64 (rb) + 64;
    l.offset[p] = l.size + 7;
    l.size = l.offset[p] + (gsize) l.stride[p] * plane_rows (f, p, h);
  }
  l.size += 11;
  return l;
}

/* byte of sample (x, y) of component i of img in a buffer with layout l */
static gsize
sample_offset (const Img * img, const Layout * l, gint i, gint x, gint y)
{
  const Fmt *f = img->fmt;

  switch (f->kind) {
    case KIND_I420:
      return l->offset[i] + (gsize) y *l->stride[i] + x;
    case KIND_NV12:
      if (i == 0)
        return l->offset[0] + (gsize) y *l->stride[0] + x;
      return l->offset[1] + (gsize) y *l->stride[1] + 2 * x + (i - 1);
    case KIND_GRAY:
      return l->offset[0] + (gsize) y *l->stride[0] + x;
    case KIND_RGB:
    default:{
      gint byte = i == 0 ? f->r : i == 1 ? f->g : i == 2 ? f->b : f->x;

      return l->offset[0] + (gsize) y *l->stride[0] + x * f->bpp + byte;
    }
  }
}

static void
img_to_bytes (const Img * img, const Layout * l, guint8 * data)
{
  gint i, x, y;

  memset (data, 0xEE, l->size);
  for (i = 0; i < 4; i++) {
    gboolean chroma = is_yuv (img->fmt) && (i == 1 || i == 2);
    gint pw = chroma ? img->cw : img->w, ph = chroma ? img->ch : img->h;

    if (!img->p[i])
      continue;
    for (y = 0; y < ph; y++)
      for (x = 0; x < pw; x++)
        data[sample_offset (img, l, i, x, y)] = img->p[i][y * pw + x];
  }
}

static GstBuffer *
img_to_buffer (const Img * img, const Layout * l)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, l->size, NULL);
  GstMapInfo map;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  img_to_bytes (img, l, map.data);
  gst_buffer_unmap (buf, &map);

  if (l->meta) {
    gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        gst_video_format_from_string (img->fmt->name), img->w, img->h,
        l->n_planes, (gsize *) l->offset, (gint *) l->stride);
  }
  return buf;
}

static Img *
img_from_buffer (GstBuffer * buf, const Fmt * fmt, gint w, gint h,
    const Layout * l)
{
  Img *img = img_new (fmt, w, h);
  GstMapInfo map;
  gint i, x, y;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless (map.size >= l->size);
  for (i = 0; i < 4; i++) {
    gboolean chroma = is_yuv (fmt) && (i == 1 || i == 2);
    gint pw = chroma ? img->cw : w, ph = chroma ? img->ch : h;

    if (!img->p[i])
      continue;
    for (y = 0; y < ph; y++)
      for (x = 0; x < pw; x++)
        img->p[i][y * pw + x] = map.data[sample_offset (img, l, i, x, y)];
  }
  gst_buffer_unmap (buf, &map);
  return img;
}

static gchar *
caps_string (const Fmt * fmt, gint w, gint h)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=30/1", fmt->name, w, h);
}

/* Sets name/value pairs; enum properties take their nick as a string. */
static void
set_properties (GstElement * e, const gchar * name, va_list args)
{
  while (name) {
    GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
        name);
    GValue v = G_VALUE_INIT;
    gchar *err = NULL;

    fail_unless (ps != NULL, "no property %s", name);
    if (G_IS_PARAM_SPEC_ENUM (ps)) {
      GEnumValue *ev = g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM
          (ps)->enum_class, va_arg (args, const gchar *));

      fail_unless (ev != NULL);
      g_value_init (&v, ps->value_type);
      g_value_set_enum (&v, ev->value);
    } else {
      G_VALUE_COLLECT_INIT (&v, ps->value_type, args, 0, &err);
      fail_unless (err == NULL, "%s", err);
    }
    g_object_set_property (G_OBJECT (e), name, &v);
    g_value_unset (&v);
    name = va_arg (args, const gchar *);
  }
}

static GstHarness *
harness_new (const Fmt * fmt, gint w, gint hh, const gchar * first_prop, ...)
{
  GstElement *e = gst_element_factory_make ("frameproc", NULL);
  GstHarness *h;
  gchar *caps;
  va_list args;

  fail_unless (e != NULL);
  va_start (args, first_prop);
  set_properties (e, first_prop, args);
  va_end (args);

  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  caps = caps_string (fmt, w, hh);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  return h;
}

/* Pushes buf, pulls the result and compares the whole buffer, padding
 * included, with expected laid out the same way. */
static void
push_and_compare (GstHarness * h, const Img * in, const Img * expected,
    const Layout * l, const gchar * what)
{
  GstBuffer *out;
  GstMapInfo map;
  guint8 *want;
  gsize i;

  fail_unless_equals_int (gst_harness_push (h, img_to_buffer (in, l)),
      GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);

  want = g_malloc (l->size);
  img_to_bytes (expected, l, want);
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  fail_unless (map.size >= l->size);
  for (i = 0; i < l->size; i++) {
    if (map.data[i] != want[i]) {
      fail ("%s %s %dx%d: byte %" G_GSIZE_FORMAT " is %u, expected %u",
          what, in->fmt->name, in->w, in->h, i, map.data[i], want[i]);
    }
  }
  gst_buffer_unmap (out, &map);
  gst_buffer_unref (out);
  g_free (want);
}

/* ---- reference implementations, from the documented formulas ---- */

static guint8
ref_luma (guint r, guint g, guint b)
{
  return (77 * r + 150 * g + 29 * b + 128) >> 8;
}

/* luma plane of img: Y, or L of R, G, B */
static guint8 *
ref_luma_plane (const Img * img)
{
  guint8 *l = g_malloc (img->w * img->h);
  gint i;

  for (i = 0; i < img->w * img->h; i++) {
    l[i] = img->fmt->kind == KIND_RGB ?
        ref_luma (img->p[0][i], img->p[1][i], img->p[2][i]) : img->p[0][i];
  }
  return l;
}

static void
ref_set_chroma (Img * img, guint8 v)
{
  if (is_yuv (img->fmt)) {
    memset (img->p[1], v, img->cw * img->ch);
    memset (img->p[2], v, img->cw * img->ch);
  }
}

/* writes a luma-derived value: YUV: Y, chroma neutral; RGB: R = G = B */
static void
ref_set_luma_result (Img * img, const guint8 * v)
{
  gint i;

  for (i = 0; i < img->w * img->h; i++) {
    img->p[0][i] = v[i];
    if (img->fmt->kind == KIND_RGB)
      img->p[1][i] = img->p[2][i] = v[i];
  }
  ref_set_chroma (img, 128);
}

static Img *
ref_grayscale (const Img * in)
{
  Img *out = img_copy (in);
  guint8 *l = ref_luma_plane (in);

  if (in->fmt->kind == KIND_RGB)
    ref_set_luma_result (out, l);
  else
    ref_set_chroma (out, 128);
  g_free (l);
  return out;
}

static Img *
ref_invert (const Img * in)
{
  Img *out = img_copy (in);
  gint c, i;

  for (c = 0; c < n_colour (in->fmt); c++) {
    gint n = is_yuv (in->fmt) && c > 0 ? in->cw * in->ch : in->w * in->h;

    for (i = 0; i < n; i++)
      out->p[c][i] = 255 - in->p[c][i];
  }
  return out;
}

static Img *
ref_threshold (const Img * in, guint t)
{
  Img *out = img_copy (in);
  guint8 *l = ref_luma_plane (in);
  gint i;

  for (i = 0; i < in->w * in->h; i++)
    l[i] = l[i] >= t ? 255 : 0;
  ref_set_luma_result (out, l);
  g_free (l);
  return out;
}

/* The test links no libm (the test table gives it only the GStreamer
 * libraries), so the few functions the formulas need are written out. */
static gint
ref_ceil (gdouble v)
{
  gint i = (gint) v;

  return (gdouble) i < v ? i + 1 : i;
}

static gint
ref_isqrt (gint n)
{
  gint r = 0;

  while ((r + 1) * (r + 1) <= n)
    r++;
  return r;
}

/* e^x for x <= 0: e^x = 2^k * e^f with |f| <= ln 2 / 2, Taylor series to
 * 1e-17; agrees with libm's exp to an ulp or so, far finer than the 1/4096
 * steps the weights are rounded to */
static gdouble
ref_exp (gdouble x)
{
  const gdouble ln2 = 0.69314718055994530942;
  gint k = (gint) (x / ln2 + (x < 0 ? -0.5 : 0.5));
  gdouble f = x - k * ln2, term = 1.0, sum = 1.0;
  gint i;

  for (i = 1; i < 30; i++) {
    term *= f / i;
    sum += term;
  }
  for (; k < 0; k++)
    sum /= 2.0;
  for (; k > 0; k--)
    sum *= 2.0;
  return sum;
}

static gint
ref_kernel (gdouble sigma, guint32 * w)
{
  gint r = ref_ceil (3.0 * sigma), k;
  gdouble g[64], sum = 0.0;
  guint32 side = 0;

  fail_unless (r <= 60);
  for (k = 0; k <= r; k++) {
    g[k] = ref_exp (-(gdouble) (k * k) / (2.0 * sigma * sigma));
    sum += k ? 2.0 * g[k] : g[k];
  }
  for (k = 1; k <= r; k++) {
    w[k] = (guint32) (4096.0 * g[k] / sum + 0.5);
    side += w[k];
  }
  w[0] = 4096 - 2 * side;
  return r;
}

/* direct 2D convolution with the product of the 1D weights, clamp to edge */
static void
ref_blur_plane (const guint8 * src, guint8 * dst, gint w, gint h, gdouble sigma)
{
  guint32 k[64];
  gint r = ref_kernel (sigma, k), x, y, i, j;

  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      guint64 sum = 0;

      for (j = -r; j <= r; j++) {
        gint yy = CLAMP (y + j, 0, h - 1);

        for (i = -r; i <= r; i++) {
          gint xx = CLAMP (x + i, 0, w - 1);

          sum += (guint64) k[ABS (i)] * k[ABS (j)] * src[yy * w + xx];
        }
      }
      dst[y * w + x] = (sum + (1 << 23)) >> 24;
    }
  }
}

static Img *
ref_blur (const Img * in, gdouble sigma)
{
  Img *out = img_copy (in);
  gint c;

  for (c = 0; c < (in->fmt->kind == KIND_RGB ? 3 : 1); c++)
    ref_blur_plane (in->p[c], out->p[c], in->w, in->h, sigma);
  return out;
}

static Img *
ref_edges (const Img * in)
{
  Img *out = img_copy (in);
  guint8 *l = ref_luma_plane (in);
  guint8 *m = g_malloc (in->w * in->h);
  gint x, y, w = in->w, h = in->h;

#define L(xx,yy) ((gint) l[CLAMP (yy, 0, h - 1) * w + CLAMP (xx, 0, w - 1)])
  for (y = 0; y < h; y++) {
    for (x = 0; x < w; x++) {
      gint gx = -L (x - 1, y - 1) + L (x + 1, y - 1)
          - 2 * L (x - 1, y) + 2 * L (x + 1, y)
          - L (x - 1, y + 1) + L (x + 1, y + 1);
      gint gy = -L (x - 1, y - 1) - 2 * L (x, y - 1) - L (x + 1, y - 1)
          + L (x - 1, y + 1) + 2 * L (x, y + 1) + L (x + 1, y + 1);
      gint mag = ref_isqrt (gx * gx + gy * gy);

      m[y * w + x] = MIN (mag, 255);
    }
  }
#undef L
  ref_set_luma_result (out, m);
  g_free (l);
  g_free (m);
  return out;
}

typedef enum
{
  OP_PASSTHROUGH,
  OP_GRAYSCALE,
  OP_INVERT,
  OP_BLUR,
  OP_EDGES,
  OP_THRESHOLD,
} RefOp;

static const gchar *op_names[] = {
  "passthrough", "grayscale", "invert", "blur", "edges", "threshold",
};

#define TEST_SIGMA 1.3
#define TEST_THRESHOLD 100

static Img *
ref_apply (RefOp op, const Img * in, gdouble sigma)
{
  switch (op) {
    case OP_GRAYSCALE:
      return ref_grayscale (in);
    case OP_INVERT:
      return ref_invert (in);
    case OP_BLUR:
      return ref_blur (in, sigma);
    case OP_EDGES:
      return ref_edges (in);
    case OP_THRESHOLD:
      return ref_threshold (in, TEST_THRESHOLD);
    case OP_PASSTHROUGH:
    default:
      return img_copy (in);
  }
}

/* Every format, size, layout and pattern, on one thread. */
static void
check_operation (RefOp op)
{
  guint f, s, l, p;

  for (f = 0; f < N_FORMATS; f++) {
    for (s = 0; s < G_N_ELEMENTS (sizes); s++) {
      gint w = sizes[s][0], hh = sizes[s][1];
      GstHarness *h = harness_new (&formats[f], w, hh, "operation",
          op_names[op], "sigma", TEST_SIGMA, "threshold", TEST_THRESHOLD,
          "n-threads", 1, NULL);

      for (l = 0; l < N_LAYOUTS; l++) {
        Layout layout = make_layout (&formats[f], w, hh, l);

        for (p = 0; p < N_PATTERNS; p++) {
          Img *in = img_pattern (&formats[f], w, hh, p);
          Img *want = ref_apply (op, in, TEST_SIGMA);

          push_and_compare (h, in, want, &layout, op_names[op]);
          img_free (in);
          img_free (want);
        }
      }
      gst_harness_teardown (h);
    }
  }
}

GST_START_TEST (test_passthrough)
{
  check_operation (OP_PASSTHROUGH);
}

GST_END_TEST;

GST_START_TEST (test_grayscale)
{
  check_operation (OP_GRAYSCALE);
}

GST_END_TEST;

GST_START_TEST (test_invert)
{
  check_operation (OP_INVERT);
}

GST_END_TEST;

GST_START_TEST (test_threshold)
{
  check_operation (OP_THRESHOLD);
}

GST_END_TEST;

GST_START_TEST (test_threshold_limits)
{
  /* threshold 0: everything white; 255: only luma 255 is white */
  const guint ts[] = { 0, 255 };
  guint f, t;

  for (t = 0; t < G_N_ELEMENTS (ts); t++) {
    for (f = 0; f < N_FORMATS; f++) {
      GstHarness *h = harness_new (&formats[f], 33, 17, "operation",
          "threshold", "threshold", ts[t], NULL);
      Layout layout = make_layout (&formats[f], 33, 17, LAYOUT_ODD_PADDING);
      Img *in = img_pattern (&formats[f], 33, 17, PATTERN_RANDOM);
      Img *want = ref_threshold (in, ts[t]);

      push_and_compare (h, in, want, &layout, "threshold limits");
      img_free (in);
      img_free (want);
      gst_harness_teardown (h);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_blur)
{
  check_operation (OP_BLUR);
}

GST_END_TEST;

GST_START_TEST (test_blur_kernel_larger_than_frame)
{
  /* radius 60 and 3 on frames down to 1x1: clamp to edge, no overread */
  const gdouble sigmas[] = { 20.0, 1.0, 0.1 };
  const gint small[][2] = { {1, 1}, {1, 7}, {7, 1}, {2, 2}, {5, 3} };
  guint f, s, k;

  for (k = 0; k < G_N_ELEMENTS (sigmas); k++) {
    for (f = 0; f < N_FORMATS; f++) {
      for (s = 0; s < G_N_ELEMENTS (small); s++) {
        gint w = small[s][0], hh = small[s][1];
        GstHarness *h = harness_new (&formats[f], w, hh, "operation", "blur",
            "sigma", sigmas[k], "n-threads", 2, NULL);
        Layout layout = make_layout (&formats[f], w, hh, LAYOUT_ODD_PADDING);
        Img *in = img_pattern (&formats[f], w, hh, PATTERN_RANDOM);
        Img *want = ref_blur (in, sigmas[k]);

        push_and_compare (h, in, want, &layout, "blur small");
        img_free (in);
        img_free (want);
        gst_harness_teardown (h);
      }
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_blur_sigma_change_while_playing)
{
  const Fmt *fmt = &formats[0];
  GstHarness *h = harness_new (fmt, 40, 36, "operation", "blur", "sigma",
      1.0, NULL);
  Layout layout = make_layout (fmt, 40, 36, LAYOUT_DEFAULT);
  Img *in = img_pattern (fmt, 40, 36, PATTERN_CHECKERBOARD);
  Img *want = ref_blur (in, 1.0);

  push_and_compare (h, in, want, &layout, "blur sigma 1");
  img_free (want);

  g_object_set (h->element, "sigma", 4.5, NULL);
  want = ref_blur (in, 4.5);
  push_and_compare (h, in, want, &layout, "blur sigma 4.5");
  img_free (want);
  img_free (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_edges)
{
  check_operation (OP_EDGES);
}

GST_END_TEST;

/* ---- motion ---- */

#define MW 160
#define MH 120
#define SQ 24

/* Camera-ish static scene: luma 60..99, the same value in R, G and B (so L
 * equals it exactly) or in Y with neutral chroma. A square SQ x SQ with
 * vertical stripes 130/230 sits at (sx, sy) when sx >= 0; the stripes move
 * with it, so shifting it by an odd number of columns changes every pixel
 * it covers. */
static Img *
motion_scene (const Fmt * fmt, gint sx, gint sy, gint noise, GRand * rand)
{
  Img *img = img_new (fmt, MW, MH);
  gint x, y, c;

  for (y = 0; y < MH; y++) {
    for (x = 0; x < MW; x++) {
      gint v = 60 + (x + 2 * y) % 40;

      if (sx >= 0 && x >= sx && x < sx + SQ && y >= sy && y < sy + SQ)
        v = ((x - sx) & 1) ? 130 : 230;
      if (noise)
        v = CLAMP (v + g_rand_int_range (rand, -noise, noise + 1), 0, 255);
      for (c = 0; c < n_colour (fmt); c++) {
        if (c == 0 || fmt->kind == KIND_RGB)
          img->p[c][y * MW + x] = v;
      }
      if (img->p[3])
        img->p[3][y * MW + x] = 0x33;
    }
  }
  if (is_yuv (fmt)) {
    memset (img->p[1], 128, img->cw * img->ch);
    memset (img->p[2], 128, img->cw * img->ch);
  }
  return img;
}

static GstBuffer *
push_frame (GstHarness * h, Img * img, const Layout * l, guint64 n)
{
  GstBuffer *buf = img_to_buffer (img, l);

  GST_BUFFER_OFFSET (buf) = n;
  GST_BUFFER_PTS (buf) = n * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);
  return buf;
}

static guint
count_rois (GstBuffer * buf, GstVideoRegionOfInterestMeta ** first)
{
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  *first = NULL;
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;

    fail_unless_equals_string (g_quark_to_string (roi->roi_type), "motion");
    fail_unless (gst_video_region_of_interest_meta_get_param (roi,
            "motion") != NULL);
    if (!*first)
      *first = roi;
    n++;
  }
  return n;
}

static void
assert_box_near (GstVideoRegionOfInterestMeta * roi, gint x, gint y, gint w,
    gint h, const gchar * what)
{
  fail_unless (roi != NULL, "%s: no region", what);
  fail_unless (ABS ((gint) roi->x - x) <= 2 && ABS ((gint) roi->y - y) <= 2
      && ABS ((gint) roi->w - w) <= 2 && ABS ((gint) roi->h - h) <= 2,
      "%s: box %u,%u %ux%u, truth %d,%d %dx%d", what, roi->x, roi->y,
      roi->w, roi->h, x, y, w, h);
}

/* Background reference frozen at the first frame: the mask is the square */
GST_START_TEST (test_motion_square_background)
{
  guint f, i;

  for (f = 0; f < N_FORMATS; f++) {
    const Fmt *fmt = &formats[f];
    GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
        "learning-rate", 0.0, "n-threads", 2, NULL);
    Layout layout = make_layout (fmt, MW, MH, LAYOUT_ODD_PADDING);
    GstVideoRegionOfInterestMeta *roi;
    GstBuffer *out;
    Img *img;

    img = motion_scene (fmt, -1, 0, 0, NULL);
    out = push_frame (h, img, &layout, 0);
    fail_unless_equals_int (count_rois (out, &roi), 0);
    gst_buffer_unref (out);
    img_free (img);

    for (i = 0; i < 20; i++) {
      gint sx = 10 + 5 * i, sy = 10 + 3 * i;
      GstStructure *param;
      gdouble score;

      img = motion_scene (fmt, sx, sy, 0, NULL);
      out = push_frame (h, img, &layout, i + 1);
      fail_unless_equals_int (count_rois (out, &roi), 1);
      assert_box_near (roi, sx, sy, SQ, SQ, fmt->name);
      param = gst_video_region_of_interest_meta_get_param (roi, "motion");
      fail_unless (gst_structure_get_double (param, "score", &score));
      fail_unless (score > 0.9 && score <= 1.0);
      gst_buffer_unref (out);
      img_free (img);
    }
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Previous-frame reference: old and new position together */
GST_START_TEST (test_motion_square_previous)
{
  guint f, i;

  for (f = 0; f < N_FORMATS; f++) {
    const Fmt *fmt = &formats[f];
    GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
        "motion-reference", "previous", NULL);
    Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
    GstVideoRegionOfInterestMeta *roi;
    GstBuffer *out;
    Img *img;

    for (i = 0; i < 20; i++) {
      gint sx = 10 + 3 * i, sy = 80 - 2 * i;

      img = motion_scene (fmt, sx, sy, 0, NULL);
      out = push_frame (h, img, &layout, i);
      if (i == 0) {
        fail_unless_equals_int (count_rois (out, &roi), 0);
      } else {
        fail_unless_equals_int (count_rois (out, &roi), 1);
        /* union of (sx - 3, sy + 2) and (sx, sy) */
        assert_box_near (roi, sx - 3, sy, SQ + 3, SQ + 2, fmt->name);
      }
      gst_buffer_unref (out);
      img_free (img);
    }
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Two squares far apart are two regions; ordered top to bottom. */
GST_START_TEST (test_motion_two_regions)
{
  const Fmt *fmt = &formats[0];
  GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
      "learning-rate", 0.0, NULL);
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  GstMeta *meta;
  GstBuffer *out;
  Img *img;
  gint x, y, n = 0;

  img = motion_scene (fmt, -1, 0, 0, NULL);
  gst_buffer_unref (push_frame (h, img, &layout, 0));
  /* a second, solid square at (120, 80) drawn over the first scene */
  img_free (img);
  img = motion_scene (fmt, 8, 6, 0, NULL);
  for (y = 80; y < 100; y++)
    for (x = 120; x < 150; x++)
      img->p[0][y * MW + x] = 250;
  out = push_frame (h, img, &layout, 1);
  fail_unless_equals_int (count_rois (out, &roi), 2);
  while ((meta = gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    roi = (GstVideoRegionOfInterestMeta *) meta;
    if (n++ == 0)
      assert_box_near (roi, 8, 6, SQ, SQ, "first");
    else
      assert_box_near (roi, 120, 80, 30, 20, "second");
  }
  gst_buffer_unref (out);
  img_free (img);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_motion_min_area)
{
  const Fmt *fmt = &formats[2];
  GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
      "learning-rate", 0.0, "min-area", SQ * SQ + 1, NULL);
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  GstVideoRegionOfInterestMeta *roi;
  GstBuffer *out;
  Img *img;

  img = motion_scene (fmt, -1, 0, 0, NULL);
  gst_buffer_unref (push_frame (h, img, &layout, 0));
  img_free (img);

  img = motion_scene (fmt, 30, 30, 0, NULL);
  out = push_frame (h, img, &layout, 1);
  fail_unless_equals_int (count_rois (out, &roi), 0);
  gst_buffer_unref (out);

  g_object_set (h->element, "min-area", SQ * SQ, NULL);
  out = push_frame (h, img, &layout, 2);
  fail_unless_equals_int (count_rois (out, &roi), 1);
  gst_buffer_unref (out);
  img_free (img);
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstBus *
harness_bus (GstHarness * h)
{
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  return bus;
}

static guint
count_element_messages (GstBus * bus, const gchar * name)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (msg, name))
      n++;
    gst_message_unref (msg);
  }
  return n;
}

static void
check_static_scene (gint noise, const gchar * reference)
{
  guint f, i;

  for (f = 0; f < N_FORMATS; f++) {
    const Fmt *fmt = &formats[f];
    GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
        "motion-reference", reference, "sensitivity", 25, "min-area", 0,
        NULL);
    GstBus *bus = harness_bus (h);
    Layout layout = make_layout (fmt, MW, MH, LAYOUT_ALIGNED_PADDING);
    GRand *rand = g_rand_new_with_seed (42);
    GstVideoRegionOfInterestMeta *roi;
    GstStructure *stats;
    gdouble score;

    for (i = 0; i < 15; i++) {
      Img *img = motion_scene (fmt, 50, 40, noise, rand);
      GstBuffer *out = push_frame (h, img, &layout, i);

      fail_unless_equals_int (count_rois (out, &roi), 0);
      gst_buffer_unref (out);
      img_free (img);
      g_object_get (h->element, "stats", &stats, NULL);
      fail_unless (gst_structure_get_double (stats, "last-motion-score",
              &score));
      fail_unless_equals_float (score, 0.0);
      gst_structure_free (stats);
    }
    fail_unless_equals_int (count_element_messages (bus, "frameproc-motion"),
        0);
    g_rand_free (rand);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
}

GST_START_TEST (test_motion_static_scene)
{
  check_static_scene (0, "background");
  check_static_scene (0, "previous");
}

GST_END_TEST;

/* Noise of +-12 never moves a pixel more than 24 from any average of past
 * frames or from the previous frame: below sensitivity 25. */
GST_START_TEST (test_motion_noise_below_sensitivity)
{
  check_static_scene (12, "background");
  check_static_scene (12, "previous");
}

GST_END_TEST;

/* A pixel changed when |luma - reference| > sensitivity, not >= */
GST_START_TEST (test_motion_sensitivity_boundary)
{
  const guint which[] = { 0, 2, 3, 11 };
  guint f, step;

  for (f = 0; f < G_N_ELEMENTS (which); f++) {
    const Fmt *fmt = &formats[which[f]];
    GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
        "learning-rate", 0.0, "sensitivity", 25, NULL);
    Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
    GstVideoRegionOfInterestMeta *roi;

    for (step = 0; step < 3; step++) {
      /* 0: reference, 1: everything 25 brighter, 2: 26 brighter */
      Img *img = motion_scene (fmt, -1, 0, 0, NULL);
      GstBuffer *out;
      gint i, c;

      for (c = 0; c < n_colour (fmt); c++) {
        if (c > 0 && fmt->kind != KIND_RGB)
          break;
        for (i = 0; i < MW * MH; i++)
          img->p[c][i] += step == 0 ? 0 : 24 + step;
      }
      out = push_frame (h, img, &layout, step);
      fail_unless_equals_int (count_rois (out, &roi), step == 2 ? 1 : 0);
      if (step == 2)
        assert_box_near (roi, 0, 0, MW, MH, fmt->name);
      gst_buffer_unref (out);
      img_free (img);
    }
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_motion_start_stop_messages)
{
  const Fmt *fmt = &formats[1];
  GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
      "motion-reference", "previous", NULL);
  GstBus *bus = harness_bus (h);
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  GstMessage *msg;
  const GstStructure *s;
  gboolean motion;
  guint64 frame, ts;
  gdouble score;
  guint i, n = 0;

  /* frames 0-4 still, 5-14 moving, 15-19 still again */
  for (i = 0; i < 20; i++) {
    gint k = CLAMP ((gint) i, 4, 14) - 4;
    Img *img = motion_scene (fmt, 20 + 5 * k, 30, 0, NULL);

    gst_buffer_unref (push_frame (h, img, &layout, i));
    img_free (img);
  }

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "frameproc-motion")) {
      fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (h->element));
      fail_unless (gst_structure_get_boolean (s, "motion", &motion));
      fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
      fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
      fail_unless (gst_structure_get_double (s, "score", &score));
      fail_unless (gst_structure_has_field_typed (s, "stream-time",
              G_TYPE_UINT64));
      fail_unless (gst_structure_has_field_typed (s, "running-time",
              G_TYPE_UINT64));
      fail_unless (gst_structure_has_field_typed (s, "duration",
              G_TYPE_UINT64));
      if (n == 0) {
        fail_unless (motion);
        fail_unless_equals_uint64 (frame, 5);
        fail_unless_equals_uint64 (ts, 5 * GST_SECOND / 30);
        fail_unless (score > 0.0);
      } else {
        fail_unless (!motion);
        fail_unless_equals_uint64 (frame, 15);
        fail_unless_equals_float (score, 0.0);
      }
      n++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n, 2);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_motion_draw)
{
  const guint which[] = { 0, 1, 2, 3, 5, 11, 12 };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (which); f++) {
    const Fmt *fmt = &formats[which[f]];
    GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
        "learning-rate", 0.0, "draw", TRUE, NULL);
    Layout layout = make_layout (fmt, MW, MH, LAYOUT_ODD_PADDING);
    GstVideoRegionOfInterestMeta *roi;
    GstBuffer *out;
    Img *img, *res;
    gint x0 = 40, y0 = 50, i;

    img = motion_scene (fmt, -1, 0, 0, NULL);
    gst_buffer_unref (push_frame (h, img, &layout, 0));
    img_free (img);

    img = motion_scene (fmt, x0, y0, 0, NULL);
    out = push_frame (h, img, &layout, 1);
    fail_unless_equals_int (count_rois (out, &roi), 1);
    assert_box_near (roi, x0, y0, SQ, SQ, fmt->name);
    res = img_from_buffer (out, fmt, MW, MH, &layout);

    /* the outline: two pixels inside every edge of the box */
    for (i = 0; i < (gint) roi->w; i++) {
      gint idx = roi->y * MW + roi->x + i;
      gint idx2 = (roi->y + roi->h - 2) * MW + roi->x + i;

      if (fmt->kind == KIND_RGB) {
        fail_unless_equals_int (res->p[0][idx], 0);
        fail_unless_equals_int (res->p[1][idx], 255);
        fail_unless_equals_int (res->p[2][idx], 0);
        fail_unless_equals_int (res->p[1][idx2], 255);
        fail_unless_equals_int (res->p[3] ? res->p[3][idx] : 0x33, 0x33);
      } else if (fmt->kind == KIND_GRAY) {
        fail_unless_equals_int (res->p[0][idx], 255);
      } else {
        fail_unless_equals_int (res->p[0][idx], 145);
        fail_unless_equals_int (res->p[1][(roi->y / 2) * res->cw +
                (roi->x + i) / 2], 54);
        fail_unless_equals_int (res->p[2][(roi->y / 2) * res->cw +
                (roi->x + i) / 2], 34);
      }
    }
    /* outside the box and the middle of it untouched */
    fail_unless_equals_int (res->p[0][(roi->y - 1) * MW + roi->x],
        img->p[0][(roi->y - 1) * MW + roi->x]);
    fail_unless_equals_int (res->p[0][(roi->y + 10) * MW + roi->x + 10],
        img->p[0][(roi->y + 10) * MW + roi->x + 10]);

    img_free (res);
    img_free (img);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* ---- messages, stats, properties ---- */

GST_START_TEST (test_frame_messages)
{
  const Fmt *fmt = &formats[3];
  GstHarness *h = harness_new (fmt, MW, MH, "operation", "motion",
      "learning-rate", 0.0, "post-messages", TRUE, NULL);
  GstBus *bus = harness_bus (h);
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  GstMessage *msg;
  guint i, n = 0;

  for (i = 0; i < 3; i++) {
    Img *img = motion_scene (fmt, i == 0 ? -1 : 30 + 4 * (gint) i, 40, 0,
        NULL);

    gst_buffer_unref (push_frame (h, img, &layout, 100 + i));
    img_free (img);
  }

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    guint64 frame, ts, dur, pt, rt, st;
    const GValue *regions;
    gdouble score;

    if (!gst_structure_has_name (s, "frameproc")) {
      gst_message_unref (msg);
      continue;
    }
    fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
    fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
    fail_unless (gst_structure_get_uint64 (s, "duration", &dur));
    fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
    fail_unless (gst_structure_get_uint64 (s, "stream-time", &st));
    fail_unless (gst_structure_get_uint64 (s, "processing-time", &pt));
    fail_unless (gst_structure_get_double (s, "motion-score", &score));
    regions = gst_structure_get_value (s, "regions");
    fail_unless (regions && GST_VALUE_HOLDS_LIST (regions));

    fail_unless_equals_uint64 (frame, 100 + n);
    fail_unless_equals_uint64 (ts, (100 + n) * GST_SECOND / 30);
    fail_unless_equals_uint64 (rt, ts);
    fail_unless_equals_uint64 (st, ts);
    fail_unless_equals_uint64 (dur, GST_SECOND / 30);
    fail_unless (pt < GST_SECOND);
    if (n == 0) {
      fail_unless_equals_int (gst_value_list_get_size (regions), 0);
      fail_unless_equals_float (score, 0.0);
    } else {
      const GstStructure *r =
          gst_value_get_structure (gst_value_list_get_value (regions, 0));
      guint x, y, w, hh, area;
      gint id;

      fail_unless_equals_int (gst_value_list_get_size (regions), 1);
      fail_unless (gst_structure_get (r, "id", G_TYPE_INT, &id, "x",
              G_TYPE_UINT, &x, "y", G_TYPE_UINT, &y, "width", G_TYPE_UINT,
              &w, "height", G_TYPE_UINT, &hh, "area", G_TYPE_UINT, &area,
              NULL));
      fail_unless_equals_int (id, 1);
      fail_unless (ABS ((gint) x - (gint) (30 + 4 * n)) <= 2);
      fail_unless (ABS ((gint) y - 40) <= 2);
      fail_unless (ABS ((gint) w - SQ) <= 2 && ABS ((gint) hh - SQ) <= 2);
      fail_unless_equals_int (area, SQ * SQ);
      fail_unless_equals_float (score, (gdouble) (SQ * SQ) / (MW * MH));
    }
    n++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n, 3);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_no_frame_messages_by_default)
{
  const Fmt *fmt = &formats[0];
  GstHarness *h = harness_new (fmt, 32, 32, "operation", "edges", NULL);
  GstBus *bus = harness_bus (h);
  Layout layout = make_layout (fmt, 32, 32, LAYOUT_DEFAULT);
  Img *img = img_pattern (fmt, 32, 32, PATTERN_SQUARE);
  guint i;

  for (i = 0; i < 5; i++)
    gst_buffer_unref (push_frame (h, img, &layout, i));
  fail_unless_equals_int (count_element_messages (bus, "frameproc"), 0);

  img_free (img);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_stats)
{
  const Fmt *fmt = &formats[0];
  GstHarness *h = harness_new (fmt, 64, 48, "operation", "blur", NULL);
  Layout layout = make_layout (fmt, 64, 48, LAYOUT_DEFAULT);
  Img *img = img_pattern (fmt, 64, 48, PATTERN_GRADIENT);
  GstStructure *stats;
  guint64 frames, last, avg;
  gdouble score;
  guint i;

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_has_name (stats, "frameproc-stats"));
  fail_unless (gst_structure_get_uint64 (stats, "frames", &frames));
  fail_unless_equals_uint64 (frames, 0);
  gst_structure_free (stats);

  for (i = 0; i < 7; i++)
    gst_buffer_unref (push_frame (h, img, &layout, i));

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get (stats, "frames", G_TYPE_UINT64, &frames,
          "last-processing-time", G_TYPE_UINT64, &last,
          "average-processing-time", G_TYPE_UINT64, &avg,
          "last-motion-score", G_TYPE_DOUBLE, &score, NULL));
  fail_unless_equals_uint64 (frames, 7);
  fail_unless (last > 0 && last < GST_SECOND);
  fail_unless (avg > 0 && avg < GST_SECOND);
  fail_unless_equals_float (score, 0.0);
  gst_structure_free (stats);

  /* kept after stop */
  gst_element_set_state (h->element, GST_STATE_NULL);
  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "frames", &frames));
  fail_unless_equals_uint64 (frames, 7);
  gst_structure_free (stats);

  img_free (img);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_unsupported_caps_refused)
{
  const gchar *refused[] = {
    "video/x-raw,format=YUY2,width=32,height=32,framerate=30/1",
    "video/x-raw,format=I420_10LE,width=32,height=32,framerate=30/1",
    "video/x-raw,format=GRAY16_LE,width=32,height=32,framerate=30/1",
    "video/x-raw(memory:GLMemory),format=RGBA,width=32,height=32",
    "audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (refused); i++) {
    GstHarness *h = gst_harness_new ("frameproc");
    GstCaps *caps = gst_caps_from_string (refused[i]);
    GstPad *sink = gst_element_get_static_pad (h->element, "sink");
    GstSegment segment;

    fail_if (gst_pad_query_accept_caps (sink, caps), "%s accepted", refused[i]);
    fail_unless (gst_harness_push_event (h,
            gst_event_new_stream_start ("test")));
    /* a sticky event is stored whether or not the element takes it; the
     * first buffer tells */
    gst_harness_push_event (h, gst_event_new_caps (caps));
    gst_segment_init (&segment, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
    fail_unless_equals_int (gst_harness_push (h,
            gst_buffer_new_allocate (NULL, 32 * 32 * 2, NULL)),
        GST_FLOW_NOT_NEGOTIATED);
    gst_caps_unref (caps);
    gst_object_unref (sink);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_supported_caps_accepted)
{
  guint f;

  for (f = 0; f < N_FORMATS; f++) {
    GstHarness *h = gst_harness_new ("frameproc");
    gchar *str = caps_string (&formats[f], 7, 3);
    GstCaps *caps = gst_caps_from_string (str);
    GstPad *sink = gst_element_get_static_pad (h->element, "sink");

    fail_unless (gst_pad_query_accept_caps (sink, caps), "%s refused", str);
    gst_caps_unref (caps);
    gst_object_unref (sink);
    g_free (str);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_property_ranges)
{
  GstElement *e = gst_element_factory_make ("frameproc", NULL);
  GObjectClass *klass = G_OBJECT_GET_CLASS (e);
  struct
  {
    const gchar *name;
    GType type;
    gdouble bad;
  } cases[] = {
    {"sigma", G_TYPE_DOUBLE, 0.0},
    {"sigma", G_TYPE_DOUBLE, 20.5},
    {"learning-rate", G_TYPE_DOUBLE, -0.1},
    {"learning-rate", G_TYPE_DOUBLE, 1.5},
    {"threshold", G_TYPE_UINT, 256},
    {"sensitivity", G_TYPE_UINT, 300},
    {"min-area", G_TYPE_UINT, (gdouble) G_MAXINT + 1.0},
    {"n-threads", G_TYPE_UINT, 65},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GParamSpec *pspec = g_object_class_find_property (klass, cases[i].name);
    GValue before = G_VALUE_INIT, after = G_VALUE_INIT, bad = G_VALUE_INIT;

    fail_unless (pspec != NULL);
    g_value_init (&bad, cases[i].type);
    if (cases[i].type == G_TYPE_DOUBLE)
      g_value_set_double (&bad, cases[i].bad);
    else
      g_value_set_uint (&bad, (guint) cases[i].bad);

    /* the GParamSpec rejects (clamps) the value ... */
    {
      GValue v = G_VALUE_INIT;

      g_value_init (&v, cases[i].type);
      g_value_copy (&bad, &v);
      fail_unless (g_param_value_validate (pspec, &v),
          "%s accepts %f", cases[i].name, cases[i].bad);
      g_value_unset (&v);
    }

    /* ... and setting it warns and leaves the property alone */
    g_value_init (&before, cases[i].type);
    g_value_init (&after, cases[i].type);
    g_object_get_property (G_OBJECT (e), cases[i].name, &before);
    ASSERT_WARNING (g_object_set_property (G_OBJECT (e), cases[i].name, &bad));
    g_object_get_property (G_OBJECT (e), cases[i].name, &after);
    fail_unless (gst_value_compare (&before, &after) == GST_VALUE_EQUAL,
        "%s changed to an invalid value", cases[i].name);
    g_value_unset (&before);
    g_value_unset (&after);
    g_value_unset (&bad);
  }

  /* enums: an unknown value is rejected too */
  ASSERT_WARNING (g_object_set (e, "operation", 42, NULL));
  ASSERT_WARNING (g_object_set (e, "motion-reference", 2, NULL));

  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_property_docs_and_flags)
{
  GstElement *e = gst_element_factory_make ("frameproc", NULL);
  GParamSpec **specs;
  guint n, i;
  const gchar *live[] = { "operation", "sigma", "threshold",
    "motion-reference", "learning-rate", "sensitivity", "min-area", "draw",
    "post-messages",
  };

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  for (i = 0; i < n; i++) {
    const gchar *blurb = g_param_spec_get_blurb (specs[i]);

    fail_unless (blurb != NULL && strlen (blurb) > 5, "%s undocumented",
        specs[i]->name);
    if (specs[i]->owner_type == G_OBJECT_TYPE (e))
      fail_unless (specs[i]->flags & G_PARAM_STATIC_STRINGS);
  }
  g_free (specs);

  for (i = 0; i < G_N_ELEMENTS (live); i++) {
    GParamSpec *p = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
        live[i]);

    fail_unless (p->flags & GST_PARAM_MUTABLE_PLAYING, "%s", live[i]);
    fail_unless (p->flags & GST_PARAM_CONTROLLABLE, "%s", live[i]);
  }
  fail_unless (g_object_class_find_property (G_OBJECT_GET_CLASS (e),
          "n-threads")->flags & GST_PARAM_MUTABLE_READY);
  fail_if (g_object_class_find_property (G_OBJECT_GET_CLASS (e),
          "stats")->flags & G_PARAM_WRITABLE);
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- threads ---- */

/* Runs the same frames through n-threads=1 and n-threads=n, every format,
 * and requires identical buffers. Motion uses a moving square so regions,
 * metas and the drawn boxes are compared too. */
static void
check_threads_identical (const gchar * op, const gchar * extra_prop,
    const gchar * extra_value)
{
  const gint dims[][2] = { {203, 157}, {96, 200} };
  const guint threads[] = { 2, 3, 4 };
  guint f, d, t, i;

  for (f = 0; f < N_FORMATS; f++) {
    for (d = 0; d < G_N_ELEMENTS (dims); d++) {
      for (t = 0; t < G_N_ELEMENTS (threads); t++) {
        const Fmt *fmt = &formats[f];
        gint w = dims[d][0], hh = dims[d][1];
        GstHarness *h1 = harness_new (fmt, w, hh, "operation", op,
            "n-threads", 1, "draw", TRUE, "min-area", 0, extra_prop,
            extra_value, NULL);
        GstHarness *hn = harness_new (fmt, w, hh, "operation", op,
            "n-threads", threads[t], "draw", TRUE, "min-area", 0,
            extra_prop, extra_value, NULL);
        Layout layout = make_layout (fmt, w, hh, LAYOUT_ODD_PADDING);
        Img *bg = img_pattern (fmt, w, hh, PATTERN_RANDOM);

        for (i = 0; i < 4; i++) {
          Img *img = img_copy (bg);
          GstBuffer *b1, *bn;
          GstMapInfo m1, mn;
          gint x, y;
          guint n1, nn;
          GstVideoRegionOfInterestMeta *r1, *rn;

          /* a bright block moving down through the band boundaries */
          for (y = 10 + 30 * (gint) i; y < MIN (hh, 60 + 30 * (gint) i); y++)
            for (x = 20 + 7 * (gint) i; x < MIN (w, 70 + 7 * (gint) i); x++)
              img->p[0][y * w + x] = 255;

          b1 = push_frame (h1, img, &layout, i);
          bn = push_frame (hn, img, &layout, i);
          fail_unless (gst_buffer_map (b1, &m1, GST_MAP_READ));
          fail_unless (gst_buffer_map (bn, &mn, GST_MAP_READ));
          fail_unless (m1.size == mn.size);
          fail_unless (memcmp (m1.data, mn.data, m1.size) == 0,
              "%s %s %dx%d: %u threads differ from 1", op, fmt->name, w, hh,
              threads[t]);
          gst_buffer_unmap (b1, &m1);
          gst_buffer_unmap (bn, &mn);

          n1 = count_rois (b1, &r1);
          nn = count_rois (bn, &rn);
          fail_unless_equals_int (n1, nn);
          if (n1 > 0) {
            fail_unless (r1->x == rn->x && r1->y == rn->y && r1->w == rn->w
                && r1->h == rn->h);
          }
          gst_buffer_unref (b1);
          gst_buffer_unref (bn);
          img_free (img);
        }
        img_free (bg);
        gst_harness_teardown (h1);
        gst_harness_teardown (hn);
      }
    }
  }
}

GST_START_TEST (test_threads_grayscale)
{
  check_threads_identical ("grayscale", NULL, NULL);
}

GST_END_TEST;

GST_START_TEST (test_threads_invert)
{
  check_threads_identical ("invert", NULL, NULL);
}

GST_END_TEST;

GST_START_TEST (test_threads_threshold)
{
  check_threads_identical ("threshold", NULL, NULL);
}

GST_END_TEST;

GST_START_TEST (test_threads_blur)
{
  check_threads_identical ("blur", NULL, NULL);
}

GST_END_TEST;

GST_START_TEST (test_threads_edges)
{
  check_threads_identical ("edges", NULL, NULL);
}

GST_END_TEST;

GST_START_TEST (test_threads_motion_background)
{
  check_threads_identical ("motion", "motion-reference", "background");
}

GST_END_TEST;

GST_START_TEST (test_threads_motion_previous)
{
  check_threads_identical ("motion", "motion-reference", "previous");
}

GST_END_TEST;

GST_START_TEST (test_threads_blur_matches_reference)
{
  /* the multi-threaded blur is also the documented blur, at a size with
   * several bands */
  const Fmt *fmt = &formats[0];
  GstHarness *h = harness_new (fmt, 131, 190, "operation", "blur", "sigma",
      2.2, "n-threads", 4, NULL);
  Layout layout = make_layout (fmt, 131, 190, LAYOUT_ALIGNED_PADDING);
  Img *in = img_pattern (fmt, 131, 190, PATTERN_RANDOM);
  Img *want = ref_blur (in, 2.2);

  push_and_compare (h, in, want, &layout, "blur 4 threads");
  img_free (in);
  img_free (want);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- stress ---- */

static void
read_stats (gpointer data, gpointer user_data)
{
  GstHarnessThread *t = data;
  GstElement *e = user_data;
  GstStructure *stats = NULL;

  (void) t;
  g_object_get (e, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  gst_structure_free (stats);
}

static void
no_init (gpointer data, gpointer user_data)
{
}

GST_START_TEST (test_stress_properties)
{
  const Fmt *fmt = &formats[3];
  GstHarness *h = harness_new (fmt, MW, MH, "n-threads", 2, NULL);
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  const gchar *ops[] = { "grayscale", "blur", "edges", "motion", "invert",
    "threshold", "passthrough",
  };
  GstHarnessThread *threads[G_N_ELEMENTS (ops) + 5];
  GValue v = G_VALUE_INIT;
  GstStructure *stats;
  guint64 frames;
  guint i, n = 0;

  for (i = 0; i < G_N_ELEMENTS (ops); i++) {
    g_value_init (&v, g_type_from_name ("GstFrameProcOperation"));
    gst_value_deserialize (&v, ops[i]);
    threads[n++] = gst_harness_stress_property_start_full (h, "operation",
        &v, 300 + 50 * i);
    g_value_unset (&v);
  }
  g_value_init (&v, G_TYPE_DOUBLE);
  g_value_set_double (&v, 7.5);
  threads[n++] = gst_harness_stress_property_start_full (h, "sigma", &v, 500);
  g_value_unset (&v);
  g_value_init (&v, G_TYPE_BOOLEAN);
  g_value_set_boolean (&v, TRUE);
  threads[n++] = gst_harness_stress_property_start_full (h, "draw", &v, 700);
  threads[n++] = gst_harness_stress_property_start_full (h, "post-messages",
      &v, 900);
  g_value_unset (&v);
  threads[n++] = gst_harness_stress_custom_start (h, no_init, read_stats,
      h->element, 200);

  for (i = 0; i < 300; i++) {
    Img *img = motion_scene (fmt, -1, 0, 0, NULL);
    gint x, y;

    for (y = 20; y < 40; y++)
      for (x = (gint) (i % 60); x < (gint) (i % 60) + 20; x++)
        img->p[1][y * MW + x] = 250;
    gst_buffer_unref (push_frame (h, img, &layout, i));
    img_free (img);
  }

  for (i = 0; i < n; i++)
    gst_harness_stress_thread_stop (threads[i]);

  g_object_get (h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "frames", &frames));
  fail_unless_equals_uint64 (frames, 300);
  gst_structure_free (stats);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_operation_switch_while_playing)
{
  const Fmt *fmt = &formats[1];
  GstHarness *h = harness_new (fmt, 48, 40, NULL);
  Layout layout = make_layout (fmt, 48, 40, LAYOUT_ODD_PADDING);
  Img *in = img_pattern (fmt, 48, 40, PATTERN_GRADIENT);
  guint op;

  for (op = 0; op < G_N_ELEMENTS (op_names); op++) {
    Img *want = ref_apply (op, in, TEST_SIGMA);

    gst_util_set_object_arg (G_OBJECT (h->element), "operation", op_names[op]);
    g_object_set (h->element, "sigma", TEST_SIGMA, "threshold",
        TEST_THRESHOLD, NULL);
    push_and_compare (h, in, want, &layout, op_names[op]);
    img_free (want);
  }
  img_free (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_frames_without_offset)
{
  const Fmt *fmt = &formats[2];
  GstHarness *h = harness_new (fmt, 16, 16, "post-messages", TRUE, NULL);
  GstBus *bus = harness_bus (h);
  Layout layout = make_layout (fmt, 16, 16, LAYOUT_DEFAULT);
  Img *img = img_pattern (fmt, 16, 16, PATTERN_GRADIENT);
  GstMessage *msg;
  guint i, n = 0;

  for (i = 0; i < 3; i++) {
    GstBuffer *buf = img_to_buffer (img, &layout);

    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (h));
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    guint64 frame, ts;

    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
            "frame", &frame));
    fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
            "timestamp", &ts));
    fail_unless_equals_uint64 (frame, n);
    fail_unless_equals_uint64 (ts, GST_CLOCK_TIME_NONE);
    n++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n, 3);
  img_free (img);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ---- region ids ---- */

/* docs/frameproc.md: a track is kept while it has been unmatched for at
 * most this many consecutive frames, and at most this many are kept */
#define TRACK_KEEP 5
#define MAX_TRACKS 256

typedef struct
{
  gint x, y;                    /* x < 0: absent */
} Pos;

typedef struct
{
  gint id;
  guint x, y, w, h;
} Roi;

#define MAX_ROIS 1024

/* motion_scene with any number of striped squares */
static Img *
squares_scene (const Fmt * fmt, const Pos * pos, guint n)
{
  Img *img = motion_scene (fmt, -1, 0, 0, NULL);
  gint x, y, c;
  guint i;

  for (i = 0; i < n; i++) {
    if (pos[i].x < 0)
      continue;
    for (y = pos[i].y; y < pos[i].y + SQ; y++) {
      for (x = pos[i].x; x < pos[i].x + SQ; x++) {
        gint v = ((x - pos[i].x) & 1) ? 130 : 230;

        for (c = 0; c < n_colour (fmt); c++) {
          if (c == 0 || fmt->kind == KIND_RGB)
            img->p[c][y * MW + x] = v;
        }
      }
    }
  }
  return img;
}

/* The regions of buf, in meta order. */
static guint
get_rois (GstBuffer * buf, Roi * out)
{
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;

    fail_unless (n < MAX_ROIS);
    out[n].id = roi->id;
    out[n].x = roi->x;
    out[n].y = roi->y;
    out[n].w = roi->w;
    out[n].h = roi->h;
    n++;
  }
  return n;
}

/* Pushes frame no with the squares at pos and returns in ids[i] the id of
 * the region found at square i (0 when the square is absent). Every present
 * square must have exactly one region within 8 pixels of its corner (the
 * previous-frame reference extends the box backwards by one step) and there
 * must be no other region. */
static void
push_squares (GstHarness * h, const Fmt * fmt, const Layout * layout,
    guint64 no, const Pos * pos, guint n, gint * ids)
{
  Img *img = squares_scene (fmt, pos, n);
  GstBuffer *out = push_frame (h, img, layout, no);
  Roi rois[MAX_ROIS];
  guint n_rois = get_rois (out, rois);
  guint i, j, present = 0;

  for (i = 0; i < n; i++) {
    guint found = 0;

    ids[i] = 0;
    if (pos[i].x < 0)
      continue;
    present++;
    for (j = 0; j < n_rois; j++) {
      if (ABS ((gint) rois[j].x - pos[i].x) <= 8
          && ABS ((gint) rois[j].y - pos[i].y) <= 8) {
        ids[i] = rois[j].id;
        found++;
      }
    }
    fail_unless_equals_int (found, 1);
  }
  fail_unless_equals_int (n_rois, present);
  gst_buffer_unref (out);
  img_free (img);
}

static GstHarness *
ids_harness (const Fmt * fmt, const gchar * reference, guint n_threads)
{
  return harness_new (fmt, MW, MH, "operation", "motion",
      "motion-reference", reference, "learning-rate", 0.0, "n-threads",
      n_threads, "post-messages", TRUE, NULL);
}

/* A moving square keeps one id, 1, in the metas and the messages. */
GST_START_TEST (test_motion_ids_follow_square)
{
  const gchar *refs[] = { "background", "previous" };
  const Fmt *fmt = &formats[0];
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  guint r, i;

  for (r = 0; r < G_N_ELEMENTS (refs); r++) {
    GstHarness *h = ids_harness (fmt, refs[r], 2);
    GstBus *bus = harness_bus (h);
    GstMessage *msg;
    guint n_regions = 0;
    Pos p = { 10, 10 };
    gint id;

    push_squares (h, fmt, &layout, 0, &p, 0, &id);
    for (i = 1; i < 25; i++) {
      p.x = 10 + 5 * i;
      p.y = 10 + 3 * i;
      push_squares (h, fmt, &layout, i, &p, 1, &id);
      fail_unless_equals_int (id, 1);
    }

    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "frameproc")) {
        const GValue *regions = gst_structure_get_value (s, "regions");

        for (i = 0; i < gst_value_list_get_size (regions); i++) {
          const GstStructure *rs =
              gst_value_get_structure (gst_value_list_get_value (regions, i));

          fail_unless (gst_structure_get_int (rs, "id", &id));
          fail_unless_equals_int (id, 1);
          n_regions++;
        }
      }
      gst_message_unref (msg);
    }
    fail_unless_equals_int (n_regions, 24);

    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Two squares moving towards each other: two ids, numbered in frame order,
 * each staying with its square. */
GST_START_TEST (test_motion_ids_two_objects)
{
  const Fmt *fmt = &formats[3];
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_ODD_PADDING);
  GstHarness *h = ids_harness (fmt, "background", 2);
  Pos p[2] = { {-1, 0}, {-1, 0} };
  gint ids[2];
  guint i;

  push_squares (h, fmt, &layout, 0, p, 2, ids);
  for (i = 1; i < 16; i++) {
    p[0].x = 10 + 4 * i;
    p[0].y = 8;
    p[1].x = 120 - 4 * i;
    p[1].y = 80;
    push_squares (h, fmt, &layout, i, p, 2, ids);
    fail_unless_equals_int (ids[0], 1);
    fail_unless_equals_int (ids[1], 2);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A square missing for TRACK_KEEP frames keeps its id; missing for one more
 * it gets a new one, even in the same place; a square appearing as another
 * disappears gets a new one too. Ids are never reused. */
GST_START_TEST (test_motion_ids_new_object)
{
  const Fmt *fmt = &formats[2];
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  GstHarness *h = ids_harness (fmt, "background", 1);
  const Pos absent = { -1, 0 };
  Pos p[2] = { {-1, 0}, {-1, 0} };
  guint64 f = 0;
  gint ids[2], k = 0;
  guint i;

  push_squares (h, fmt, &layout, f++, p, 2, ids);

  /* A visible, moving */
  for (i = 0; i < 4; i++) {
    p[0].x = 10 + 4 * k++;
    p[0].y = 10;
    push_squares (h, fmt, &layout, f++, p, 2, ids);
    fail_unless_equals_int (ids[0], 1);
  }
  /* gone for TRACK_KEEP frames, back one step further: same id */
  for (i = 0; i < TRACK_KEEP; i++)
    push_squares (h, fmt, &layout, f++, &absent, 1, ids);
  for (i = 0; i < 2; i++) {
    p[0].x = 10 + 4 * k++;
    push_squares (h, fmt, &layout, f++, p, 2, ids);
    fail_unless_equals_int (ids[0], 1);
  }
  /* gone for one frame more than that: forgotten, a new id */
  for (i = 0; i < TRACK_KEEP + 1; i++)
    push_squares (h, fmt, &layout, f++, &absent, 1, ids);
  for (i = 0; i < 2; i++) {
    p[0].x = 10 + 4 * k++;
    push_squares (h, fmt, &layout, f++, p, 2, ids);
    fail_unless_equals_int (ids[0], 2);
  }
  /* A disappears as B appears elsewhere: a third id */
  p[0] = absent;
  for (i = 0; i < 3; i++) {
    p[1].x = 110 - 4 * i;
    p[1].y = 80;
    push_squares (h, fmt, &layout, f++, p, 2, ids);
    fail_unless_equals_int (ids[0], 0);
    fail_unless_equals_int (ids[1], 3);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Where the two squares of the ids threads test are in frame f. */
static void
threads_scene_positions (guint f, Pos * p)
{
  p[0].x = -1;
  p[0].y = 0;
  p[1] = p[0];
  if ((f >= 1 && f <= 10) || (f >= 18 && f <= 25)) {
    p[0].x = 10 + 3 * f;
    p[0].y = 10;
  }
  /* through the band boundaries of 2 and 3 bands (rows 32, 48, 80) */
  if (f >= 5) {
    p[1].x = 120;
    p[1].y = 10 + 3 * (f - 5);
  }
}

GST_START_TEST (test_motion_ids_threads)
{
  const gchar *refs[] = { "background", "previous" };
  const gint max_ids[] = { 3, 4 };
  const guint threads[] = { 2, 3 };
  const Fmt *fmt = &formats[1];
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  guint r, t, f, i;

  for (r = 0; r < G_N_ELEMENTS (refs); r++) {
    for (t = 0; t < G_N_ELEMENTS (threads); t++) {
      GstHarness *h1 = ids_harness (fmt, refs[r], 1);
      GstHarness *hn = ids_harness (fmt, refs[r], threads[t]);
      gint max_id = 0;

      for (f = 0; f < 31; f++) {
        Pos p[2];
        Img *img;
        GstBuffer *b1, *bn;
        Roi r1[MAX_ROIS], rn[MAX_ROIS];
        guint n1, nn;

        threads_scene_positions (f, p);
        img = squares_scene (fmt, p, 2);
        b1 = push_frame (h1, img, &layout, f);
        bn = push_frame (hn, img, &layout, f);
        n1 = get_rois (b1, r1);
        nn = get_rois (bn, rn);
        fail_unless_equals_int (n1, nn);
        for (i = 0; i < n1; i++) {
          fail_unless (r1[i].id > 0);
          fail_unless (r1[i].id == rn[i].id && r1[i].x == rn[i].x
              && r1[i].y == rn[i].y && r1[i].w == rn[i].w
              && r1[i].h == rn[i].h, "%s, %u threads, frame %u, region %u: "
              "id %d %u,%u %ux%u, 1 thread: id %d %u,%u %ux%u", refs[r],
              threads[t], f, i, rn[i].id, rn[i].x, rn[i].y, rn[i].w, rn[i].h,
              r1[i].id, r1[i].x, r1[i].y, r1[i].w, r1[i].h);
          max_id = MAX (max_id, r1[i].id);
        }
        gst_buffer_unref (b1);
        gst_buffer_unref (bn);
        img_free (img);
      }
      /* A, B, then A again after more than TRACK_KEEP frames away; with
       * the previous frame as reference B soon shows as two strips, its
       * leading and trailing edges, the second a new region */
      fail_unless_equals_int (max_id, max_ids[r]);
      gst_harness_teardown (h1);
      gst_harness_teardown (hn);
    }
  }
}

GST_END_TEST;

static void
push_segment (GstHarness * h)
{
  GstSegment segment;

  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
}

/* A flush and a caps change forget the tracks (numbering goes on, an id
 * never names two objects); a stop and start numbers from 1 again. The
 * first frame after each only becomes the motion reference. */
GST_START_TEST (test_motion_ids_reset)
{
  const Fmt *fmt = &formats[0];
  Layout layout = make_layout (fmt, MW, MH, LAYOUT_DEFAULT);
  GstHarness *h = ids_harness (fmt, "background", 2);
  Pos p = { 10, 20 };
  guint64 f = 0;
  gint id;
  gchar *caps;

  push_squares (h, fmt, &layout, f++, &p, 0, &id);
  for (; f < 4; f++) {
    p.x += 4;
    push_squares (h, fmt, &layout, f, &p, 1, &id);
    fail_unless_equals_int (id, 1);
  }

  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  push_segment (h);
  push_squares (h, fmt, &layout, f++, &p, 0, &id);
  p.x += 4;
  push_squares (h, fmt, &layout, f++, &p, 1, &id);
  fail_unless_equals_int (id, 2);
  p.x += 4;
  push_squares (h, fmt, &layout, f++, &p, 1, &id);
  fail_unless_equals_int (id, 2);

  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=160,"
      "height=120,framerate=15/1");
  push_squares (h, fmt, &layout, f++, &p, 0, &id);
  p.x += 4;
  push_squares (h, fmt, &layout, f++, &p, 1, &id);
  fail_unless_equals_int (id, 3);

  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (h->element,
          GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_stream_start ("restarted")));
  caps = caps_string (fmt, MW, MH);
  gst_harness_set_src_caps_str (h, caps);
  g_free (caps);
  push_squares (h, fmt, &layout, f++, &p, 0, &id);
  p.x += 4;
  push_squares (h, fmt, &layout, f++, &p, 1, &id);
  fail_unless_equals_int (id, 1);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* 540 small blocks: every region gets a distinct id, the first MAX_TRACKS
 * regions (frame order) are remembered and keep theirs, the others get new
 * ones every frame. */
GST_START_TEST (test_motion_ids_bounded)
{
  const Fmt *fmt = &formats[2];
  const gint w = 320, hh = 240, pitch = 12;
  const gint cols = (w - 4) / pitch + 1, rows = (hh - 4) / pitch + 1;
  const guint n_blocks = cols * rows;
  GstHarness *h = harness_new (fmt, w, hh, "operation", "motion",
      "learning-rate", 0.0, "min-area", 0, NULL);
  Layout layout = make_layout (fmt, w, hh, LAYOUT_DEFAULT);
  Img *bg = img_new (fmt, w, hh), *blocks;
  static Roi rois[MAX_ROIS];
  GstBuffer *out;
  gint x, y, next = 1;
  guint i, f;

  fail_unless_equals_int (n_blocks, 540);
  memset (bg->p[0], 60, w * hh);
  blocks = img_copy (bg);
  for (y = 0; y < hh; y++)
    for (x = 0; x < w; x++)
      if (x % pitch < 4 && y % pitch < 4)
        blocks->p[0][y * w + x] = 200;

  gst_buffer_unref (push_frame (h, bg, &layout, 0));
  for (f = 1; f < 4; f++) {
    out = push_frame (h, blocks, &layout, f);
    fail_unless_equals_int (get_rois (out, rois), n_blocks);
    for (i = 0; i < n_blocks; i++) {
      fail_unless_equals_int (rois[i].x, (i % cols) * pitch);
      fail_unless_equals_int (rois[i].y, (i / cols) * pitch);
      if (f > 1 && i < MAX_TRACKS) {
        fail_unless_equals_int (rois[i].id, (gint) i + 1);
      } else {
        fail_unless_equals_int (rois[i].id, next++);
      }
    }
    gst_buffer_unref (out);
  }
  img_free (bg);
  img_free (blocks);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
frameproc_suite (void)
{
  Suite *s = suite_create ("frameproc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 300);

  tcase_add_test (tc, test_passthrough);
  tcase_add_test (tc, test_grayscale);
  tcase_add_test (tc, test_invert);
  tcase_add_test (tc, test_threshold);
  tcase_add_test (tc, test_threshold_limits);
  tcase_add_test (tc, test_blur);
  tcase_add_test (tc, test_blur_kernel_larger_than_frame);
  tcase_add_test (tc, test_blur_sigma_change_while_playing);
  tcase_add_test (tc, test_edges);
  tcase_add_test (tc, test_motion_square_background);
  tcase_add_test (tc, test_motion_square_previous);
  tcase_add_test (tc, test_motion_two_regions);
  tcase_add_test (tc, test_motion_min_area);
  tcase_add_test (tc, test_motion_static_scene);
  tcase_add_test (tc, test_motion_noise_below_sensitivity);
  tcase_add_test (tc, test_motion_sensitivity_boundary);
  tcase_add_test (tc, test_motion_start_stop_messages);
  tcase_add_test (tc, test_motion_draw);
  tcase_add_test (tc, test_frame_messages);
  tcase_add_test (tc, test_no_frame_messages_by_default);
  tcase_add_test (tc, test_frames_without_offset);
  tcase_add_test (tc, test_stats);
  tcase_add_test (tc, test_unsupported_caps_refused);
  tcase_add_test (tc, test_supported_caps_accepted);
  tcase_add_test (tc, test_property_ranges);
  tcase_add_test (tc, test_property_docs_and_flags);
  tcase_add_test (tc, test_threads_grayscale);
  tcase_add_test (tc, test_threads_invert);
  tcase_add_test (tc, test_threads_threshold);
  tcase_add_test (tc, test_threads_blur);
  tcase_add_test (tc, test_threads_edges);
  tcase_add_test (tc, test_threads_motion_background);
  tcase_add_test (tc, test_threads_motion_previous);
  tcase_add_test (tc, test_threads_blur_matches_reference);
  tcase_add_test (tc, test_stress_properties);
  tcase_add_test (tc, test_operation_switch_while_playing);
  tcase_add_test (tc, test_motion_ids_follow_square);
  tcase_add_test (tc, test_motion_ids_two_objects);
  tcase_add_test (tc, test_motion_ids_new_object);
  tcase_add_test (tc, test_motion_ids_threads);
  tcase_add_test (tc, test_motion_ids_reset);
  tcase_add_test (tc, test_motion_ids_bounded);

  return s;
}

GST_CHECK_MAIN (frameproc);
