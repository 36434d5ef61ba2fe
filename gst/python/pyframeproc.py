# GStreamer Redis Streams elements
# Copyright (C) 2026 The gst-redis-streams authors
#
# This library is free software; you can redistribute it and/or
# modify it under the terms of the GNU Library General Public
# License as published by the Free Software Foundation; either
# version 2.1 of the License, or (at your option) any later version.
#
# This library is distributed in the hope that it will be useful,
# but WITHOUT ANY WARRANTY; without even the implied warranty of
# MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU
# Library General Public License for more details.
#
# You should have received a copy of the GNU Library General Public
# License along with this library; if not, write to the
# Free Software Foundation, Inc., 51 Franklin St, Fifth Floor,
# Boston, MA 02110-1301, USA.

"""
SECTION:element-pyframeproc
@title: pyframeproc

Runs a team's Python function on every video frame and attaches the
detections it returns to the frame as #GstVideoRegionOfInterestMeta, which
redisstreamsink writes into the stream entry's `meta` and websocketsink's
viewer draws. Loaded by GStreamer's Python plugin loader (Debian packages
`gstreamer1.0-python3-plugin-loader` and `python3-gst-1.0`) from the
`python/` folder next to the plugins.

The function, `process(frame, **parameters)`, is looked up in
#pyframeproc:module (a `.py` file or an importable module name) under the
name #pyframeproc:function when the element starts; the module is imported
then, so its top-level code (loading a model) runs once. An error naming the
file and the function stops the start when the module cannot be imported
or has no such function.

## The frame

`frame` is a NumPy array (read-only unless #pyframeproc:writable is set)
in the format named by #pyframeproc:format: shape (height, width,
channels) of `uint8` for the RGB family (BGR, RGB: 3 channels; BGRA, RGBA,
ARGB, ABGR, BGRx, RGBx, xRGB, xBGR: 4), (height, width) for GRAY8 (`uint8`)
and GRAY16_LE (`uint16`). Its row stride is the buffer's
(`frame.strides[0]`, from the buffer's #GstVideoMeta or the caps).

* Frames that come in that format are given as a view of the mapped
  buffer itself: no copy.
* For GRAY8, frames in a planar YUV format (I420, YV12, NV12, NV21, Y42B,
  Y444, Y41B) are given as a view of their luma plane: no copy either.
* Frames in any other format are converted once, by a videoconvert of the
  element's own, and the function gets a view of the converted frame.

In every case the buffer goes downstream as it came, in its own format,
with the detections: no conversion back, and no videoconvert needed after
the element (whose scaling of region metas drops their parameters, the
scores, in GStreamer 1.22). With #pyframeproc:writable the function draws
into the buffer itself, so the element then takes only frames in the
function's format (put `videoconvert` before it).

The array is valid only while the function runs: a function that keeps a
frame for later keeps `frame.copy()`. (One that keeps the view itself
holds the buffer's memory until it lets go, with a warning; more than 16
frames held that way stop the pipeline with an error.)

## The detections

The function returns `None` (nothing found), or a list, tuple or NumPy
array of detections, each either

* a dict `{"box": (x, y, w, h), "label": str, "score": float, "id": int}`:
  `box` is required (pixels, numbers, rounded), `label` defaults to
  "object" (at most 64 bytes of UTF-8), `score` is optional (a finite
  number), `id` defaults to 0 (32-bit); other keys are ignored; or
* a sequence of 4 numbers `(x, y, w, h)`: a box labelled "object", as
  OpenCV's `detectMultiScale()` returns them.

Each becomes a #GstVideoRegionOfInterestMeta with roi_type = label, the id,
the box clipped to the frame, and, when there is a score, a parameter
structure "detection" with the field `score` (G_TYPE_DOUBLE). A detection
that is none of these (a box outside the frame or empty, a number that is
not finite, a label that is not a string) is left out, counted in
`bad-detections` and logged; a return value that is not a list of
detections is counted in `bad-results`; the frame goes on either way. At
most 4096 regions per frame (what a stream reader accepts).

## When the function raises

The frame is marked failed and dropped; the exception is counted in
`failed`, logged with its traceback, and posted as a warning (the first at
once, then at most one every 10 s with the count since). When the frame
came from a redisstreamsrc that tracks its entries (a custom meta
"GstRedisEntryMeta" with a "ticket" object), the ticket's `fail` signal is
emitted with the reason ("pyframeproc: ValueError: ...") so that the source
sets the entry aside (see the acknowledgement docs); without one the frame
is only dropped and counted. The pipeline goes on with the next frame.

## Messages

"pyframeproc" (element message, only with #pyframeproc:post-messages), one
per frame the function returned for:

* `timestamp`, `stream-time`, `running-time`, `duration` (G_TYPE_UINT64)
* `frame` (G_TYPE_UINT64): frames given to the function so far, this one
  included
* `processing-time` (G_TYPE_UINT64): nanoseconds in the function
* `detections` (GST_TYPE_LIST of GstStructure "detection": `label`
  (G_TYPE_STRING), `id` (G_TYPE_INT), `x`, `y`, `width`, `height`
  (G_TYPE_UINT), and `score` (G_TYPE_DOUBLE) when there is one)

## Statistics

#pyframeproc:stats, a "pyframeproc-stats" structure of G_TYPE_UINT64
fields: `frames` (given to the function), `failed` (it raised), `bad-results`
(it returned something that is not a list of detections), `bad-detections`
(detections left out), `detections` (attached), `kept-frames` (calls after
which it held a view of its frame), `conversions` (frames converted for
it), `last-processing-time` and `average-processing-time` (ns in the
function), `last-overhead` and `average-overhead` (ns the element spent on
a frame around the function: conversion, mapping, metas, messages).

## Example launch lines
|[
gst-launch-1.0 -m videotestsrc num-buffers=30 ! pyframeproc module=model.py post-messages=true ! fakesink
]| Runs process() of model.py on 30 frames, given as BGR, and prints a
"pyframeproc" message with the detections of each.
|[
gst-launch-1.0 redisstreamsrc stream=video-frames group=processors ! pyframeproc module=facedetect.py ! redisstreamsink stream=processed-frames
]| The processing stage: frames from Redis, the detections of the function
in the meta of the stored entries.

Since: 1.0
"""

