#!/usr/bin/python3
"""Every media type a GStreamer user sends crosses a Redis hop unchanged.

For each common encoder of Debian 12's GStreamer packages (and raw video and
audio, and two muxers): a producer pipeline writes N buffers through
redisstreamsink into a private redis-server, keeping a copy of each buffer
it wrote (tee ! appsink); a reader pipeline reads them back with
redisstreamsrc start-id=0 and checks every payload bit-exact, its caps equal
to the producer's, and that the decoder on the reading side decodes them.
Each family also runs with a caps change in the middle of the stream
(a new resolution or sample rate, so new stream headers or codec data).
Then caps a reader cannot read are refused by the sink at negotiation.

Prints "N passed, N failed" (one case per line).
"""
import os
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "pylib"))
import gi  # noqa: E402
gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402,F401
from redisserver import RedisServer  # noqa: E402
from procs import stop  # noqa: E402

Gst.init(None)

N = 30
VIDEO = "videotestsrc pattern=ball is-live=false num-buffers=%d" % N
AUDIO = "audiotestsrc wave=ticks is-live=false num-buffers=%d" % N


def vcaps(fmt, w, h):
    return "video/x-raw,format=%s,width=%d,height=%d,framerate=30/1" % (fmt, w, h)


def acaps(rate, ch, fmt="S16LE"):
    return "audio/x-raw,format=%s,rate=%d,channels=%d" % (fmt, rate, ch)


# name: (source, raw caps before, raw caps after the change, encoder chain,
#        decoder chain on the reading side)
V1, V2 = vcaps("I420", 320, 240), vcaps("I420", 176, 144)
CASES = {
    "raw-video": (VIDEO, V1, V2, "identity", "videoconvert"),
    "raw-audio": (AUDIO, acaps(48000, 2), acaps(32000, 1), "identity",
                  "audioconvert"),
    "h264-byte-stream": (VIDEO, V1, V2,
                         "openh264enc ! h264parse ! video/x-h264,"
                         "stream-format=byte-stream,alignment=au",
                         "h264parse ! openh264dec"),
    "h264-avc": (VIDEO, V1, V2,
                 "openh264enc ! h264parse ! video/x-h264,stream-format=avc,"
                 "alignment=au", "h264parse ! openh264dec"),
    "h265": (VIDEO, V1, V2, "x265enc ! h265parse", "h265parse ! libde265dec"),
    "vp8": (VIDEO, V1, V2, "vp8enc deadline=1", "vp8dec"),
    "vp9": (VIDEO, V1, V2, "vp9enc deadline=1", "vp9dec"),
    "jpeg": (VIDEO, V1, V2, "jpegenc", "jpegdec"),
    "png": (VIDEO, vcaps("RGB", 160, 120), vcaps("RGB", 96, 64), "pngenc",
            "pngdec"),
    "opus": (AUDIO, acaps(48000, 2), acaps(24000, 1), "opusenc", "opusdec"),
    "vorbis": (AUDIO, acaps(44100, 2, "F32LE"), acaps(22050, 1, "F32LE"),
               "vorbisenc", "vorbisdec"),
    # flacenc refuses a new format mid-stream (not-negotiated): its family's
    # caps changes are the raw, Opus and Vorbis cases'
    "flac": (AUDIO, acaps(44100, 2), None, "flacenc", "flacparse ! flacdec"),
    "mpegts-h264": (VIDEO, V1, None, "openh264enc ! h264parse ! mpegtsmux",
                    "tsdemux ! h264parse ! openh264dec"),
    "matroska-vp8": (VIDEO, V1, None, "vp8enc deadline=1 ! matroskamux",
                     "matroskademux ! vp8dec"),
    # produced by Case.produce_text () through appsrc
    "text": (None, None, None, None, None),
}


