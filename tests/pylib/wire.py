"""The caps of an entry per docs/wire-format.md, for the test scripts that
read streams with redis-py: in the entry (version 1), or looked up once by
its id in the hash <stream>:info (version 2), the id checked. Raises
ValueError for what the page calls invalid."""

import hashlib

# caps id -> caps string: an id stands for the same caps forever
_CAPS = {}


def caps_id(caps):
    """The caps id of a caps string (bytes or str)."""
    if isinstance(caps, str):
        caps = caps.encode()
    return int.from_bytes(hashlib.sha256(caps).digest()[:4], "big") & 0x7FFFFFFF


def version(fields):
    v = fields.get(b"v")
    if v not in (b"1", b"2"):
        raise ValueError("format version %r is not supported" % v)
    return int(v)


def entry_caps(r, stream, fields):
    """The caps string of the entry @fields (bytes -> bytes) of @stream."""
    if b"caps" not in fields:
        raise ValueError("no caps")
    if version(fields) == 1:
        return fields[b"caps"].decode()
    cid = fields[b"caps"]
    if not cid.isdigit() or int(cid) >= 2 ** 31:
        raise ValueError("caps %r is not a caps id" % cid)
    cid = int(cid)
    if cid not in _CAPS:
        if isinstance(stream, bytes):
            stream = stream.decode()
        caps = r.hget(stream + ":info", "caps:%d" % cid)
        if caps is None:
            raise ValueError("caps id %d is not in %s:info" % (cid, stream))
        if caps_id(caps) != cid:
            raise ValueError("caps:%d holds the caps of another id" % cid)
        _CAPS[cid] = caps.decode()
    return _CAPS[cid]
