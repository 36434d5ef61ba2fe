#!/bin/sh
# The C of gst/ in GStreamer's style: every .c and .h run through GNU indent
# with the options of GStreamer's gst-indent (twice, as gst-indent does: one
# pass is not always stable), into a temporary copy; a file that comes out
# different fails the check, and the differences are printed. The sources
# are never changed: to fix them, run the same command on the files named
# (tests/indent.sh --fix does).
#
# Usage: tests/indent.sh INDENT SRCDIR [--fix]
# One test case: "1 passed, 0 failed" or "0 passed, 1 failed".
# Written for Debian 12's indent 2.2.12; another version may format
# differently.
indent=$1
src=$2
fix=${3:-}

set -- --braces-on-if-line --case-brace-indentation0 --case-indentation2 \
  --braces-after-struct-decl-line --line-length80 --no-tabs --cuddle-else \
  --dont-line-up-parentheses --continuation-indentation4 --honour-newlines \
  --tab-size8 --indent-level2 --leave-preprocessor-space

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

files=$(cd "$src" && find . -name '*.[ch]' | sort)
if [ -z "$files" ]; then
  echo "indent: no C files under $src"
  echo "0 passed, 1 failed"
  exit 1
fi

bad=0
n=0
for f in $files; do
  n=$((n + 1))
  out="$tmp/$(echo "$f" | tr / _)"
  if ! "$indent" "$@" "$src/$f" -o "$out.1" 2>"$out.err" ||
      ! "$indent" "$@" "$out.1" -o "$out.2" 2>>"$out.err"; then
    echo "indent failed on ${f#./}:"
    cat "$out.err"
    bad=$((bad + 1))
    continue
  fi
  if ! cmp -s "$src/$f" "$out.2"; then
    if [ "$fix" = "--fix" ]; then
      cp "$out.2" "$src/$f"
      echo "reformatted ${f#./}"
      continue
    fi
    echo "not in GStreamer's indent style: ${f#./}"
    diff -u "$src/$f" "$out.2" | sed -n '3,40p'
    bad=$((bad + 1))
  fi
done

if [ "$bad" -gt 0 ]; then
  echo "indent: $bad of $n files under $src differ from GNU indent's output" \
    "with gst-indent's options"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "indent: $n files under $src as GNU indent with gst-indent's options leaves them"
echo "1 passed, 0 failed"
