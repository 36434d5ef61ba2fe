#!/usr/bin/python3
"""A processing stage for the acknowledgement tests (fault_matrix.py), run
as its own process so that it can be killed at any point.

  ackproc.py --port P --consumer C --shape SHAPE [options]

SHAPE is what sits between redisstreamsrc (stream `in`, group `proc`) and
redisstreamsink (stream `out`):
  plain        nothing
  convert      videoconvert (raw video only)
  queue        a queue, then a stage slower than the producer (25 fps), so
               that the queue holds frames
  encoder      x265enc (look-ahead and B-frames: it holds frames)
  videorate    videorate to 15 fps (drops every other frame), a queue
  compositor   a second redisstreamsrc (stream `in2`) mixed in by compositor
               (which keeps no metas), a queue and a slow stage
  tee          tee to `out` and, through a queue and a slow stage, `out2`
  app          appsink -> the application (a queue of 20 frames, a "model"
               of 40 ms, a new buffer with the entry meta copied with
               Gst.Buffer.copy_into (META)) -> appsrc -> redisstreamsink
  pyframeproc  pyframeproc with --model (a .py file)
Options:
  --exactly-once       the sinks' exactly-once=true
  --ack-mode MODE      the sources' ack-mode (done)
  --no-copy-meta       (app) the application does not copy the meta
  --flush-cycles N     N times: PAUSED, a flush sent to the source, PLAYING
  --flush-queue        (flush) a queue before the sink
  --out-port P         the output stream on another server
  --sink-port P        the sink connects here (a proxy)
  --claim MS           claim-idle-time (default 0: only own pending)
  --max-deliveries N   the source's max-deliveries
  --log FILE           one line per input buffer at the compositor:
                       "in <compositor pad> <seq> <running time ns>";
                       at videorate: "in <seq> <pts>" for every buffer
                       that enters it, "out <pts>" for every one it passes
                       on (drop-only keeps the timestamps)
Runs until SIGINT or SIGTERM (then stops the pipelines: NULL), SIGUSR1
(an EOS first: what an encoder or an aggregator holds goes out, within
30 s), or, with --flush-cycles, until the cycles are done and --drain-s more
seconds.
"""

import argparse
import os
import queue
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

CAPS = "video/x-raw,format=I420,width=320,height=240"


def src(a, stream="in", name="src"):
    return ("redisstreamsrc name=%s port=%d stream=%s group=proc consumer=%s "
            "claim-idle-time=%d max-deliveries=%d ack-mode=%s" % (
                name, a.port, stream, a.consumer, a.claim, a.max_deliveries,
                a.ack_mode))


def sink(a, stream="out", name="sink"):
    return ("redisstreamsink name=%s port=%d stream=%s maxlen=0 exactly-once=%s "
            "key-unit-requests=false" % (
                name, a.sink_port or a.out_port or a.port, stream,
                "true" if a.exactly_once else "false"))


def describe(a):
    slow = "identity sleep-time=40000"
    shapes = {
        "plain": "%s ! %s" % (src(a), sink(a)),
        "convert": "%s ! videoconvert ! %s" % (src(a), sink(a)),
        "queue": "%s ! queue max-size-buffers=30 ! %s ! %s" % (src(a), slow, sink(a)),
        "encoder": "%s ! queue max-size-buffers=30 ! videoconvert ! "
                   "x265enc speed-preset=ultrafast key-int-max=30 ! h265parse ! %s"
                   % (src(a), sink(a)),
        "videorate": "%s ! videorate name=rate drop-only=true ! video/x-raw,framerate=15/1 ! "
                     "queue max-size-buffers=30 ! identity sleep-time=60000 ! %s"
                     % (src(a), sink(a)),
        "compositor": "compositor name=c ! %s ! queue max-size-buffers=30 ! "
                      "identity sleep-time=30000 ! %s  %s ! queue ! c.sink_0  "
                      "%s ! queue ! c.sink_1"
                      % (CAPS, sink(a), src(a), src(a, "in2", "src2")),
        "tee": "%s ! tee name=t ! queue max-size-buffers=30 ! %s  t. ! "
               "queue max-size-buffers=30 ! %s ! %s"
               % (src(a), sink(a), slow, sink(a, "out2", "sink2")),
        "pyframeproc": "%s ! pyframeproc module=%s format=GRAY8 ! %s"
                       % (src(a), a.model, sink(a)),
    }
    if a.flush_cycles:
        middle = "queue max-size-buffers=30 ! " if a.flush_queue else ""
        return "%s ! %s%s" % (src(a), middle, sink(a))
    return shapes[a.shape]