def run(pipeline, timeout=60):
    """Plays @pipeline to EOS; returns the error message or None."""
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    msg = bus.timed_pop_filtered(timeout * Gst.SECOND,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None:
        return "no EOS within %d s" % timeout
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        return "%s (%s)" % (err.message, dbg)
    return None


def collect(appsink):
    """Every sample @appsink gets, pulled as it arrives (an appsink posts
    EOS only once everything was pulled)."""
    samples = []
    appsink.set_property("emit-signals", True)
    appsink.connect("new-sample", lambda s: samples.append(s.emit("pull-sample"))
                    or Gst.FlowReturn.OK)
    return samples


def payload(sample):
    buf = sample.get_buffer()
    ok, info = buf.map(Gst.MapFlags.READ)
    assert ok
    try:
        return bytes(info.data)
    finally:
        buf.unmap(info)


class Case:
    def __init__(self, server, name, change):
        self.server = server
        self.name = name
        self.change = change
        self.stream = name + ("-change" if change else "")

    def produce_text(self):
        """text/x-raw through appsrc: lines of UTF-8."""
        desc = ("appsrc name=src caps=text/x-raw,format=utf8 format=time ! "
                "tee name=t t. ! queue ! redisstreamsink port=%d stream=%s "
                "t. ! queue ! appsink name=in sync=false"
                % (self.server.port, self.stream))
        p = Gst.parse_launch(desc)
        src = p.get_by_name("src")
        samples = collect(p.get_by_name("in"))
        p.set_state(Gst.State.PLAYING)
        for i in range(N):
            b = Gst.Buffer.new_wrapped(("line %d: caf\u00e9 \u2713" % i)
                                       .encode())
            b.pts = i * Gst.SECOND // 30
            b.duration = Gst.SECOND // 30
            src.emit("push-buffer", b)
        src.emit("end-of-stream")
        msg = p.get_bus().timed_pop_filtered(
            30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        p.set_state(Gst.State.NULL)
        assert msg is not None, "text producer: no EOS"
        assert msg.type == Gst.MessageType.EOS, "text producer: %s" % (
            msg.parse_error()[0].message)
        return samples

    def produce(self):
        src, c1, c2, enc, _ = CASES[self.name]
        if self.name == "text":
            return self.produce_text()
        desc = ("%s ! capsfilter name=cf caps=%s ! %s ! tee name=t "
                "t. ! queue ! redisstreamsink port=%d stream=%s "
                "t. ! queue ! appsink name=in sync=false"
                % (src, c1, enc, self.server.port, self.stream))
        p = Gst.parse_launch(desc)
        if self.change:
            cf = p.get_by_name("cf")
            count = [0]

            def probe(pad, info):
                count[0] += 1
                if count[0] == N // 2:
                    cf.set_property("caps", Gst.Caps.from_string(c2))
                return Gst.PadProbeReturn.OK
            cf.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, probe)
        samples = collect(p.get_by_name("in"))
        err = run(p)
        assert err is None, "producer: " + err
        return samples

    def read(self, count, group, chain):
        """The first @count entries, read from the start in a new group,
        through @chain (nothing: as they are) into an appsink."""
        desc = ("redisstreamsrc port=%d stream=%s group=%s start-id=0 "
                "num-buffers=%d ! %s appsink name=out sync=false"
                % (self.server.port, self.stream, group, count,
                   chain + " !" if chain else ""))
        p = Gst.parse_launch(desc)
        got = collect(p.get_by_name("out"))
        err = run(p)
        assert err is None, "reader (%s): %s" % (chain or "as is", err)
        return got

    def check(self):
        sent = self.produce()
        assert len(sent) >= 2, "producer wrote %d buffers" % len(sent)
        xlen = self.server.client().xlen(self.stream)
        assert xlen == len(sent), "%d entries for %d buffers" % (xlen, len(sent))
        got = self.read(len(sent), "check", None)
        assert len(got) == len(sent), "read %d of %d" % (len(got), len(sent))
        caps_seen = set()
        for i, (a, b) in enumerate(zip(sent, got)):
            assert payload(a) == payload(b), "buffer %d differs" % i
            ca, cb = a.get_caps(), b.get_caps()
            assert ca.is_equal(cb), "buffer %d: caps %s, read as %s" % (
                i, ca.to_string(), cb.to_string())
            caps_seen.add(ca.to_string())
        if self.change:
            assert len(caps_seen) >= 2, "the caps did not change: %s" % caps_seen
        decoded = []
        if CASES[self.name][4]:
            decoded = self.read(len(sent), "decode", CASES[self.name][4])
            assert decoded, "the decoder on the reading side decoded nothing"
        return "%d buffers, %d caps, %d decoded" % (len(sent), len(caps_seen),
                                                   len(decoded))


def refused_at_negotiation(server):
    """Caps a reader could not read: the sink refuses them when they are
    set, with an error that says why, and writes nothing."""
    results = []
    for caps, why in (
            ("video/x-raw(memory:DMABuf),format=I420,width=64,"
             "height=48,framerate=30/1", "caps features"),
            ("application/x-test,value=(double)NaN", "writes and reads")):
        stream = "refused-%d" % len(results)
        p = Gst.parse_launch(
            "appsrc name=src format=time ! redisstreamsink port=%d stream=%s"
            % (server.port, stream))
        src = p.get_by_name("src")
        src.set_property("caps", Gst.Caps.from_string(caps))
        p.set_state(Gst.State.PLAYING)
        src.emit("push-buffer", Gst.Buffer.new_wrapped(b"x" * 100))
        src.emit("end-of-stream")
        msg = p.get_bus().timed_pop_filtered(
            20 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        p.set_state(Gst.State.NULL)
        assert msg is not None and msg.type == Gst.MessageType.ERROR, \
            "caps %s were not refused" % caps
        err, dbg = msg.parse_error()
        assert msg.src.get_name().startswith("redisstreamsink"), msg.src
        assert err.matches(Gst.StreamError.quark(), Gst.StreamError.FORMAT), err
        assert "no reader could read these caps" in err.message, err.message
        assert why in err.message, err.message
        assert server.client().exists(stream) == 0, "entries were written"
        results.append(err.message)
    return results


def main():
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="media-")
    server = RedisServer(tmp)
    try:
        todo = []
        for name, spec in CASES.items():
            todo.append((name, False))
            if spec[2]:
                todo.append((name, True))
        for name, change in todo:
            label = name + (" with a caps change" if change else "")
            try:
                info = Case(server, name, change).check()
                print("ok - %s: %s" % (label, info))
                passed += 1
            except Exception as e:  # noqa: BLE001
                print("not ok - %s: %s" % (label, e))
                traceback.print_exc()
                failed += 1
            sys.stdout.flush()
        try:
            msgs = refused_at_negotiation(server)
            print("ok - the sink refuses caps no reader could read: %s"
                  % " | ".join(msgs))
            passed += 1
        except Exception as e:  # noqa: BLE001
            print("not ok - the sink refuses caps no reader could read: %s" % e)
            traceback.print_exc()
            failed += 1
    finally:
        stop(server.proc)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
