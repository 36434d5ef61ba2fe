#!/usr/bin/python3
"""Runs one GStreamer pipeline with websocketsink (python3-gi) until SIGINT or
SIGTERM, as the process the tests attack.

  wsrun.py [--nofile N] [--set NAME.PROP=VALUE]... [--secret NAME.PROP=ENV]...
           'pipeline description'

--nofile      the process's descriptor limit (soft and hard), set before
              GStreamer starts, as `prlimit --nofile=N` would
--set         a property set with GObject's set_property after parsing
--secret      a property set from the environment variable ENV, so the secret
              is neither in the pipeline description (which GStreamer's parser
              logs) nor on this command line

Prints "PORT <n>" (current-port of the first websocketsink) once PLAYING, and
one line per bus message: "WARNING <text> | <debug>", "INFO <text>",
"ERROR (<domain> <code>) <text> | <debug>" (then exits 1), such as
"ERROR (resource settings) ...". Reads commands on stdin:
"set NAME.PROP VALUE" and "secret NAME.PROP ENV" (while playing), and
"stats NAME", which prints "STATS <structure>".
"""

import os
import resource
import sys

args = sys.argv[1:]
nofile, sets, secrets = None, [], []
while args and args[0].startswith("--"):
    opt = args.pop(0)
    if opt == "--nofile":
        nofile = int(args.pop(0))
    elif opt == "--set":
        sets.append(args.pop(0))
    elif opt == "--secret":
        secrets.append(args.pop(0))
    else:
        raise SystemExit("wsrun.py: unknown option " + opt)
if len(args) != 1:
    raise SystemExit(__doc__)
if nofile is not None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def code_name(err):
    """"resource settings" for GST_RESOURCE_ERROR_SETTINGS"""
    for domain, enum in ((Gst.ResourceError.quark(), Gst.ResourceError),
                         (Gst.StreamError.quark(), Gst.StreamError),
                         (Gst.CoreError.quark(), Gst.CoreError)):
        if err.domain == GLib.quark_to_string(domain):
            return "%s %s" % (enum.__name__.replace("Error", "").lower(),
                              enum(err.code).value_nick)
    return "%s %d" % (err.domain, err.code)


def set_prop(pipeline, target, value):
    name, prop = target.split(".", 1)
    el = pipeline.get_by_name(name)
    pspec = el.find_property(prop)
    if pspec.value_type.name in ("guint", "gint", "guint64", "gint64"):
        value = int(value)
    elif pspec.value_type.name == "gboolean":
        value = value.lower() in ("1", "true", "yes")
    el.set_property(prop, value)


def main():
    Gst.init(None)
    pipeline = Gst.parse_launch(args[0])
    for s in sets:
        target, value = s.split("=", 1)
        set_prop(pipeline, target, value)
    for s in secrets:
        target, env = s.split("=", 1)
        set_prop(pipeline, target, os.environ[env])

    sink = None
    it = pipeline.iterate_recurse()
    while True:
        res, el = it.next()
        if res != Gst.IteratorResult.OK:
            break
        if el.get_factory() and el.get_factory().get_name() == "websocketsink":
            sink = el

    loop = GLib.MainLoop()
    status = {"code": 0, "port": False}

    def on_message(bus, msg):
        t = msg.type
        if t == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            out("ERROR (%s) %s | %s" % (code_name(err), err.message, debug))
            status["code"] = 1
            loop.quit()
        elif t == Gst.MessageType.WARNING:
            err, debug = msg.parse_warning()
            out("WARNING %s | %s" % (err.message, debug))
        elif t == Gst.MessageType.INFO:
            err, debug = msg.parse_info()
            out("INFO %s" % err.message)
        elif t == Gst.MessageType.EOS:
            out("EOS")
            loop.quit()
        elif (t == Gst.MessageType.STATE_CHANGED and msg.src == pipeline and
              not status["port"]):
            _, new, _ = msg.parse_state_changed()
            if new == Gst.State.PLAYING:
                status["port"] = True
                out("PORT %d" % sink.get_property("current-port"))
        return True

    def on_stdin(fd, cond):
        line = sys.stdin.readline()
        if not line:
            return False
        words = line.split()
        if len(words) == 3 and words[0] == "set":
            set_prop(pipeline, words[1], words[2])
            out("OK")
        elif len(words) == 3 and words[0] == "secret":
            set_prop(pipeline, words[1], os.environ[words[2]])
            out("OK")
        elif len(words) == 2 and words[0] == "stats":
            out("STATS " + pipeline.get_by_name(words[1]).get_property("stats").to_string())
        return True

    bus = pipeline.get_bus()
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        # the ERROR message says why
        msg = bus.timed_pop_filtered(Gst.SECOND, Gst.MessageType.ERROR)
        if msg is not None:
            on_message(bus, msg)
        pipeline.set_state(Gst.State.NULL)
        return 1
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.io_add_watch(0, GLib.IO_IN | GLib.IO_HUP, on_stdin)
    for sig in (2, 15):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, lambda *a: loop.quit() or False)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return status["code"]


sys.exit(main())
