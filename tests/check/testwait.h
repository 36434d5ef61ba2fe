/* GStreamer Redis Streams elements
 * Copyright (C) 2026 The gst-redis-streams authors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
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

#ifndef __TEST_WAIT_H__
#define __TEST_WAIT_H__

/* Waits of the GstCheck tests: every wait is a condition with a deadline,
 * never a fixed sleep that hopes the other side is done by then. Header
 * only, so that tests without the Redis fixture (websocketsink) share it;
 * redisfixture.h includes it.
 *
 * A g_usleep () left in a test is part of what the test does (let entries
 * age past max-age, pace a producer, see that nothing happens for a while)
 * and says so in a comment. */

#include <gst/check/gstcheck.h>

G_BEGIN_DECLS

/* How often a wait looks at its condition again. */
#define TEST_WAIT_INTERVAL_MS 10

/* The monotonic time @timeout_ms from now, for test_wait_tick (). */
static inline gint64
test_wait_deadline (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

/* One step of a wait: FALSE once @deadline has passed, else sleeps one
 * interval and returns TRUE. For the few waits that report a timeout
 * themselves (the fixture starting redis-server, a helper returning what it
 * saw last); every other wait is test_wait_until (). */
static inline gboolean
test_wait_tick (gint64 deadline)
{
  if (g_get_monotonic_time () >= deadline)
    return FALSE;
  g_usleep (TEST_WAIT_INTERVAL_MS * 1000);
  return TRUE;
}

/* Polls @cond every TEST_WAIT_INTERVAL_MS until it is true; after
 * @timeout_ms fails the test with "timed out after N ms waiting for " and
 * the rest of the arguments (a printf format naming what was awaited, and
 * its arguments). */
#define test_wait_until(cond, timeout_ms, ...) G_STMT_START {            \
  const guint _tw_ms = (timeout_ms);                                    \
  const gint64 _tw_deadline = test_wait_deadline (_tw_ms);              \
                                                                        \
  while (!(cond)) {                                                     \
    if (!test_wait_tick (_tw_deadline)) {                               \
      gchar *_tw_what = g_strdup_printf (__VA_ARGS__);                  \
                                                                        \
      fail ("timed out after %u ms waiting for %s", _tw_ms, _tw_what);  \
      g_free (_tw_what);                                                \
    }                                                                   \
  }                                                                     \
} G_STMT_END

G_END_DECLS

#endif /* __TEST_WAIT_H__ */
