#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into OUTDIR (default ./out):
#   tests/fuzz/build.sh [OUTDIR]
# Needs clang and libclang-rt-14-dev (pipelines/install-deps --tests) and the
# -dev packages of the project. CC and FUZZ_FLAGS override the compiler and
# the sanitizers, EXTRA_CFLAGS adds to the flags.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
out="${1:-$here/out}"
CC="${CC:-clang}"
FUZZ_FLAGS="${FUZZ_FLAGS:--fsanitize=fuzzer,address,undefined}"

mkdir -p "$out"
pkgs="gstreamer-1.0 gstreamer-base-1.0 gstreamer-video-1.0 gstreamer-audio-1.0 gio-2.0 hiredis liblz4 json-glib-1.0"
read -r -a pc_cflags <<<"$(pkg-config --cflags $pkgs)"
read -r -a pc_libs <<<"$(pkg-config --libs $pkgs)"

# GstRedisReader refuses bulks above 4 MiB here instead of 512 MiB: the
# limit is checked the same way, and ASan does not spend the run poisoning
# the shadow of half-gigabyte allocations that random headers declare.
cflags=(-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  -Wall -Wno-unused-function -Wno-unused-parameter
  -DGST_REDIS_READER_MAX_BULK="(4 * 1024 * 1024)"
  -I"$here" -I"$src/gst/redisstreams" -I"$src/gst/common"
  -I"$src/gst/websocket"
  "${pc_cflags[@]}")

# The code under test is compiled once, with coverage, for all targets.
objs=()
for f in gst/redisstreams/gstredisdebug.c \
    gst/redisstreams/gstredisentry.c gst/redisstreams/gstrediscaps.c \
    gst/redisstreams/gstredisnames.c gst/redisstreams/gstrediswire.c gst/redisstreams/gstredismeta.c \
    gst/redisstreams/gstredislz4.c gst/common/gstparallel.c \
    gst/redisstreams/gstredistrace.c \
    gst/common/gstframemeta.c \
    gst/redisstreams/gstrediscommand.c \
    gst/redisstreams/gstredisreader.c \
    gst/websocket/gstwebsocketframe.c; do
  o="$out/$(basename "${f%.c}").o"
  "$CC" "${cflags[@]}" ${FUZZ_FLAGS/fuzzer/fuzzer-no-link} ${EXTRA_CFLAGS:-} -c "$src/$f" -o "$o"
  objs+=("$o")
done

for t in fuzz_entry fuzz_meta fuzz_caps fuzz_wsframe fuzz_resp fuzz_trace; do
  "$CC" "${cflags[@]}" $FUZZ_FLAGS ${EXTRA_CFLAGS:-} "$here/$t.c" "${objs[@]}" \
    "${pc_libs[@]}" -o "$out/$t"
  echo "built $out/$t"
done
