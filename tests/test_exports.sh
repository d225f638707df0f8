#!/usr/bin/env bash
# The shared library's ABI is the public header and nothing more: every symbol it exports is a
# function declared LK_API in include/likeness.h, and every such function is exported. An
# internal helper (lk__*), a faiss or C++ runtime symbol leaking out would become something
# callers can bind to and that a later version could not remove. Each carries the symbol version
# of include/likeness.map (the way results grow without breaking old programs, likeness.h).
# A PROGRAM linked against the library must have recorded that version for every function it
# uses: it is what a later library looks at to give it the layouts it was compiled with.
#   tests/test_exports.sh LIBRARY HEADER PROGRAM
. "$(dirname "$0")/../scripts/on-error.sh"
[ $# -eq 3 ] || { echo "usage: tests/test_exports.sh LIBRARY HEADER PROGRAM" >&2; exit 2; }
library=$1 header=$2 program=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-test-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The version nodes of include/likeness.map: a function's default version is the newest node
# that names it; an older one stays beside it (lk_check_file@LIKENESS_0.1) when its layout grew.
nodes='LIKENESS_0\.(1|2)'
# "ADDRESS T lk_check_file@@LIKENESS_0.2"; each version node itself is listed as an absolute symbol.
nm -D --defined-only "$library" | awk '$2 != "A" { print $NF }' | sort -u > "$tmp/exported.versioned"
sed 's/@.*//' "$tmp/exported.versioned" | sort -u > "$tmp/exported"
sed -n 's/^LK_API [^(]*[ *]\(lk_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u > "$tmp/declared"
[ "$(wc -l < "$tmp/declared")" -gt 40 ] \
  || { echo "test_exports: found only $(wc -l < "$tmp/declared") LK_API functions in $header" >&2; exit 1; }

status=0
if grep -v -E "@@$nodes\$|@LIKENESS_0\.1\$" "$tmp/exported.versioned" > "$tmp/unversioned"; then
  echo "test_exports: $library exports symbols without one of the versions of include/likeness.map:" >&2
  head -20 "$tmp/unversioned" >&2
  status=1
fi
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
nm -D --undefined-only "$program" | awk '$2 ~ /^lk_/ { print $2 }' > "$tmp/used"
[ -s "$tmp/used" ] || { echo "test_exports: $program uses no lk_ function" >&2; exit 1; }
if grep -v -E "@$nodes\$" "$tmp/used" > "$tmp/unbound"; then
  echo "test_exports: $program refers to these functions without a version of include/likeness.map:" >&2
  head -20 "$tmp/unbound" >&2
  status=1
fi
[ "$status" -ne 0 ] || echo "test_exports: $(wc -l < "$tmp/exported") symbols exported, all of them LK_API functions"
exit "$status"
