#!/usr/bin/env bash
# The shared library's ABI is the public header and nothing more: every symbol it exports is a
# function declared LK_API in include/likeness.h, and every such function is exported. An
# internal helper (lk__*), a faiss or C++ runtime symbol leaking out would become something
# callers can bind to and that a later version could not remove.
#   tests/test_exports.sh LIBRARY HEADER
. "$(dirname "$0")/../scripts/on-error.sh"
[ $# -eq 2 ] || { echo "usage: tests/test_exports.sh LIBRARY HEADER" >&2; exit 2; }
library=$1 header=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-test-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$library" | awk '{ print $NF }' | sort -u > "$tmp/exported"
sed -n 's/^LK_API [^(]*[ *]\(lk_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u > "$tmp/declared"
[ "$(wc -l < "$tmp/declared")" -gt 40 ] \
  || { echo "test_exports: found only $(wc -l < "$tmp/declared") LK_API functions in $header" >&2; exit 1; }

status=0
if comm -23 "$tmp/exported" "$tmp/declared" > "$tmp/extra" && [ -s "$tmp/extra" ]; then
  echo "test_exports: $library exports $(wc -l < "$tmp/extra") symbols that are not LK_API functions of $header:" >&2
  head -20 "$tmp/extra" >&2
  status=1
fi
if comm -13 "$tmp/exported" "$tmp/declared" > "$tmp/missing" && [ -s "$tmp/missing" ]; then
  echo "test_exports: $library does not export these functions of $header:" >&2
  cat "$tmp/missing" >&2
  status=1
fi
[ "$status" -ne 0 ] || echo "test_exports: $(wc -l < "$tmp/exported") symbols exported, all of them LK_API functions"
exit "$status"