import ctypes
import importlib
import importlib.util
import inspect
import math
import numbers
import os
import sys
import threading
import time
import traceback

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstBase", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GObject, Gst, GstBase, GstVideo  # noqa: E402

# The frame formats a function can ask for: packed, one plane.
# format -> (NumPy dtype, channels); 1 channel gives a 2-dimensional array.
FORMATS = {
    "BGR": ("u1", 3), "RGB": ("u1", 3),
    "BGRA": ("u1", 4), "RGBA": ("u1", 4), "ARGB": ("u1", 4), "ABGR": ("u1", 4),
    "BGRx": ("u1", 4), "RGBx": ("u1", 4), "xRGB": ("u1", 4), "xBGR": ("u1", 4),
    "GRAY8": ("u1", 1), "GRAY16_LE": ("<u2", 1),
}
# Planar YUV formats whose first plane is 8-bit luma: a GRAY8 view of it
# needs no conversion.
LUMA_FORMATS = ("I420", "YV12", "NV12", "NV21", "Y42B", "Y444", "Y41B")
# What the element takes: the formats above, and the common others it
# converts from with a private videoconvert.
INPUT_FORMATS = list(FORMATS) + list(LUMA_FORMATS) + [
    "YUY2", "UYVY", "YVYU", "AYUV", "v308", "GRAY16_BE", "RGB16", "BGR16"]
CAPS = ("video/x-raw, format=(string){ %s }, width=(int)[ 1, 2147483647 ], "
        "height=(int)[ 1, 2147483647 ], framerate=(fraction)[ 0/1, 2147483647/1 ]"
        % ", ".join(INPUT_FORMATS))

DEFAULT_FUNCTION = "process"
DEFAULT_FORMAT = "BGR"
DEFAULT_LABEL = "object"
MAX_LABEL_BYTES = 64          # what a stream reader accepts as a region type
MAX_REGIONS = 4096            # regions per frame a stream reader accepts
MAX_KEPT = 16                 # frames a function may hold views of
WARNING_INTERVAL = 10.0       # s between two warnings about failed frames

# GST_BASE_TRANSFORM_FLOW_DROPPED, a C macro that introspection does not see
FLOW_DROPPED = Gst.FlowReturn.CUSTOM_SUCCESS

# The acknowledgement interface of redisstreamsrc: the custom meta every
# buffer it reads carries, and the ticket object in its structure.
ENTRY_META = "GstRedisEntryMeta"


def fail_entry(buf, reason):
    """Tells the redisstreamsrc that read the frame of @buf that processing
    failed, through the "fail" action signal of the ticket in the buffer's
    "GstRedisEntryMeta"; the source then sets the entry aside with @reason.
    Returns True when there was a ticket to fail, False when the buffer
    carries no entry meta (not from a redisstreamsrc, or one that does not
    track entries: the meta is not even registered then)."""
    meta = buf.get_custom_meta(ENTRY_META)
    if meta is None:
        return False
    s = meta.get_structure()
    ticket = s.get_value("ticket") if s.has_field("ticket") else None
    if not isinstance(ticket, GObject.Object) or \
            GObject.signal_lookup("fail", ticket.__gtype__) == 0:
        return False
    ticket.emit("fail", reason)
    return True


def _debug_category():
    """A debug category of our own, "pyframeproc", as a C element has.
    GStreamer's introspection offers no constructor for one, so it is made
    with the C function behind GST_DEBUG_CATEGORY_INIT and then found by
    name; without it, messages go to gst-python's "python" category."""
    found = [c for c in Gst.debug_get_all_categories()
             if c.get_name() == "pyframeproc"]
    if not found:
        try:
            new = ctypes.CDLL("libgstreamer-1.0.so.0")._gst_debug_category_new
            new.restype = ctypes.c_void_p
            new.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p]
            new(b"pyframeproc", 0, b"Python frame processing stage")
        except (OSError, AttributeError):
            pass
        found = [c for c in Gst.debug_get_all_categories()
                 if c.get_name() in ("pyframeproc", "python")]
    return found[0] if found else None


