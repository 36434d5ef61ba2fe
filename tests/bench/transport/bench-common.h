/* Shared by the transport benchmark's C programs (see docs/performance.md). */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <gst/gst.h>

/* Every frame starts with this header, written by the sender just before the
 * frame leaves it: send time (CLOCK_REALTIME ns) and frame number, both
 * little-endian u64. Bytes 16.. are those of pre-made frame (number % k). */
#define BENCH_HEADER_SIZE 16

typedef struct
{
  int width, height, k;
  size_t size;                  /* bytes per frame (I420, no padding); the
                                 * largest with sizes */
  uint8_t *data;                /* k frames back to back */
  /* encoded frames (--sizes-file, H.264 access units): the size and offset
   * of each; NULL for raw frames, which all have size */
  size_t *sizes, *offsets;
} BenchFrames;

typedef struct
{
  const char *transport, *frames_file, *progress, *pids, *mode;
  const char *host, *socket, *stream, *group, *compression, *shm_path;
  const char *lat_file;
  /* --sizes-file: frames-file holds k encoded frames of these sizes (one
   * decimal size per line) instead of raw I420 frames: H.264 access units,
   * or JPEG pictures with --codec jpeg */
  const char *sizes_file;
  const char *codec;
  /* --tls-ca-file: redisstreamsink / redisstreamsrc with tls=true, the
   * server verified against this CA */
  const char *tls_ca_file;
  /* --ack-mode: redisstreamsrc's ack-mode (its default when not given) */
  const char *ack_mode;
  int width, height, k, count, window, port, maxlen, warmup, fps;
  int idle_timeout;
  /* --defaults 1: redisstreamsink / redisstreamsrc get only the address
   * and the stream name, every other property its default */
  int defaults;
} BenchArgs;

void bench_args_parse (BenchArgs * a, int argc, char **argv);
size_t bench_i420_size (int width, int height);
int bench_frames_load (BenchFrames * f, const char *path,
    const char *sizes_path, int width, int height, int k);
uint8_t *bench_frame_data (const BenchFrames * f, int i);
size_t bench_frame_size (const BenchFrames * f, int i);
/* The caps of the frames: raw I420 or H.264 access units; free with g_free */
char *bench_frames_caps (const BenchFrames * f, const char *codec, int fps);
/* " tls=true tls-ca-file=..." for the Redis elements, or "" */
char *bench_tls_props (const BenchArgs * a);
/* Prints the first error on @pipeline's bus, prefixed by @who; 1 if any. */
int bench_check_bus (GstElement * pipeline, const char *who);
uint64_t bench_now_real (void);
uint64_t bench_now_mono (void);
void bench_header_write (uint8_t * p, uint64_t t, uint64_t n);
void bench_header_read (const uint8_t * p, uint64_t * t, uint64_t * n);
/* utime + stime of a process in clock ticks, -1 when it is gone */
long long bench_proc_cpu_ticks (pid_t pid);
int bench_progress_open (const char *path, int nonblock);
void bench_progress_write (int fd, uint64_t count);
/* Reads every count available, waiting up to timeout_ms for the first one;
 * returns 1 and the newest count, 0 on timeout, -1 on error. */
int bench_progress_read (int fd, int timeout_ms, uint64_t * count);

/* Receiver side: per-frame accounting shared by all transports. */
#define BENCH_MAX_PIDS 8
typedef struct
{
  BenchArgs *args;
  BenchFrames *frames;
  int progress_fd;
  uint64_t received, bad, dups, meta_mismatch, meta_missing;
  uint8_t *seen;
  double *lat_ms;
  size_t n_lat;
  uint64_t t_first, t_window_start, t_last;
  /* every frame in arrival order, warm-up included: send and receive time
   * (CLOCK_REALTIME ns), written to --lat-file */
  uint64_t *all_sent, *all_recv;
  size_t n_all;
  uint64_t window_start_count;
  int n_pids;
  char pid_names[BENCH_MAX_PIDS][32];
  pid_t pids[BENCH_MAX_PIDS];
  long long cpu0[BENCH_MAX_PIDS], cpu1[BENCH_MAX_PIDS];
  int done;
} BenchRx;

void bench_rx_init (BenchRx * rx, BenchArgs * a, BenchFrames * f);
/* meta_time: capture time from a meta, or -1 when the transport has none.
 * Returns 1 when every expected frame has arrived. */
int bench_rx_frame (BenchRx * rx, const uint8_t * data, size_t len,
    uint64_t t_recv, int64_t meta_time);
void bench_rx_print (BenchRx * rx, const char *extra_json);

#endif