class App:
    """appsink -> a queue of 20 frames -> a 40 ms "model" -> appsrc."""

    def __init__(self, a):
        self.a = a
        self.first = Gst.parse_launch("%s ! appsink name=as sync=false max-buffers=5 enable-last-sample=false"
                                      % src(a))
        self.second = Gst.parse_launch(
            "appsrc name=ap format=time is-live=true max-buffers=10 block=true ! "
            "queue max-size-buffers=10 ! %s" % sink(a))
        self.appsink = self.first.get_by_name("as")
        self.appsrc = self.second.get_by_name("ap")
        self.work = queue.Queue(maxsize=20)
        self.running = True

    def pipelines(self):
        return [self.first, self.second]

    def start(self):
        # the output first: stop () takes the source's pipeline down first
        self.second.set_state(Gst.State.PLAYING)
        self.first.set_state(Gst.State.PLAYING)
        threading.Thread(target=self.pull, daemon=True).start()
        threading.Thread(target=self.process, daemon=True).start()

    def pull(self):
        while self.running:
            sample = self.appsink.emit("try-pull-sample", 100 * Gst.MSECOND)
            if sample is None:
                continue
            self.work.put(sample)

    def process(self):
        caps_set = False
        while self.running:
            try:
                sample = self.work.get(timeout=0.1)
            except queue.Empty:
                continue
            buf = sample.get_buffer()
            if not caps_set:
                self.appsrc.set_property("caps", sample.get_caps())
                caps_set = True
            time.sleep(0.040)           # the model
            ok, info = buf.map(Gst.MapFlags.READ)
            data = bytes(info.data)
            buf.unmap(info)
            out = Gst.Buffer.new_wrapped(data)
            flags = Gst.BufferCopyFlags.TIMESTAMPS
            if not self.a.no_copy_meta:
                flags |= Gst.BufferCopyFlags.META
            out.copy_into(buf, flags, 0, buf.get_size())
            # nothing of the frame may stay referenced here: the entry is
            # acknowledged when its last buffer goes
            del buf, sample, info
            ret = self.appsrc.emit("push-buffer", out)
            del out
            if ret != Gst.FlowReturn.OK:
                return

    def stop(self):
        self.running = False
        self.first.set_state(Gst.State.NULL)
        self.second.set_state(Gst.State.NULL)


class Plain:
    def __init__(self, a):
        self.a = a
        self.pipeline = Gst.parse_launch(describe(a))
        if a.log:
            self.log = open(a.log, "a", buffering=1)
            rate = self.pipeline.get_by_name("rate")
            if rate is not None:
                rate.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER,
                                                      self.rate_in)
                rate.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER,
                                                     self.rate_out)
            else:
                c = self.pipeline.get_by_name("c")
                for pad in c.sinkpads:
                    pad.add_probe(Gst.PadProbeType.BUFFER, self.probe)

    def rate_in(self, pad, info):
        buf = info.get_buffer()
        self.log.write("in %d %d\n" % (buf.offset, buf.pts))
        return Gst.PadProbeReturn.OK

    def rate_out(self, pad, info):
        self.log.write("out %d\n" % info.get_buffer().pts)
        return Gst.PadProbeReturn.OK

    def probe(self, pad, info):
        buf = info.get_buffer()
        seg = pad.get_sticky_event(Gst.EventType.SEGMENT, 0)
        if seg is not None:
            rt = seg.parse_segment().to_running_time(Gst.Format.TIME, buf.pts)
            # the sequence number: with ack-mode=pushed there is no meta
            self.log.write("in %s %d %d\n" % (pad.get_name(), buf.offset, rt))
        return Gst.PadProbeReturn.OK

    def pipelines(self):
        return [self.pipeline]

    def start(self):
        self.pipeline.set_state(Gst.State.PLAYING)

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


def flush_cycles(p, a, loop):
    """PAUSED, a flush from the source, PLAYING, while frames keep coming."""
    pipeline = p.pipeline
    source = pipeline.get_by_name("src")
    for i in range(a.flush_cycles):
        time.sleep(a.flush_interval)
        pipeline.set_state(Gst.State.PAUSED)
        time.sleep(0.1)
        source.send_event(Gst.Event.new_flush_start())
        source.send_event(Gst.Event.new_flush_stop(True))
        pipeline.set_state(Gst.State.PLAYING)
        print("cycle %d" % (i + 1), flush=True)
    time.sleep(a.drain_s)
    GLib.idle_add(loop.quit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--consumer", required=True)
    ap.add_argument("--shape", default="plain")
    ap.add_argument("--exactly-once", action="store_true")
    ap.add_argument("--ack-mode", default="done")
    ap.add_argument("--no-copy-meta", action="store_true")
    ap.add_argument("--flush-cycles", type=int, default=0)
    ap.add_argument("--flush-interval", type=float, default=0.5)
    ap.add_argument("--flush-queue", action="store_true")
    ap.add_argument("--drain-s", type=float, default=3.0)
    ap.add_argument("--out-port", type=int, default=0)
    ap.add_argument("--sink-port", type=int, default=0)
    ap.add_argument("--claim", type=int, default=0)
    ap.add_argument("--max-deliveries", type=int, default=5)
    ap.add_argument("--model", default="")
    ap.add_argument("--log", default="")
    a = ap.parse_args()

    Gst.init(None)
    p = App(a) if a.shape == "app" and not a.flush_cycles else Plain(a)
    loop = GLib.MainLoop()
    errors = []

    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print("ERROR: from element %s: %s\n%s" % (msg.src.get_name(), err.message, dbg),
                  file=sys.stderr, flush=True)
            errors.append(err.message)
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            print("eos", flush=True)
            loop.quit()
        elif msg.type == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            print("WARNING: from element %s: %s" % (msg.src.get_name(), err.message),
                  file=sys.stderr, flush=True)

    for pl in p.pipelines():
        bus = pl.get_bus()
        bus.add_signal_watch()
        bus.connect("message", on_message)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, lambda: (loop.quit(), False)[1])

    def drain():
        for pl in p.pipelines()[:1]:
            pl.send_event(Gst.Event.new_eos())
        GLib.timeout_add_seconds(30, lambda: (loop.quit(), False)[1])
        return False
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, drain)
    p.start()
    print("playing", flush=True)
    if a.flush_cycles:
        threading.Thread(target=flush_cycles, args=(p, a, loop), daemon=True).start()
    loop.run()
    sources = [pl.get_by_name("src") for pl in p.pipelines() if pl.get_by_name("src")]
    p.stop()
    for source in sources:
        print("stats %s" % source.get_property("stats").to_string(), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