CAT = _debug_category()


def _exception_text(e):
    """"ValueError: what it says", for messages and dead letters."""
    try:
        what = str(e)
    except Exception:
        what = "(its text could not be made)"
    return "%s: %s" % (type(e).__name__, what) if what else type(e).__name__


def _float_created_from_c(obj):
    """Gives back the floating reference GStreamer expects of a new element.

    Created by gst_element_factory_make () (gst-launch-1.0, a parsed
    pipeline), the object's Python wrapper is made inside g_object_new ()
    and PyGObject 3.42 sinks its floating reference for the wrapper; the
    factory then finds the element not floating ("The created element
    should be floating, this is probably caused by faulty bindings") and a
    bin would take a second reference. So a reference of its own is added
    for the caller, floating as a new element's is. The wrapper's reference
    stays with the wrapper: when a Python caller takes the element, the
    wrapper is its owner; in a pipeline made from C the orphaned wrapper
    keeps the element until the process ends, as it did before."""
    if obj.is_floating():
        return
    try:
        ptr = _pythonapi_capsule_pointer(obj.__gpointer__)
        _libgobject.g_object_ref(ptr)
        _libgobject.g_object_force_floating(ptr)
    except (OSError, AttributeError):
        pass


def _pythonapi_capsule_pointer(capsule):
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return get(capsule, None)


try:
    _libgobject = ctypes.CDLL("libgobject-2.0.so.0")
    _libgobject.g_object_ref.argtypes = [ctypes.c_void_p]
    _libgobject.g_object_ref.restype = ctypes.c_void_p
    _libgobject.g_object_force_floating.argtypes = [ctypes.c_void_p]
except OSError:
    _libgobject = None


class BadDetection(ValueError):
    pass


def _real(v, what):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise BadDetection("%s is %r, not a number" % (what, v))
    v = float(v)
    if not math.isfinite(v):
        raise BadDetection("%s is %r, not a finite number" % (what, v))
    return v


def _detection(d, width, height):
    """One detection as (label, id, x, y, w, h, score or None), the box
    rounded and clipped to the frame; raises BadDetection."""
    if isinstance(d, dict):
        if "box" not in d:
            raise BadDetection("a detection without \"box\": %.80r" % (d,))
        box = d["box"]
        label = d.get("label", DEFAULT_LABEL)
        score = d.get("score")
        ident = d.get("id", 0)
    else:
        box, label, score, ident = d, DEFAULT_LABEL, None, 0
    try:
        if isinstance(box, (str, bytes)) or len(box) != 4:
            raise TypeError
        x, y, w, h = box
    except TypeError:
        raise BadDetection("box %.80r is not 4 numbers (x, y, w, h)" % (box,)) from None
    x, y, w, h = (_real(v, n) for v, n in zip((x, y, w, h), "xywh"))
    x0, y0 = max(0, round(x)), max(0, round(y))
    x1, y1 = min(width, round(x + w)), min(height, round(y + h))
    if x1 <= x0 or y1 <= y0:
        raise BadDetection("box %r is empty or outside the %dx%d frame"
                           % ((x, y, w, h), width, height))
    if not isinstance(label, str):
        raise BadDetection("label %.80r is not a string" % (label,))
    try:
        if len(label.encode("utf-8")) > MAX_LABEL_BYTES:
            raise BadDetection("label %.80r is longer than %d bytes"
                               % (label, MAX_LABEL_BYTES))
    except UnicodeEncodeError:
        raise BadDetection("label %.80r is not valid text" % (label,)) from None
    if score is not None:
        score = _real(score, "score")
    if isinstance(ident, bool) or not isinstance(ident, numbers.Integral) or \
            not -2**31 <= int(ident) < 2**31:
        raise BadDetection("id %.80r is not a 32-bit integer" % (ident,))
    return label, int(ident), x0, y0, x1 - x0, y1 - y0, score


def detections_from_result(result, width, height, room=MAX_REGIONS):
    """The detections a function returned, validated: (list of
    _detection () tuples, errors), errors being the text of each left out.
    Raises TypeError when the value is not a list of detections at all."""
    if result is None:
        return [], []
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__len__") \
            or not hasattr(result, "__iter__"):
        raise TypeError("returned %.80r (a %s), not a list of detections"
                        % (result, type(result).__name__))
    ndim = getattr(result, "ndim", None)
    if ndim is not None and ndim != 2 and len(result) > 0:
        raise TypeError("returned an array of shape %s, not (n, 4) boxes"
                        % (result.shape,))
    out, errors = [], []
    for d in result:
        try:
            if len(out) >= room:
                raise BadDetection("more than %d regions on the frame" % MAX_REGIONS)
            out.append(_detection(d, width, height))
        except BadDetection as e:
            errors.append(str(e))
    return out, errors


