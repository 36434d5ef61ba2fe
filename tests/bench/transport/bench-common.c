/* Shared code of the transport benchmark's sender and receiver. */
#include "bench-common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void
bench_args_parse (BenchArgs * a, int argc, char **argv)
{
  int i;

  memset (a, 0, sizeof (*a));
  a->transport = "redis";
  a->mode = "live";
  a->host = "127.0.0.1";
  a->stream = "bench";
  a->group = "bench";
  a->compression = "none";
  a->codec = "h264";
  a->width = 640;
  a->height = 480;
  a->k = 30;
  a->count = 100;
  a->window = 4;
  a->maxlen = 100;
  a->warmup = 10;
  a->fps = 30;
  a->idle_timeout = 10;

  for (i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];

#define S(name, field) if (strcmp (k, "--" name) == 0) { a->field = v; continue; }
#define N(name, field) if (strcmp (k, "--" name) == 0) { a->field = atoi (v); continue; }
    S ("transport", transport);
    S ("frames-file", frames_file);
    S ("progress", progress);
    S ("pids", pids);
    S ("mode", mode);
    S ("host", host);
    S ("socket", socket);
    S ("stream", stream);
    S ("group", group);
    S ("compression", compression);
    S ("shm-path", shm_path);
    S ("lat-file", lat_file);
    S ("sizes-file", sizes_file);
    S ("tls-ca-file", tls_ca_file);
    S ("codec", codec);
    S ("ack-mode", ack_mode);
    N ("width", width);
    N ("height", height);
    N ("k", k);
    N ("count", count);
    N ("window", window);
    N ("port", port);
    N ("maxlen", maxlen);
    N ("warmup", warmup);
    N ("fps", fps);
    N ("idle-timeout", idle_timeout);
    N ("defaults", defaults);
#undef S
#undef N
    fprintf (stderr, "unknown option %s\n", k);
    exit (2);
  }
  if (i < argc) {
    fprintf (stderr, "option %s needs a value\n", argv[i]);
    exit (2);
  }
  if (a->window < 1)
    a->window = 1;
  if (a->warmup >= a->count)
    a->warmup = a->count > 1 ? a->count - 2 : 0;
  if (a->warmup < 0)
    a->warmup = 0;
}

size_t
bench_i420_size (int width, int height)
{
  /* Widths that are a multiple of 8 and even heights: no row padding. */
  return (size_t) width *height * 3 / 2;
}

/* The sizes of the k encoded frames of @path, one per line. */
static int
load_sizes (BenchFrames * f, const char *path)
{
  FILE *fp = fopen (path, "r");
  size_t total = 0;
  int i;

  f->sizes = calloc (f->k, sizeof (size_t));
  f->offsets = calloc (f->k, sizeof (size_t));
  f->size = 0;
  for (i = 0; fp && i < f->k; i++) {
    unsigned long long v;

    if (fscanf (fp, "%llu", &v) != 1 || v < BENCH_HEADER_SIZE)
      break;
    f->offsets[i] = total;
    f->sizes[i] = v;
    total += v;
    f->size = MAX (f->size, (size_t) v);
  }
  if (fp)
    fclose (fp);
  if (i != f->k) {
    fprintf (stderr, "%s: expected %d frame sizes of at least %d bytes\n",
        path, f->k, BENCH_HEADER_SIZE);
    return -1;
  }
  return (int) (total > 0);
}

