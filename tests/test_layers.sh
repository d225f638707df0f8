#!/usr/bin/env bash
# The library's layers run one way (ARCHITECTURE.md): core/, then index/store/, index/search/,
# index/registry/, index/check/. From the compiled objects, each file's use of another file's
# functions and data is an edge; this fails on an edge from a lower layer to a higher one, and
# on any circle of files (in the library and in tools/serve/), which a layering by folders
# alone would not see.
# The objects are the build's own list (CMake's $<TARGET_OBJECTS>), not what lies in the build
# folder, where files moved or renamed since leave stale objects behind.
#   tests/test_layers.sh OBJECT...   (the library's, and the program's for tools/serve/)
. "$(dirname "$0")/../scripts/on-error.sh"
[ $# -gt 0 ] || { echo "usage: tests/test_layers.sh OBJECT..." >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-test-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# "file symbol" lines: what each object defines and what it uses, the file named by its source
# (CMakeFiles/likeness_objects.dir/index/store/db.c.o is index/store/db.c).
: > "$tmp/defined"
: > "$tmp/used"
for o in "$@"; do
  path=${o//\/.\//\/} # CMake writes .../likeness_objects.dir/./core/errors.c.o
  src=${path#*.dir/}
  src=${src%.o}
  case $path in
    */likeness_objects.dir/*) ;;
    */likeness_cli.dir/tools/serve/*) ;;
    *) continue ;;
  esac
  [ -f "$o" ] || { echo "test_layers: no object $o (build first)" >&2; exit 1; }
  nm --defined-only "$o" | awk -v f="$src" 'NF == 3 && $2 ~ /^[TDBRV]$/ { print f, $3 }' >> "$tmp/defined"
  nm --undefined-only "$o" | awk -v f="$src" '{ print f, $NF }' >> "$tmp/used"
done
[ "$(wc -l < "$tmp/defined")" -gt 100 ] || { echo "test_layers: too few objects given" >&2; exit 1; }

# user -> provider, one line per pair of different files
awk 'NR == FNR { provider[$2] = $1; next } ($2 in provider) && provider[$2] != $1 { print $1, provider[$2] }' \
  "$tmp/defined" "$tmp/used" | sort -u > "$tmp/edges"

status=0
rank() {
  case $1 in
    core/*) echo 0 ;; index/store/*) echo 1 ;; index/search/*) echo 2 ;;
    index/registry/*) echo 3 ;; index/check/*) echo 4 ;; *) echo 9 ;;
  esac
}
while read -r user provider; do
  if [ "$(rank "$user")" -lt "$(rank "$provider")" ]; then
    echo "test_layers: $user (a lower layer) uses $provider" >&2
    status=1
  fi
done < "$tmp/edges"
if ! tsort < "$tmp/edges" > /dev/null 2> "$tmp/loops"; then
  echo "test_layers: files that use each other in a circle:" >&2
  grep -v '^tsort: -: input contains a loop:$' "$tmp/loops" | sed 's/^tsort: /  /' >&2
  status=1
fi
[ "$status" -ne 0 ] || echo "test_layers: $(wc -l < "$tmp/edges") uses between files, all downward, no circle"
exit "$status"
