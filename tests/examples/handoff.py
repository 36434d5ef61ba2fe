#!/usr/bin/python3
"""Your own code between two Redis streams, outside GStreamer: frames taken
from an appsink, handed to the application (here a "model" that copies the
frame), its result pushed into an appsrc (docs/embedding.md, "From appsink
to appsrc").

    redisstreamsrc ! appsink      the application      appsrc ! redisstreamsink

The input entry is acknowledged once the result is stored: the application
copies the entry's meta (GstRedisEntryMeta) from the frame it took to the
buffer it pushes, and lets go of the frame. A frame the model cannot process
is failed (the ticket's "fail" signal): the source sets its entry aside in
the dead-letter stream. Environment: REDIS_SOCKET (or REDIS_HOST,
REDIS_PORT), INPUT_STREAM, OUTPUT_STREAM, PROCESSOR_GROUP, CONSUMER,
FAIL_EVERY (fail the frames whose seq % FAIL_EVERY == FAIL_EVERY - 1; 0:
none). SIGINT or SIGTERM: EOS, then exit 0.
"""

import os
import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def connection():
    if os.environ.get("REDIS_SOCKET"):
        return "socket-path=%s" % os.environ["REDIS_SOCKET"]
    return "host=%s port=%s" % (os.environ.get("REDIS_HOST", "127.0.0.1"),
                                os.environ.get("REDIS_PORT", "6379"))


def process(frame_bytes):
    """The model: here the result is the frame itself."""
    return frame_bytes


def main():
    Gst.init(None)
    env = os.environ.get
    reading = Gst.parse_launch(
        "redisstreamsrc %s stream=%s group=%s consumer=%s ! appsink name=frames sync=false "
        "max-buffers=8" % (connection(), env("INPUT_STREAM", "video-frames"),
                           env("PROCESSOR_GROUP", "processors"), env("CONSUMER", "handoff")))
    writing = Gst.parse_launch(
        "appsrc name=results format=time ! redisstreamsink %s stream=%s"
        % (connection(), env("OUTPUT_STREAM", "processed-frames")))
    appsink = reading.get_by_name("frames")
    appsrc = writing.get_by_name("results")
    fail_every = int(env("FAIL_EVERY", "0"))
    loop = GLib.MainLoop()
    counts = {"processed": 0, "failed": 0}

    def work():
        caps_set = False
        while True:
            sample = appsink.emit("try-pull-sample", 100 * Gst.MSECOND)
            if sample is None:
                if appsink.get_property("eos"):
                    appsrc.emit("end-of-stream")
                    return
                continue
            frame = sample.get_buffer()
            if not caps_set:
                appsrc.set_property("caps", sample.get_caps())
                caps_set = True
            if fail_every and frame.offset % fail_every == fail_every - 1:
                # the model cannot process it: its entry is set aside
                meta = frame.get_custom_meta("GstRedisEntryMeta")
                meta.get_structure().get_value("ticket").emit(
                    "fail", "handoff.py: cannot process seq %d" % frame.offset)
                del meta
                counts["failed"] += 1
            else:
                ok, info = frame.map(Gst.MapFlags.READ)
                result = Gst.Buffer.new_wrapped(process(bytes(info.data)))
                frame.unmap(info)
                del info
                # the essential line: the entry's meta (and the timestamps,
                # the flags) go with the result
                result.copy_into(frame, Gst.BufferCopyFlags.FLAGS |
                                 Gst.BufferCopyFlags.TIMESTAMPS | Gst.BufferCopyFlags.META,
                                 0, frame.get_size())
                # the frame is let go of before the result is pushed: the
                # entry is acknowledged once no buffer carries it any more
                del frame, sample
                if appsrc.emit("push-buffer", result) != Gst.FlowReturn.OK:
                    return
                del result
                counts["processed"] += 1
                continue
            del frame, sample

    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print("ERROR from %s: %s\n  debug: %s" % (msg.src.get_name(), err.message, dbg),
                  flush=True)
            loop.quit()
        elif msg.type == Gst.MessageType.EOS and msg.src == writing:
            loop.quit()

    for pipeline in (reading, writing):
        bus = pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", on_message)

    def on_signal():
        reading.send_event(Gst.Event.new_eos())
        GLib.timeout_add_seconds(3, lambda: (loop.quit(), False)[1])
        return GLib.SOURCE_REMOVE
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, on_signal)

    # the writing side first, so that the reading side never waits for it
    if writing.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE or \
            reading.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        GLib.idle_add(lambda: (loop.quit(), False)[1])
        failed = True
    else:
        threading.Thread(target=work, daemon=True).start()
        print("processing", flush=True)
        failed = False
    loop.run()
    # the reading side stops first: what it still has in flight stays pending
    reading.set_state(Gst.State.NULL)
    writing.set_state(Gst.State.NULL)
    print("processed %d frames, failed %d" % (counts["processed"], counts["failed"]), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