int
bench_frames_load (BenchFrames * f, const char *path, const char *sizes_path,
    int width, int height, int k)
{
  size_t total, got = 0;
  FILE *fp;

  memset (f, 0, sizeof (*f));
  f->width = width;
  f->height = height;
  f->k = k;
  if (sizes_path) {
    if (load_sizes (f, sizes_path) < 0)
      return -1;
    total = f->offsets[k - 1] + f->sizes[k - 1];
  } else {
    f->size = bench_i420_size (width, height);
    total = f->size * (size_t) k;
  }
  f->data = malloc (total);
  fp = path ? fopen (path, "rb") : NULL;
  if (f->data == NULL || fp == NULL) {
    fprintf (stderr, "cannot load frames from %s: %s\n", path ? path : "(none)",
        strerror (errno));
    if (fp)
      fclose (fp);
    return -1;
  }
  while (got < total) {
    size_t n = fread (f->data + got, 1, total - got, fp);

    if (n == 0)
      break;
    got += n;
  }
  fclose (fp);
  if (got != total) {
    fprintf (stderr, "%s: %zu bytes, expected %zu\n", path, got, total);
    return -1;
  }
  return 0;
}

uint8_t *
bench_frame_data (const BenchFrames * f, int i)
{
  return f->data + (f->offsets ? f->offsets[i] : (size_t) i * f->size);
}

size_t
bench_frame_size (const BenchFrames * f, int i)
{
  return f->sizes ? f->sizes[i] : f->size;
}

char *
bench_frames_caps (const BenchFrames * f, const char *codec, int fps)
{
  if (f->sizes && strcmp (codec, "jpeg") == 0)
    return g_strdup_printf ("image/jpeg,width=%d,height=%d,framerate=%d/1",
        f->width, f->height, fps);
  if (f->sizes)
    return g_strdup_printf ("video/x-h264,stream-format=byte-stream,"
        "alignment=au,width=%d,height=%d,framerate=%d/1", f->width,
        f->height, fps);
  return g_strdup_printf ("video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=%d/1", f->width, f->height, fps);
}

char *
bench_tls_props (const BenchArgs * a)
{
  if (a->tls_ca_file == NULL)
    return g_strdup ("");
  return g_strdup_printf (" tls=true tls-ca-file=%s", a->tls_ca_file);
}

