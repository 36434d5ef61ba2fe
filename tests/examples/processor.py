#!/usr/bin/python3
"""The processing stage of pipelines/processor in Python (PyGObject),
built element by element, without Gst.parse_launch():

    redisstreamsrc ! frameproc ! redisstreamsink

The same program as tests/examples/processor.c: prints frames/s and the
latency from capture every second, prints errors and warnings from the bus
(an error exits with status 1), stops on SIGINT/SIGTERM by sending EOS and
exits 0 once the pipeline has drained (or after 3 s).

Environment: REDIS_HOST [127.0.0.1], REDIS_PORT [6379], REDIS_SOCKET,
INPUT_STREAM [video-frames], OUTPUT_STREAM [processed-frames],
PROCESSOR_GROUP [processors], CONSUMER [<hostname>-<pid>], OPERATION [motion].

Needs Debian's python3-gi and gir1.2-gstreamer-1.0; run with the plugins on
GST_PLUGIN_PATH: GST_PLUGIN_PATH=build/gst /usr/bin/python3 tests/examples/processor.py
"""

import os
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def env(name, default=None):
    return os.environ.get(name) or default


def make(factory, name):
    e = Gst.ElementFactory.make(factory, name)
    if e is None:
        sys.exit("element %s not found: is GST_PLUGIN_PATH set to the build's "
                 "gst directory?" % factory)
    return e


def set_redis(element, stream):
    if env("REDIS_SOCKET"):
        element.set_property("socket-path", env("REDIS_SOCKET"))
    else:
        element.set_property("host", env("REDIS_HOST", "127.0.0.1"))
        element.set_property("port", int(env("REDIS_PORT", "6379")))
    element.set_property("stream", stream)


class Processor:
    def __init__(self):
        self.src = make("redisstreamsrc", "src")
        self.proc = make("frameproc", "proc")
        self.sink = make("redisstreamsink", "sink")

        set_redis(self.src, env("INPUT_STREAM", "video-frames"))
        self.src.set_property("group", env("PROCESSOR_GROUP", "processors"))
        if env("CONSUMER"):
            self.src.set_property("consumer", env("CONSUMER"))
        # an enum property set from its nick, as gst-launch does
        Gst.util_set_object_arg(self.proc, "operation", env("OPERATION", "motion"))
        set_redis(self.sink, env("OUTPUT_STREAM", "processed-frames"))

        self.pipeline = Gst.Pipeline.new("processor")
        for e in (self.src, self.proc, self.sink):
            self.pipeline.add(e)
        if not (self.src.link(self.proc) and self.proc.link(self.sink)):
            sys.exit("could not link the elements")

        self.loop = GLib.MainLoop()
        self.exit_code = 0
        self.stopping = False
        self.last = (0, 0, time.monotonic())

        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.on_signal)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.on_signal)
        GLib.timeout_add_seconds(1, self.on_tick)

    def stats(self):
        return (self.src.get_property("stats"), self.sink.get_property("stats"),
                self.proc.get_property("stats"))

    def on_tick(self):
        src, sink, proc = self.stats()
        n_in, n_out = src.get_value("frames"), sink.get_value("frames")
        now = time.monotonic()
        last_in, last_out, last_t = self.last
        dt = now - last_t
        print("in %5.1f frames/s, out %5.1f frames/s | latency from capture: "
              "last %.1f ms, average %.1f ms | processing %.2f ms | total %d"
              % ((n_in - last_in) / dt, (n_out - last_out) / dt,
                 src.get_value("latency-last"), src.get_value("latency-average"),
                 proc.get_value("average-processing-time") / 1e6, n_out),
              flush=True)
        self.last = (n_in, n_out, now)
        return GLib.SOURCE_CONTINUE

    def on_signal(self):
        if self.stopping:
            self.loop.quit()
            return GLib.SOURCE_CONTINUE
        self.stopping = True
        print("stopping", flush=True)
        self.pipeline.send_event(Gst.Event.new_eos())
        GLib.timeout_add_seconds(3, self.on_drain_timeout)
        return GLib.SOURCE_CONTINUE

    def on_drain_timeout(self):
        print("no EOS within 3 s, stopping anyway", file=sys.stderr)
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print("ERROR from %s: %s\n  debug: %s" % (msg.src.get_name(), err.message,
                                                     debug), file=sys.stderr)
            self.exit_code = 1
            self.loop.quit()
        elif msg.type == Gst.MessageType.WARNING:
            err, debug = msg.parse_warning()
            print("WARNING from %s: %s\n  debug: %s" % (msg.src.get_name(),
                                                       err.message, debug),
                  file=sys.stderr)
        elif msg.type == Gst.MessageType.EOS:
            print("end of stream", flush=True)
            self.loop.quit()

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.exit_code = 1
            # the reason is on the bus
            msg = self.pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
            if msg:
                self.on_message(None, msg)
        else:
            print("processing %s -> %s as consumer %s of group %s"
                  % (self.src.get_property("stream"), self.sink.get_property("stream"),
                     self.src.get_property("consumer"),
                     self.src.get_property("group")), flush=True)
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        src, sink, proc = self.stats()
        print("processed %d frames (read %d, written %d), latency from capture: "
              "average %.1f ms, max %.1f ms"
              % (proc.get_value("frames"), src.get_value("frames"),
                 sink.get_value("frames"), src.get_value("latency-average"),
                 src.get_value("latency-max")), flush=True)
        return self.exit_code


if __name__ == "__main__":
    Gst.init(None)
    sys.exit(Processor().run())
