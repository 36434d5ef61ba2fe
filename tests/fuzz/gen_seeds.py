#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

  gen_seeds.py OUTDIR [REDIS_PORT STREAM...]

Hand-made entries from docs/wire-format.md and edge cases always; with a
port, also every entry of the given streams of a running redis-server (as
written by redisstreamsink, see README.md), read with a minimal RESP client
(standard library only). lz4 variants need python3-lz4 and are skipped
without it. The committed corpus was made this way and then minimized with
libFuzzer's -merge=1.
"""
import hashlib
import os
import socket
import sys

try:
    import lz4.frame
except ImportError:  # pragma: no cover
    lz4 = None

out = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else None
streams = sys.argv[3:]


def write(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def entry(pairs, mode=0, b1=0, b2=0, b3=0):
    """fuzz_entry input: 4 mode bytes, then name\\0value\\0..., the last value
    (put data last) running to the end of the input."""
    body = b"\0".join(n + b"\0" + v for n, v in pairs)
    return bytes([mode, b1, b2, b3]) + body


CAPS_I420 = (b"video/x-raw, format=(string)I420, width=(int)320, "
             b"height=(int)240, framerate=(fraction)30/1, multiview-mode=(string)mono, "
             b"pixel-aspect-ratio=(fraction)1/1, interlace-mode=(string)progressive")
META = (b'{"rois":[{"type":"person","id":1,"parent-id":0,"x":40,"y":32,"w":96,'
        b'"h":180,"params":{"detection":{"label":"person","confidence":0.875,'
        b'"track":17}}}]}')

hand = [
    [(b"v", b"1"), (b"caps", b"text/x-raw,format=utf8"),
     (b"data", b"hello from redis-cli")],
    [(b"v", b"1"), (b"seq", b"7"), (b"pts", b"233333333"),
     (b"duration", b"33333333"), (b"flags", b"delta,discont"),
     (b"caps", b"text/x-raw, format=(string)utf8"),
     (b"capture-time", b"1700000000123456789"), (b"meta", META),
     (b"encoding", b"none"), (b"size", b"5"), (b"data", b"hello")],
    [(b"v", b"1"), (b"caps", b"video/x-raw,format=I420,width=33,height=17,framerate=30/1"),
     (b"flags", b"header,gap,droppable,marker,resync,corrupted"),
     (b"dts", b"18446744073709551614"), (b"encoding", b"none"), (b"size", b"0"),
     (b"data", b"")],
    [(b"v", b"2"), (b"caps", b"a/b"), (b"data", b"x")],
    [(b"v", b"1"), (b"caps", b"a/b"), (b"x-unknown", b"\xff\x00"), (b"data", b"x\x00y")],
    # version 2: '@' fields are <stream>:info (fuzz_entry.c); "@" is the id
    # of the last "@caps"
    [(b"@caps", b"text/x-raw, format=(string)utf8"), (b"v", b"2"), (b"seq", b"3"),
     (b"pts", b"40"), (b"dts", b""), (b"caps", b"@"), (b"capture-time", b"1700000000123456789"),
     (b"data", b"hello")],
    [(b"@caps", CAPS_I420), (b"@caps", b"a/b"), (b"@77", b"a/b"), (b"v", b"2"),
     (b"caps", b"77"), (b"data", b"x")],
    [(b"v", b"2"), (b"caps", b"2147483647"), (b"data", b"x")],
    [(b"@caps", b"audio/x-raw, format=(string)S16LE, layout=(string)interleaved, "
                b"rate=(int)48000, channels=(int)2"),
     (b"v", b"2"), (b"caps", b"@"), (b"encoding", b"none"), (b"data", b"abcd")],
]
for pairs in hand:
    write("fuzz_entry", entry(pairs))
    write("fuzz_entry", entry(pairs, mode=0x09))
# the harness compresses "data" (modes documented in fuzz_entry.c)
write("fuzz_entry", entry(hand[0], mode=0x02 | 0x04 | 0x80, b1=(3 << 2) | 1))
write("fuzz_entry", entry(hand[0], mode=0x01 | 0x02 | 0x04 | 0x10 | 0x20 | 0x40, b1=(8 << 2)))
write("fuzz_entry", entry(hand[1], mode=0x02 | 0x04 | 0x08, b2=3))
write("fuzz_entry", entry(hand[1], mode=0x02 | 0x04, b2=200, b3=9))
if lz4 is not None:
    for kw in ({}, {"block_linked": True, "content_checksum": True},
               {"block_size": lz4.frame.BLOCKSIZE_MAX4MB, "store_size": False,
                "block_checksum": True}):
        payload = bytes(range(256)) * 20
        write("fuzz_entry", entry([(b"v", b"1"), (b"caps", b"application/octet-stream"),
                                   (b"encoding", b"lz4"), (b"size", str(len(payload)).encode()),
                                   (b"data", lz4.frame.compress(payload, **kw))], mode=1))


def resp_command(sock, *args):
    msg = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    sock.sendall(msg)
    f = sock.makefile("rb")

    def read():
        line = f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [read() for _ in range(n)]
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)
            return data[:-2]
        if t == b"-":
            raise RuntimeError(rest.decode())
        return rest
    return read()


if port:
    sock = socket.create_connection(("127.0.0.1", port))
    for s in streams:
        for _id, fields in resp_command(sock, b"XRANGE", s.encode(), b"-", b"+"):
            pairs = list(zip(fields[0::2], fields[1::2]))
            write("fuzz_entry", entry(pairs))
            write("fuzz_entry", entry(pairs, mode=0x09))
            d = dict(pairs)
            write("fuzz_caps", d[b"caps"])
            if b"meta" in d:
                write("fuzz_meta", d[b"meta"])
                write("fuzz_wsframe", b"\x0f" + d[b"meta"])

caps = [CAPS_I420, b"text/x-raw,format=utf8", b"image/jpeg, width=(int)64, height=(int)48",
        b"audio/x-raw, format=(string)S16LE, layout=(string)interleaved, rate=(int)44100, channels=(int)1",
        b"video/x-raw(memory:SystemMemory), format=(string)RGB, width=(int)16, height=(int)16",
        b"video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, "
        b"codec_data=(buffer)0142c01e, streamheader=(buffer)< 00000001, 0000 >",
        b"a/b, s=(structure)\"c\\,\\ d\\=\\(int\\)1\\;\", l=(int)< 1, 2 >, f=(fraction)1/3, "
        b"d=(double)1.5e300, g=(GstCaps)\"e/f\", b=(boolean)true, bm=(bitmask)0x3, "
        b"fl=(flagset)3:3, dt=(GstDateTime)2024-01-01T00:00:00Z, date=(date)2024-01-01",
        b"ANY", b"EMPTY", b"a/b, x=(int)[ 1, 2 ]", b"video/x-raw-yuv"]
for c in caps:
    write("fuzz_caps", c)
metas = [META, b'{}', b'{"rois":[]}',
         b'{"rois":[{"type":"","x":0,"y":0,"w":4294967295,"h":1,"id":-2147483648,'
         b'"parent-id":2147483647,"params":{"a":{"i":9223372036854775807,"b":true,'
         b'"s":"\\u00e9\\u0000x","n":null,"o":{},"l":[1],"d":-1.5e-300},"9bad":{"x":1},'
         b'"motion":{"score":0.5},"s":3}}]}',
         b'{"rois":[{"type":"face","x":1,"y":2,"w":3,"h":4},{"type":"face","x":1,"y":2,"w":3,"h":4}],"other":1}',
         b'{"rois":{}}', b'[]', b'{"rois":[{"type":1,"x":0,"y":0,"w":0,"h":0}]}']
for m in metas:
    write("fuzz_meta", m)
    write("fuzz_wsframe", b"\x0f" + m)
    write("fuzz_wsframe", b"\x00" + m)