uint64_t
bench_now_real (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t
bench_now_mono (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void
put_u64 (uint8_t * p, uint64_t v)
{
  int i;

  for (i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_u64 (const uint8_t * p)
{
  uint64_t v = 0;
  int i;

  for (i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

void
bench_header_write (uint8_t * p, uint64_t t, uint64_t n)
{
  put_u64 (p, t);
  put_u64 (p + 8, n);
}

void
bench_header_read (const uint8_t * p, uint64_t * t, uint64_t * n)
{
  *t = get_u64 (p);
  *n = get_u64 (p + 8);
}

long long
bench_proc_cpu_ticks (pid_t pid)
{
  char path[64], buf[1024], *p;
  unsigned long long ut = 0, st = 0;
  ssize_t n;
  int fd, field;

  snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY);
  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof (buf) - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name may hold spaces: fields count from the last ')'. */
  p = strrchr (buf, ')');
  if (p == NULL)
    return -1;
  p += 2;                       /* field 3, the state */
  for (field = 3; field < 14 && p; field++) {
    p = strchr (p, ' ');
    if (p)
      p++;
  }
  if (p == NULL || sscanf (p, "%llu %llu", &ut, &st) != 2)
    return -1;
  return (long long) (ut + st);
}

int
bench_progress_open (const char *path, int nonblock)
{
  /* O_RDWR never blocks on a FIFO and keeps it open from both ends. */
  int fd = path ? open (path, O_RDWR | (nonblock ? O_NONBLOCK : 0)) : -1;

  if (path && fd < 0)
    fprintf (stderr, "cannot open %s: %s\n", path, strerror (errno));
  return fd;
}

void
bench_progress_write (int fd, uint64_t count)
{
  /* Non-blocking: a full pipe (a sender that is not reading) drops counts,
   * which only carry the newest value anyway. */
  if (fd >= 0 && write (fd, &count, sizeof (count)) < 0 && errno != EAGAIN)
    perror ("progress write");
}

int
bench_progress_read (int fd, int timeout_ms, uint64_t * count)
{
  struct pollfd pfd = { fd, POLLIN, 0 };
  uint64_t vals[512];
  int r, got = 0;

  r = poll (&pfd, 1, timeout_ms);
  if (r < 0)
    return errno == EINTR ? 0 : -1;
  if (r == 0)
    return 0;
  for (;;) {
    ssize_t n;

    n = read (fd, vals, sizeof (vals));
    if (n >= (ssize_t) sizeof (uint64_t)) {
      *count = vals[n / sizeof (uint64_t) - 1];
      got = 1;
      if (n == sizeof (vals)) {
        /* maybe more */
        pfd.revents = 0;
        if (poll (&pfd, 1, 0) > 0)
          continue;
      }
    }
    break;
  }
  return got;
}

/* Receiver */

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
read_pids (BenchRx * rx)
{
  FILE *fp = rx->args->pids ? fopen (rx->args->pids, "r") : NULL;
  char name[32];
  int pid;

  rx->n_pids = 0;
  if (fp) {
    while (rx->n_pids < BENCH_MAX_PIDS - 1
        && fscanf (fp, "%31s %d", name, &pid) == 2) {
      snprintf (rx->pid_names[rx->n_pids], 32, "%s", name);
      rx->pids[rx->n_pids++] = pid;
    }
    fclose (fp);
  }
  snprintf (rx->pid_names[rx->n_pids], 32, "receiver");
  rx->pids[rx->n_pids++] = getpid ();
}

static void
sample_cpu (BenchRx * rx, long long *out)
{
  int i;

  for (i = 0; i < rx->n_pids; i++)
    out[i] = bench_proc_cpu_ticks (rx->pids[i]);
}

void
bench_rx_init (BenchRx * rx, BenchArgs * a, BenchFrames * f)
{
  memset (rx, 0, sizeof (*rx));
  rx->args = a;
  rx->frames = f;
  rx->seen = calloc (a->count, 1);
  rx->lat_ms = calloc (a->count, sizeof (double));
  rx->all_sent = calloc (a->count, sizeof (uint64_t));
  rx->all_recv = calloc (a->count, sizeof (uint64_t));
  rx->progress_fd = bench_progress_open (a->progress, 1);
  read_pids (rx);
}

int
bench_rx_frame (BenchRx * rx, const uint8_t * data, size_t len,
    uint64_t t_recv, int64_t meta_time)
{
  BenchFrames *f = rx->frames;
  uint64_t t_send = 0, n = 0;
  size_t size;

  if (rx->done)
    return 1;
  if (len < BENCH_HEADER_SIZE) {
    rx->bad++;
    fprintf (stderr, "frame of %zu bytes, shorter than its header\n", len);
    return 0;
  }
  bench_header_read (data, &t_send, &n);
  if (n >= (uint64_t) rx->args->count) {
    rx->bad++;
    fprintf (stderr, "frame number %llu out of range\n",
        (unsigned long long) n);
    return 0;
  }
  size = bench_frame_size (f, n % f->k);
  if (len != size) {
    rx->bad++;
    fprintf (stderr, "frame %llu of %zu bytes, expected %zu\n",
        (unsigned long long) n, len, size);
    return 0;
  }
  if (rx->seen[n]) {
    rx->dups++;
    return 0;
  }
  rx->seen[n] = 1;
  if (memcmp (data + BENCH_HEADER_SIZE,
          bench_frame_data (f, n % f->k) + BENCH_HEADER_SIZE,
          size - BENCH_HEADER_SIZE) != 0) {
    rx->bad++;
    fprintf (stderr, "frame %llu is not bit-exact\n", (unsigned long long) n);
  }
  if (meta_time == -2)
    rx->meta_missing++;
  else if (meta_time >= 0 && (uint64_t) meta_time != t_send)
    rx->meta_mismatch++;

  if (rx->received == 0)
    rx->t_first = t_recv;
  if (rx->received >= (uint64_t) rx->args->warmup)
    rx->lat_ms[rx->n_lat++] = (t_recv - t_send) / 1e6;
  rx->all_sent[rx->n_all] = t_send;
  rx->all_recv[rx->n_all++] = t_recv;
  rx->received++;
  rx->t_last = t_recv;
  bench_progress_write (rx->progress_fd, rx->received);

  if (rx->received == (uint64_t) rx->args->warmup + 1) {
    /* The measured window starts with this frame. */
    sample_cpu (rx, rx->cpu0);
    rx->t_window_start = t_recv;
    rx->window_start_count = rx->received;
  }
  if (rx->received == (uint64_t) rx->args->count) {
    sample_cpu (rx, rx->cpu1);
    rx->done = 1;
    return 1;
  }
  return 0;
}

void
bench_rx_print (BenchRx * rx, const char *extra_json)
{
  double tick_ms = 1000.0 / sysconf (_SC_CLK_TCK);
  uint64_t window = 0;
  double p[4] = { 0, 0, 0, 0 }, secs = 0;
  int i;

  if (!rx->done && rx->window_start_count > 0) {
    /* Stopped early: the window ends at the last frame that came. */
    sample_cpu (rx, rx->cpu1);
  }
  if (rx->window_start_count > 0)
    window = rx->received - rx->window_start_count;
  if (rx->n_lat > 0) {
    qsort (rx->lat_ms, rx->n_lat, sizeof (double), cmp_double);
    p[0] = rx->lat_ms[(size_t) (0.50 * (rx->n_lat - 1) + 0.5)];
    p[1] = rx->lat_ms[(size_t) (0.95 * (rx->n_lat - 1) + 0.5)];
    p[2] = rx->lat_ms[(size_t) (0.99 * (rx->n_lat - 1) + 0.5)];
    p[3] = rx->lat_ms[rx->n_lat - 1];
  }
  if (window > 0)
    secs = (rx->t_last - rx->t_window_start) / 1e9;
  if (rx->args->lat_file) {
    FILE *fp = fopen (rx->args->lat_file, "w");

    if (fp == NULL) {
      perror (rx->args->lat_file);
    } else {
      size_t j;

      for (j = 0; j < rx->n_all; j++)
        fprintf (fp, "%llu %llu\n", (unsigned long long) rx->all_sent[j],
            (unsigned long long) rx->all_recv[j]);
      fclose (fp);
    }
  }
  printf ("{\"received\": %llu, \"bad\": %llu, \"dups\": %llu, "
      "\"meta_mismatch\": %llu, \"meta_missing\": %llu, \"window\": %llu, "
      "\"seconds\": %.6f, \"fps\": %.3f, \"p50\": %.4f, \"p95\": %.4f, "
      "\"p99\": %.4f, \"max\": %.4f, \"warmup\": %d, \"cpu_ms\": {",
      (unsigned long long) rx->received, (unsigned long long) rx->bad,
      (unsigned long long) rx->dups, (unsigned long long) rx->meta_mismatch,
      (unsigned long long) rx->meta_missing, (unsigned long long) window, secs,
      secs > 0 ? window / secs : 0.0, p[0], p[1], p[2], p[3], rx->args->warmup);
  for (i = 0; i < rx->n_pids; i++) {
    double ms = (window > 0 && rx->cpu0[i] >= 0 && rx->cpu1[i] >= 0) ?
        (rx->cpu1[i] - rx->cpu0[i]) * tick_ms : -1;
    printf ("%s\"%s\": %.3f", i ? ", " : "", rx->pid_names[i], ms);
  }
  printf ("}%s%s}\n", extra_json ? ", " : "", extra_json ? extra_json : "");
  fflush (stdout);
}

int
bench_check_bus (GstElement * pipeline, const char *who)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  int failed = 0;

  if (msg) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    fprintf (stderr, "%s error: %s (%s)\n", who, err->message, dbg);
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
    failed = 1;
  }
  gst_object_unref (bus);
  return failed;
}
