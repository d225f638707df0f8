#!/usr/bin/env bash
# The library's layers run one way (ARCHITECTURE.md): core/, then index/store/, index/search/,
# index/registry/, index/check/. From the compiled objects, each file's use of another file's
# functions and data is an edge; this fails on an edge from a lower layer to a higher one, and
# on any circle of files (in the library and in tools/serve/), which a layering by folders
# alone would not see.
#   tests/test_layers.sh BUILD_DIR
. "$(dirname "$0")/../scripts/on-error.sh"
[ $# -eq 1 ] || { echo "usage: tests/test_layers.sh BUILD_DIR" >&2; exit 2; }
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-test-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# "file symbol" lines: what each object defines and what it uses.
symbols() { # OBJECT_DIR PREFIX_FILTER
  local dir=$1 filter=$2 o src
  while IFS= read -r o; do
    src=${o#"$dir"/}
    src=${src%.o}
    [[ $src == $filter* ]] || continue
    nm --defined-only "$o" | awk -v f="$src" 'NF == 3 && $2 ~ /^[TDBRV]$/ { print f, $3 }' >> "$tmp/defined"
    nm --undefined-only "$o" | awk -v f="$src" '{ print f, $NF }' >> "$tmp/used"
  done < <(find "$dir" -name '*.o' | sort)
}
: > "$tmp/defined"
: > "$tmp/used"
symbols "$build/CMakeFiles/likeness_objects.dir" ""
symbols "$build/CMakeFiles/likeness_cli.dir" tools/serve/
[ "$(wc -l < "$tmp/defined")" -gt 100 ] || { echo "test_layers: found no objects under $build" >&2; exit 1; }

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
