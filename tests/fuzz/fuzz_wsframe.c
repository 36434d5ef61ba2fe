/* libFuzzer target: what websocketsink makes of untrusted input. The sink
 * parses nothing of its own from its clients (libsoup does the HTTP and
 * WebSocket parsing; client messages are ignored, only their size is
 * logged; the Origin header is only compared with g_ascii_strcasecmp ()
 * against the allowed-origins property). What does reach it from outside is
 * the region-of-interest metas of the frames, which a redisstreamsrc
 * upstream builds from the "meta" JSON of a Redis entry written by anyone.
 * So: input = "meta" JSON -> gst_redis_meta_from_json () -> buffer ->
 * gst_websocket_frame_build (), and the message must be well-formed: a
 * 4-byte big-endian length N, N bytes of a JSON object with one detection
 * per region, then the payload unchanged. */

#include "fuzz_common.h"
#include "gstredisentry.h"
#include "gstwebsocketframe.h"

#include <json-glib/json-glib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F',
  'I', 'F', 0, 1, 0xff, 0xd9
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_gst ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GstBuffer *buf;
  GBytes *msg;
  const guint8 *m;
  gsize msg_len, json_len, n_rois = 0;
  gpointer state = NULL;
  JsonParser *parser;
  JsonNode *root;
  JsonObject *obj;
  GError *err = NULL;
  gint width = 0, height = 0;

  if (size < 2)
    return 0;
  /* byte 0: timestamps and caps size known or not */
  if (data[0] & 1)
    width = 640;
  if (data[0] & 2)
    height = 480;

  buf = gst_buffer_new_memdup (jpeg, sizeof (jpeg));
  if (data[0] & 4)
    GST_BUFFER_PTS (buf) = 123456789;
  if (data[0] & 8)
    gst_buffer_add_reference_timestamp_meta (buf,
        gst_frame_meta_capture_time_caps (), G_GUINT64_CONSTANT
        (1700000000123456789), GST_CLOCK_TIME_NONE);
  if (!gst_redis_meta_from_json (buf, (const gchar *) data + 1, size - 1,
          &err)) {
    g_clear_error (&err);
    gst_buffer_unref (buf);
    return 0;
  }
  while (gst_buffer_iterate_meta_filtered (buf, &state,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    n_rois++;

  msg = gst_websocket_frame_build (buf, data[0] >> 4, width, height);
  m = g_bytes_get_data (msg, &msg_len);
  FUZZ_CHECK (msg_len >= 4);
  json_len = GST_READ_UINT32_BE (m);
  FUZZ_CHECK (msg_len == 4 + json_len + sizeof (jpeg));
  FUZZ_CHECK (memcmp (m + 4 + json_len, jpeg, sizeof (jpeg)) == 0);

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, (const gchar *) m + 4, json_len,
          &err)) {
#ifdef FUZZ_KNOWN_BUGS
    /* to fuzz past known bugs (README.md); never in run.sh */
    {
      g_clear_error (&err);
      g_object_unref (parser);
      g_bytes_unref (msg);
      gst_buffer_unref (buf);
      return 0;
    }
#endif
    fprintf (stderr, "frame header is not JSON: %s\n%.*s\n", err->message,
        (int) json_len, (const char *) m + 4);
    abort ();
  }
  root = json_parser_get_root (parser);
  FUZZ_CHECK (JSON_NODE_HOLDS_OBJECT (root));
  obj = json_node_get_object (root);
  FUZZ_CHECK (json_object_has_member (obj, "detections"));
  FUZZ_CHECK (json_array_get_length (json_object_get_array_member (obj,
              "detections")) == n_rois);
  g_object_unref (parser);
  g_bytes_unref (msg);
  gst_buffer_unref (buf);
  return 0;
}