def _load_function(module, function):
    """Imports @module (a .py path or a module name) and returns
    (function, what) where what names them for messages; raises
    _StartError."""
    if not module:
        raise _StartError(Gst.ResourceError.SETTINGS,
                          "No Python module set: set the property \"module\" to a .py "
                          "file or an importable module name", None)
    is_path = module.endswith(".py") or os.sep in module
    what = "\"%s\"" % (os.path.abspath(module) if is_path else module)
    try:
        if is_path:
            path = os.path.abspath(module)
            if not os.path.isfile(path):
                raise _StartError(Gst.ResourceError.NOT_FOUND,
                                  "Python module file %s not found (function \"%s\")"
                                  % (what, function), None)
            name = "pyframeproc_user_" + "".join(
                c if c.isalnum() else "_" for c in path)
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            # its own folder first, so that it imports its neighbours
            sys.path.insert(0, os.path.dirname(path))
            sys.modules[name] = mod
            try:
                spec.loader.exec_module(mod)
            except BaseException:
                del sys.modules[name]
                raise
        else:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as e:
                if e.name != module.split(".")[0] and e.name != module:
                    raise
                hint = ("module=%s.py" % module if os.path.isfile(module + ".py")
                        else "a .py file, or add its folder to PYTHONPATH")
                raise _StartError(Gst.ResourceError.NOT_FOUND,
                                  "No Python module %s on the module path (function "
                                  "\"%s\"); give %s" % (what, function, hint),
                                  "sys.path: %s" % sys.path) from None
    except _StartError:
        raise
    except BaseException as e:
        raise _StartError(Gst.LibraryError.INIT,
                          "Could not import the Python module %s (function \"%s\"): "
                          "%s: %s" % (what, function, type(e).__name__, e),
                          traceback.format_exc()) from None
    fn = getattr(mod, function, None)
    if not callable(fn):
        have = sorted(n for n, v in vars(mod).items()
                      if callable(v) and not n.startswith("_") and
                      getattr(v, "__module__", None) == mod.__name__)
        raise _StartError(Gst.ResourceError.NOT_FOUND,
                          "The Python module %s has no function \"%s\"%s"
                          % (what, function,
                             " (it has: %s)" % ", ".join(have) if have else ""),
                          "file: %s" % getattr(mod, "__file__", None))
    return fn, "%s() of %s" % (function, what)


class _Converter:
    """A private videoconvert that turns the element's frames into the
    function's format, driven from the streaming thread: a frame pushed into
    its sink pad comes back, converted, to our own sink pad before push ()
    returns. The element's own buffer goes on unconverted, with the metas:
    no conversion back, and no videoconvert after the element, whose scaling
    of region metas drops their parameters (the scores) in GStreamer 1.22."""

    def __init__(self, incaps, fmt):
        s = incaps.get_structure(0)
        out = Gst.Structure.new_empty("video/x-raw")
        out.set_value("format", fmt)
        for name in ("width", "height", "framerate", "pixel-aspect-ratio"):
            if s.has_field(name):
                out.set_value(name, s.get_value(name))
        self.out_caps = Gst.Caps.new_empty()
        self.out_caps.append_structure(out)
        self.info = None
        self.buffer = None
        self.element = Gst.ElementFactory.make("videoconvert", None)
        if self.element is None:
            raise RuntimeError("no videoconvert element (gstreamer1.0-plugins-base)")
        self.src = Gst.Pad.new("src", Gst.PadDirection.SRC)
        self.sink = Gst.Pad.new("sink", Gst.PadDirection.SINK)
        self.sink.set_chain_function_full(self._chain, None)
        self.sink.set_event_function_full(self._event, None)
        self.sink.set_query_function_full(self._query, None)
        self.src.set_active(True)
        self.sink.set_active(True)
        if self.src.link(self.element.get_static_pad("sink")) != Gst.PadLinkReturn.OK or \
                self.element.get_static_pad("src").link(self.sink) != Gst.PadLinkReturn.OK:
            raise RuntimeError("could not link a private videoconvert")
        self.element.set_state(Gst.State.PLAYING)
        segment = Gst.Segment()
        segment.init(Gst.Format.TIME)
        self.src.push_event(Gst.Event.new_stream_start("pyframeproc-convert"))
        if not self.src.push_event(Gst.Event.new_caps(incaps)):
            self.close()
            raise RuntimeError("videoconvert cannot convert %s to %s"
                               % (incaps.to_string(), self.out_caps.to_string()))
        self.src.push_event(Gst.Event.new_segment(segment))

    def _chain(self, pad, parent, buf):
        self.buffer = buf
        return Gst.FlowReturn.OK

    def _event(self, pad, parent, event):
        if event.type == Gst.EventType.CAPS:
            self.info = GstVideo.VideoInfo.new_from_caps(event.parse_caps())
        return True

    def _query(self, pad, parent, query):
        if query.type == Gst.QueryType.CAPS:
            filter_ = query.parse_caps()
            query.set_caps_result(self.out_caps if filter_ is None else
                                  filter_.intersect_full(self.out_caps,
                                                         Gst.CapsIntersectMode.FIRST))
            return True
        if query.type == Gst.QueryType.ACCEPT_CAPS:
            query.set_accept_caps_result(
                query.parse_accept_caps().can_intersect(self.out_caps))
            return True
        return pad.query_default(parent, query)

    def convert(self, buf):
        """The frame of @buf in the function's format, a new buffer, and
        its GstVideoInfo; None when videoconvert failed."""
        self.buffer = None
        ret = self.src.push(buf)
        out, self.buffer = self.buffer, None
        return (out, self.info) if ret == Gst.FlowReturn.OK and out is not None else None

    def close(self):
        self.element.set_state(Gst.State.NULL)


