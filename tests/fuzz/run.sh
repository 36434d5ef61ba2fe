#!/usr/bin/env bash
# Builds the libFuzzer targets (build.sh) and runs each one for a bounded
# time over its corpus, then every file of regressions/<target>/ once.
#   tests/fuzz/run.sh [BUILD_DIR]
# FUZZ_SECONDS   seconds per target (default 20)
# FUZZ_TARGETS   targets to run (default: all)
# FUZZ_KEEP      a directory to copy crash artifacts and new corpus into
# Prints one line per case and "N passed, N failed"; exits 1 on any failure.
# When clang or its libFuzzer runtime is missing it fails under CI=true and
# is skipped (77, for meson) elsewhere (tests/cannot-run.sh).
# The source tree is only read: new corpus entries and crash artifacts go to
# a temporary directory.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
seconds="${FUZZ_SECONDS:-20}"
targets="${FUZZ_TARGETS:-fuzz_entry fuzz_meta fuzz_caps fuzz_wsframe fuzz_resp fuzz_trace}"

# a failure under CI=true, a loud skip (77) elsewhere
skip() {
  exec sh "$here/../cannot-run.sh" fuzz "$*"
}

command -v "${CC:-clang}" >/dev/null 2>&1 ||
  skip "${CC:-clang} not found (pipelines/install-deps --tests installs clang libclang-rt-14-dev)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
out="${1:-$tmp/out}"
mkdir -p "$out"

# Is the libFuzzer runtime there (libclang-rt-14-dev)?
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}\n' \
  >"$tmp/probe.c"
"${CC:-clang}" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" \
  -o "$tmp/probe" >/dev/null 2>&1 ||
  skip "${CC:-clang} cannot link -fsanitize=fuzzer,address,undefined (install libclang-rt-14-dev)"

if ! "$here/build.sh" "$out" >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log"
  echo "FAIL: build"
  echo "0 passed, 1 failed"
  exit 1
fi

# No GST_DEBUG needed (the harness sets its own thresholds); GLib criticals
# abort (the harness also makes them fatal itself); no plugin scanning and no
# registry in $HOME.
export G_DEBUG=fatal-criticals
unset GST_DEBUG GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0
mkdir -p "$tmp/noplugins"
export GST_PLUGIN_SYSTEM_PATH_1_0="$tmp/noplugins"
export GST_REGISTRY_1_0="$tmp/registry.bin"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:handle_abort=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Per target: maximum input length and dictionary. Leak checking is off
# while fuzzing (README.md, "Findings"): GLib never frees its old quark
# array (16 KiB per 2048 new quarks) and every new ROI type, param name or
# caps field name in the input is a new quark, and GStreamer 1.22 leaks the
# list of an unterminated "<..."; with leak checking on, every run would stop
# at one of these within seconds. The regressions run with leak checking.
opts() {
  case "$1" in
    fuzz_entry) echo "-max_len=16384 -dict=$here/entry.dict" ;;
    fuzz_caps) echo "-max_len=4096 -dict=$here/entry.dict" ;;
    fuzz_meta | fuzz_wsframe) echo "-max_len=8192 -dict=$here/meta.dict" ;;
    fuzz_trace) echo "-max_len=8192 -dict=$here/meta.dict" ;;
    fuzz_resp) echo "-max_len=8192 -dict=$here/resp.dict" ;;
  esac
}

passed=0
failed=0
total_execs=0
for t in $targets; do
  mkdir -p "$tmp/corpus/$t" "$tmp/artifacts"
  log="$tmp/$t.log"
  # shellcheck disable=SC2046
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" nice -n 10 "$out/$t" $(opts "$t") \
    -detect_leaks=0 -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$tmp/artifacts/$t-" \
    "$tmp/corpus/$t" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  total_execs=$((total_execs + ${execs:-0}))
  if [ $rc -eq 0 ]; then
    echo "PASS: $t (${execs:-?} executions in ${seconds}s)"
    passed=$((passed + 1))
  else
    echo "FAIL: $t (exit $rc)"
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|invariant failed|CRITICAL|does not round-trip|not stable|not JSON|Test unit written' "$log" | head -80
    failed=$((failed + 1))
  fi
done

shopt -s nullglob
for t in $targets; do
  for f in "$here/regressions/$t"/*; do
    [ -f "$f" ] || continue
    log="$tmp/regression.log"
    # "NAME.runs-N" runs N times in one process, without leak checking (an
    # input that brings new names on every run, tests/fuzz/README.md: its
    # checks are the quark count and the RSS limit, and the old quark
    # arrays GLib drops on purpose, 16 KiB per 2048 new names, would be
    # reported as leaks); the rest once, with leak checking
    runs=1
    leaks=1
    case "$f" in *.runs-[0-9]*) runs="${f##*.runs-}" leaks=0 ;; esac
    # no -max_len: libFuzzer would cut the file to it
    ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=$leaks" \
      "$out/$t" -rss_limit_mb=2048 -detect_leaks=$leaks \
      -timeout=10 -runs="$runs" "$f" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
      echo "PASS: $t regression $(basename "$f")"
      passed=$((passed + 1))
    else
      echo "FAIL: $t regression $(basename "$f") (exit $rc)"
      grep -E -A12 '^==[0-9]+==ERROR|runtime error|invariant failed|CRITICAL|round-trip|not stable|not JSON|out-of-memory' "$log" | head -30
      failed=$((failed + 1))
    fi
  done
done

if [ -n "${FUZZ_KEEP:-}" ]; then
  mkdir -p "$FUZZ_KEEP"
  cp -r "$tmp/corpus" "$tmp/artifacts" "$FUZZ_KEEP/" 2>/dev/null
  echo "corpus and artifacts copied to $FUZZ_KEEP"
fi
echo "total executions: $total_execs"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
