#!/usr/bin/env bash
# The benchmark suite in one command: installs and builds what it needs, builds the corpus (or
# reuses it: bench/corpus.sh keeps each finished part), measures detection quality of likeness
# and its peers on the same queries (build/bench_suite), then speed (build/bench_speed), draws
# the plots (bench/plots.js) and writes OUT/README.md with every table, the command and the
# machine.
#
#   bench/suite.sh [--small | --all] [--out DIR]
#
#   (default)  600 characters, 5,000 drawings and every photograph as negatives (~20 minutes
#              on 2 cores), then the speed bench (~10 minutes);
#   --all      every character and distractor of the corpus (about twice as long);
#   --small    CI's regression run: 40 characters, 300 drawings, 60 photographs, no speed
#              bench; fails when a measure drops below bench/floors-small.tsv.
# OUT defaults to build/bench-results-<mode>.
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
mode=default
out=
while [ $# -gt 0 ]; do
  case $1 in
    --small) mode=small ;;
    --all) mode=all ;;
    --out) [ $# -ge 2 ] || { echo "suite: --out needs a folder" >&2; exit 2; }; out=$2; shift ;;
    *) echo "usage: bench/suite.sh [--small | --all] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-"$root/build/bench-results-$mode"}

"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
corpus=$("$root/bench/corpus.sh")
rm -rf "$out"
mkdir -p "$out"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

case $mode in
  small) args=(--small --floors "$root/bench/floors-small.tsv") ;;
  default) args=(--characters 600 --distractors 5000) ;;
  all) args=() ;;
esac
echo "suite: quality, bench_suite ${args[*]}" >&2
quality_rc=0
"$root/build/bench_suite" "${args[@]}" --out "$out" "$corpus" > "$out/quality.txt" || quality_rc=$?
# A missed floor (3) still gets its report written; anything else is a failure to measure.
[ "$quality_rc" -eq 0 ] || [ "$quality_rc" -eq 3 ] || { echo "suite: bench_suite failed ($quality_rc)" >&2; exit 1; }
if [ "$mode" != small ]; then
  echo "suite: speed, bench_speed" >&2
  # The IVF index only up to 10,000 references: building it for 100,000 takes ~13 minutes
  # here (bench_embedding_index --registry measures that size on its own).
  "$root/build/bench_speed" --sizes 1000,10000,100000 --ivf-max 10000 --out "$out" "$corpus" > "$out/speed.md"
fi
. "$root/scripts/need-npm.sh" # node draws the plots
node "$root/bench/plots.js" "$out" >/dev/null

{
  echo "# likeness benchmark results ($mode run)"
  echo
  echo "Command: \`bench/suite.sh$( [ "$mode" = default ] || echo " --$mode")\`, started $started at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores online," \
       "$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); load average $load_before before," \
       "$(cut -d' ' -f1-3 /proc/loadavg) after."
  echo "Corpus: $(wc -l < "$corpus/characters.tsv") lines in characters.tsv; licences:"
  echo
  sed 's/^/- /' "$corpus/LICENCES"
  echo
  echo "## Quality"
  echo
  head -1 "$out/quality.txt"
  echo
  cat "$out/quality.md"
  for plot in recall_by_edit pr character_track; do
    [ -f "$out/$plot.svg" ] && echo "![$plot]($plot.svg)" && echo
  done
  if [ -f "$out/speed.md" ]; then
    echo "## Speed"
    echo
    cat "$out/speed.md"
    for plot in speed latency_vs_registry; do
      [ -f "$out/$plot.svg" ] && echo "![$plot]($plot.svg)" && echo
    done
  fi
} > "$out/README.md"
grep '^floor' "$out/quality.txt" >&2 || true
echo "$out/README.md"
if [ "$quality_rc" -ne 0 ]; then
  echo "suite: a measure fell below its floor in bench/floors-small.tsv (see above)" >&2
  exit 1
fi