class _StartError(Exception):
    def __init__(self, code, text, debug):
        super().__init__(text)
        self.code, self.text, self.debug = code, text, debug


def _param_flags(*extra):
    flags = GObject.ParamFlags.READWRITE
    for f in extra:
        flags |= f
    return flags


class PyFrameProc(GstBase.BaseTransform):
    __gtype_name__ = "GstPyFrameProc"
    __gstmetadata__ = (
        "Python frame processor",
        "Filter/Analyzer/Video",
        "Runs a Python function on every video frame, given as a NumPy view "
        "of the buffer, and attaches the detections it returns as "
        "region-of-interest metas",
        "The gst-redis-streams authors")

    __gsttemplates__ = (
        Gst.PadTemplate.new("sink", Gst.PadDirection.SINK,
                            Gst.PadPresence.ALWAYS, Gst.Caps.from_string(CAPS)),
        Gst.PadTemplate.new("src", Gst.PadDirection.SRC,
                            Gst.PadPresence.ALWAYS, Gst.Caps.from_string(CAPS)),
    )

    __gproperties__ = {
        # pyframeproc:module: the .py file (a path, relative to the current
        # folder) or the importable module name (on sys.path, PYTHONPATH)
        # holding the function. Imported at start.
        "module": (str, "Module",
                   "The Python module holding the function: a .py file or an "
                   "importable module name",
                   None, _param_flags(Gst.PARAM_MUTABLE_READY)),
        # pyframeproc:function: the name of the function in the module.
        "function": (str, "Function",
                     "Name of the function called with every frame",
                     DEFAULT_FUNCTION, _param_flags(Gst.PARAM_MUTABLE_READY)),
        # pyframeproc:format: the video format the function wants its frames
        # in; frames in another one are converted for it (or, for GRAY8, their
        # luma plane viewed) and go on unchanged.
        "format": (str, "Format",
                   "Video format of the frames given to the function: %s"
                   % ", ".join(FORMATS),
                   DEFAULT_FORMAT, _param_flags(Gst.PARAM_MUTABLE_READY)),
        # pyframeproc:parameters: keyword arguments for the function, as a
        # structure ("p, min-size=40, label=face"); "-" in field names
        # becomes "_". Checked against the function's signature at start.
        "parameters": (Gst.Structure, "Parameters",
                       "Keyword arguments of the function, as a structure whose "
                       "fields are the arguments (- becomes _)",
                       _param_flags(Gst.PARAM_MUTABLE_READY)),
        # pyframeproc:writable: give the function a writable frame, whose
        # changes (drawings) go downstream; the element then takes only
        # frames in #pyframeproc:format.
        "writable": (bool, "Writable",
                     "Give the function a writable frame (only frames in its format "
                     "are taken then); what it draws goes downstream", False,
                     _param_flags(Gst.PARAM_MUTABLE_READY)),
        # pyframeproc:post-messages: a "pyframeproc" element message for
        # every frame.
        "post-messages": (bool, "Post Messages",
                          "Post a pyframeproc element message with the detections "
                          "of every frame", False,
                          _param_flags(Gst.PARAM_MUTABLE_PLAYING)),
        # pyframeproc:stats: counters, see the element docs.
        "stats": (Gst.Structure, "Statistics",
                  "Counters: frames, failed, bad-results, bad-detections, "
                  "detections, kept-frames, conversions; last and average "
                  "processing time and overhead (ns)",
                  GObject.ParamFlags.READABLE),
    }

    def __init__(self):
        super().__init__()
        self.set_in_place(True)
        self.set_passthrough(False)
        self._lock = threading.Lock()
        self._settings = {"module": None, "function": DEFAULT_FUNCTION,
                          "format": DEFAULT_FORMAT, "parameters": None,
                          "writable": False, "post-messages": False}
        self._fn = None
        self._kept = []
        self._converter = None
        self._info = None
        self._format = DEFAULT_FORMAT
        self._reset_stats()
        _float_created_from_c(self)

    # --- logging -----------------------------------------------------------

    def _log(self, level, text):
        if CAT is None or CAT.get_threshold() < level:
            return
        f = sys._getframe(1)
        Gst.debug_log_literal(CAT, level, f.f_code.co_filename,
                              f.f_code.co_name, f.f_lineno, self, text)

    def _post(self, kind, code, text, debug, depth=1):
        """GST_ELEMENT_ERROR/WARNING: @code is a Gst.CoreError,
        Gst.LibraryError, Gst.ResourceError or Gst.StreamError value; the
        message names the caller's line (@depth frames up)."""
        f = sys._getframe(depth)
        self.message_full(kind, type(code).quark(), code, text, debug,
                          f.f_code.co_filename, f.f_code.co_name, f.f_lineno)

    def _error(self, code, text, debug):
        self._log(Gst.DebugLevel.ERROR, text + ("\n" + debug if debug else ""))
        self._post(Gst.MessageType.ERROR, code, text, debug, depth=2)

    # --- properties --------------------------------------------------------

    def do_get_property(self, prop):
        if prop.name == "stats":
            return self._stats_structure()
        with self._lock:
            v = self._settings[prop.name]
        return v.copy() if isinstance(v, Gst.Structure) else v

    def do_set_property(self, prop, value):
        if isinstance(value, Gst.Structure):
            value = value.copy()
        if prop.name == "function" and not value:
            value = DEFAULT_FUNCTION
        if prop.name == "format" and not value:
            value = DEFAULT_FORMAT
        with self._lock:
            self._settings[prop.name] = value

    # --- statistics --------------------------------------------------------

    def _reset_stats(self):
        self._frames = self._failed = self._bad_results = 0
        self._bad_detections = self._detections = self._kept_frames = 0
        self._conversions = 0
        self._last_time = self._total_time = 0
        self._last_overhead = self._total_overhead = 0
        self._warned_at = None
        self._unwarned = 0

    def _stats_structure(self):
        with self._lock:
            n = self._frames
            fields = [
                ("frames", n), ("failed", self._failed),
                ("bad-results", self._bad_results),
                ("bad-detections", self._bad_detections),
                ("detections", self._detections),
                ("kept-frames", self._kept_frames),
                ("conversions", self._conversions),
                ("last-processing-time", self._last_time),
                ("average-processing-time", self._total_time // n if n else 0),
                ("last-overhead", self._last_overhead),
                ("average-overhead", self._total_overhead // n if n else 0),
            ]
        s = Gst.Structure.new_empty("pyframeproc-stats")
        for name, v in fields:
            val = GObject.Value(GObject.TYPE_UINT64, v)
            s.set_value(name, val)
        return s

    # --- start, stop, caps ---------------------------------------------------

    def do_start(self):
        with self._lock:
            settings = dict(self._settings)
            self._reset_stats()
        fmt = settings["format"]
        fn = settings["function"]
        if fmt not in FORMATS:
            self._error(Gst.ResourceError.SETTINGS,
                        "pyframeproc cannot give frames in format \"%s\"; use one of %s"
                        % (fmt, ", ".join(FORMATS)), None)
            return False
        try:
            import numpy
            self._np = numpy
        except ImportError as e:
            self._error(Gst.LibraryError.INIT,
                        "pyframeproc needs NumPy (Debian package python3-numpy): %s" % e,
                        traceback.format_exc())
            return False
        try:
            self._fn, self._what = _load_function(settings["module"], fn)
            self._kwargs = self._parameters(settings["parameters"])
        except _StartError as e:
            self._error(e.code, e.text, e.debug)
            return False
        self._format = fmt
        self._dtype, self._channels = FORMATS[fmt]
        self._flags = Gst.MapFlags.READ | (Gst.MapFlags.WRITE if settings["writable"]
                                           else 0)
        self._log(Gst.DebugLevel.INFO, "calling %s with %s frames, parameters %s"
                  % (self._what, fmt, self._kwargs))
        self._info = None
        return True

    def _parameters(self, structure):
        kwargs = {}
        if structure is not None:
            for i in range(structure.n_fields()):
                name = structure.nth_field_name(i)
                kwargs[name.replace("-", "_")] = structure.get_value(name)
        try:
            inspect.signature(self._fn).bind(None, **kwargs)
        except TypeError as e:
            raise _StartError(Gst.ResourceError.SETTINGS,
                              "%s cannot be called as %s(frame%s): %s"
                              % (self._what, self._fn.__name__,
                                 "".join(", %s=%r" % kv for kv in kwargs.items()), e),
                              None) from None
        except ValueError:
            pass    # no signature (a builtin): found out at the first call
        return kwargs

    def do_stop(self):
        # Views the function still holds keep their buffers past the stop,
        # so that a restarted pipeline cannot make them point at reused
        # memory; they go once the function lets go of them.
        self._release_kept()
        self._close_converter()
        self._info = None
        self._fn = None
        return True

    def do_transform_caps(self, direction, caps, filter_):
        # In place: the same caps on both sides. The function's format
        # first, so that an upstream videoconvert may pick it; a writable
        # frame must be the buffer itself, so only that format then.
        with self._lock:
            fmt, writable = self._settings["format"], self._settings["writable"]
        if fmt not in FORMATS:
            fmt = DEFAULT_FORMAT
        out = caps.intersect(Gst.Caps.from_string("video/x-raw, format=%s" % fmt))
        if not writable:
            out = out.merge(caps.copy())
        if filter_ is not None:
            out = filter_.intersect_full(out, Gst.CapsIntersectMode.FIRST)
        return out

    def do_set_caps(self, incaps, outcaps):
        info = GstVideo.VideoInfo.new_from_caps(incaps)
        if info is None:
            return False
        fmt, have = self._format, info.finfo.name
        self._close_converter()
        if have == fmt:
            how = "views of the buffers"
        elif fmt == "GRAY8" and have in LUMA_FORMATS:
            how = "views of the buffers' luma planes"
        else:
            try:
                self._converter = _Converter(incaps, fmt)
            except RuntimeError as e:
                self._error(Gst.CoreError.NEGOTIATION,
                            "pyframeproc cannot give %s frames in %s: %s" % (have, fmt, e),
                            None)
                return False
            how = "converted by a private videoconvert"
        self._info = info
        self._log(Gst.DebugLevel.INFO, "%dx%d %s frames, given as %s %s"
                  % (info.width, info.height, have, fmt, how))
        return True

    def _close_converter(self):
        if self._converter is not None:
            self._converter.close()
            self._converter = None

    # --- frames --------------------------------------------------------------

    def _view(self, buf, info, mapinfo):
        """The NumPy array over the mapped buffer: the first plane, rows of
        its stride, from its offset (the buffer's GstVideoMeta, else the
        caps)."""
        width, height = info.width, info.height
        stride, offset = info.stride[0], info.offset[0]
        vmeta = GstVideo.buffer_get_video_meta(buf)
        if vmeta is not None:
            stride, offset = vmeta.stride[0], vmeta.offset[0]
        itemsize = 2 if self._dtype == "<u2" else 1
        if self._channels == 1:
            shape, strides = (height, width), (stride, itemsize)
        else:
            shape, strides = (height, width, self._channels), (stride, self._channels, 1)
        return self._np.ndarray(shape, self._dtype, buffer=mapinfo.data,
                                offset=offset, strides=strides)

    def do_transform_ip(self, buf):
        if self._info is None:
            self._error(Gst.CoreError.NEGOTIATION,
                        "pyframeproc got a frame before its caps", None)
            return Gst.FlowReturn.NOT_NEGOTIATED
        t0 = time.perf_counter_ns()
        view_buf, info = buf, self._info
        if self._converter is not None:
            converted = self._converter.convert(buf)
            if converted is None:
                self._error(Gst.StreamError.FORMAT,
                            "pyframeproc could not convert a %s frame to %s"
                            % (info.finfo.name, self._format), None)
                return Gst.FlowReturn.ERROR
            view_buf, info = converted
            with self._lock:
                self._conversions += 1
        mapinfo = view_buf.map(self._flags)
        if not mapinfo.__parent__:
            self._error(Gst.StreamError.FAILED,
                        "pyframeproc could not map a frame%s"
                        % (" for writing" if self._flags & Gst.MapFlags.WRITE else ""),
                        None)
            return Gst.FlowReturn.ERROR
        error = None
        t1 = t2 = t0
        try:
            try:
                frame = self._view(view_buf, info, mapinfo)
            except (ValueError, TypeError) as e:
                # a buffer smaller than its caps say
                self._error(Gst.StreamError.FORMAT,
                            "pyframeproc got a frame of %d bytes that does not hold "
                            "its %dx%d %s picture"
                            % (mapinfo.size, info.width, info.height, info.finfo.name),
                            str(e))
                return Gst.FlowReturn.ERROR
            t1 = time.perf_counter_ns()
            try:
                result = self._fn(frame, **self._kwargs)
            except BaseException as e:
                # only text: the exception's traceback would hold the frame
                error = (_exception_text(e), "".join(traceback.format_exception(
                    type(e), e, e.__traceback__.tb_next)))
                result = None
            t2 = time.perf_counter_ns()
            del frame
        finally:
            if self._held(mapinfo):
                self._keep(view_buf, mapinfo)
            else:
                view_buf.unmap(mapinfo)
        with self._lock:
            self._frames += 1
            frame_no = self._frames
            self._last_time = t2 - t1
            self._total_time += t2 - t1
        if self._kept and not self._release_kept():
            return Gst.FlowReturn.ERROR
        if error is not None:
            ret = self._failed_frame(buf, frame_no, *error)
        else:
            ret = self._attach(buf, frame_no, result, t2 - t1)
        overhead = time.perf_counter_ns() - t0 - (t2 - t1)
        with self._lock:
            self._last_overhead = overhead
            self._total_overhead += overhead
        return ret

    def _attach(self, buf, frame_no, result, processing_time):
        info = self._info
        api = GstVideo.VideoRegionOfInterestMeta.get_info().api
        try:
            dets, errors = detections_from_result(
                result, info.width, info.height, MAX_REGIONS - buf.get_n_meta(api))
        except TypeError as e:
            with self._lock:
                self._bad_results += 1
            self._log(Gst.DebugLevel.WARNING, "frame %d: %s %s; no detections attached"
                      % (frame_no, self._what, e))
            dets, errors = [], []
        if errors:
            with self._lock:
                self._bad_detections += len(errors)
            self._log(Gst.DebugLevel.WARNING, "frame %d: %d detection(s) of %s left "
                      "out: %s" % (frame_no, len(errors), self._what, "; ".join(errors)))
        for label, ident, x, y, w, h, score in dets:
            meta = GstVideo.buffer_add_video_region_of_interest_meta(buf, label, x, y, w, h)
            meta.id = ident
            if score is not None:
                s = Gst.Structure.new_empty("detection")
                s.set_value("score", score)
                meta.add_param(s)
        with self._lock:
            self._detections += len(dets)
            post = self._settings["post-messages"]
        self._log(Gst.DebugLevel.LOG, "frame %d: %d detection(s) in %d ns"
                  % (frame_no, len(dets), processing_time))
        if post:
            self._post_frame_message(buf, frame_no, processing_time, dets)
        return Gst.FlowReturn.OK

    def _post_frame_message(self, buf, frame_no, processing_time, dets):
        seg = self.segment
        s = Gst.Structure.new_empty("pyframeproc")
        ts = buf.pts
        for name, v in (("timestamp", ts),
                        ("stream-time", seg.to_stream_time(Gst.Format.TIME, ts)),
                        ("running-time", seg.to_running_time(Gst.Format.TIME, ts)),
                        ("duration", buf.duration), ("frame", frame_no),
                        ("processing-time", processing_time)):
            s.set_value(name, GObject.Value(GObject.TYPE_UINT64, v))
        items = []
        for label, ident, x, y, w, h, score in dets:
            d = Gst.Structure.new_empty("detection")
            d.set_value("label", label)
            d.set_value("id", GObject.Value(GObject.TYPE_INT, ident))
            for name, v in (("x", x), ("y", y), ("width", w), ("height", h)):
                d.set_value(name, GObject.Value(GObject.TYPE_UINT, v))
            if score is not None:
                d.set_value("score", score)
            items.append(d)
        s.set_value("detections", Gst.ValueList(items))
        self.post_message(Gst.Message.new_element(self, s))

    def _failed_frame(self, buf, frame_no, text, tb):
        ticket = fail_entry(buf, "pyframeproc: " + text)
        now = time.monotonic()
        with self._lock:
            self._failed += 1
            failed = self._failed
            due = self._warned_at is None or now - self._warned_at >= WARNING_INTERVAL
            if due:
                self._warned_at, since, self._unwarned = now, self._unwarned, 0
            else:
                self._unwarned += 1
        self._log(Gst.DebugLevel.WARNING, "frame %d: %s raised %s; frame dropped%s\n%s"
                  % (frame_no, self._what, text,
                     ", its entry marked failed" if ticket else "", tb))
        if due:
            self._post(Gst.MessageType.WARNING, Gst.StreamError.FAILED,
                       "%s raised %s on frame %d; the frame was dropped%s "
                       "(%d failed so far%s)"
                       % (self._what, text, frame_no,
                          " and its entry set aside" if ticket else "", failed,
                          ", %d since the last warning" % since if since else ""),
                       tb)
        return FLOW_DROPPED

    # --- frames a function keeps ----------------------------------------------

    @staticmethod
    def _held(mapinfo):
        # the mapping's own reference and getrefcount's argument: anything
        # more is an array over the memory that outlived the call
        return sys.getrefcount(mapinfo.data) > 2

    def _keep(self, buf, mapinfo):
        """Keeps the mapping (and the buffer it maps, a reference of our
        own) while the function holds a view of it."""
        with self._lock:
            self._kept_frames += 1
            first = self._kept_frames == 1
        self._kept.append((buf, mapinfo))
        if first:
            self._post(Gst.MessageType.WARNING, Gst.StreamError.FAILED,
                       "%s keeps the frame it was given; its buffer stays held until "
                       "the function lets go of it. Keep frame.copy() instead."
                       % self._what, None)

    def _release_kept(self):
        still = []
        for buf, mapinfo in self._kept:
            if not self._held(mapinfo):
                buf.unmap(mapinfo)
            else:
                still.append((buf, mapinfo))
        self._kept = still
        if len(still) > MAX_KEPT:
            self._error(Gst.StreamError.FAILED,
                        "%s keeps the frames it is given (%d held): they are views of "
                        "GStreamer's buffers, valid while the function runs; keep "
                        "frame.copy() instead" % (self._what, len(still)), None)
            return False
        return True


GObject.type_register(PyFrameProc)
__gstelementfactory__ = ("pyframeproc", Gst.Rank.NONE, PyFrameProc)
