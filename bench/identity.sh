#!/usr/bin/env bash
# The identity benchmark in one command: installs and builds what it needs, builds the corpora
# (bench/identity_corpus.sh: the game characters of four Debian game-data packages;
# bench/corpus.sh: the emoji, photographs and distractors),
# runs build/bench_identity and writes OUT/README.md with the tables, the split, the command, the
# machine and the corpus' licences.
#
#   bench/identity.sh [--out DIR] [--fresh]
#
# Describing every picture takes about 15 minutes on 2 cores; the descriptions are kept in
# build/identity-cache and reused while the pictures, seeds and model are the same (--fresh
# describes them again). OUT defaults to build/identity-results.
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
out= fresh=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || { echo "identity: --out needs a folder" >&2; exit 2; }; out=$2; shift ;;
    --fresh) fresh=1 ;;
    *) echo "usage: bench/identity.sh [--out DIR] [--fresh]" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-"$root/build/identity-results"}
cache="$root/build/identity-cache"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
corpus=$("$root/bench/corpus.sh")
identity=$("$root/bench/identity_corpus.sh")
[ "$fresh" -eq 0 ] || rm -rf "$cache"
rm -rf "$out"
mkdir -p "$out"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$root/build/bench_identity" --identity "$identity" --cache "$cache" --examples "$out/examples" --out "$out" "$corpus" \
  2> "$out/log.txt" ||
  { tail -20 "$out/log.txt" >&2; echo "identity: bench_identity failed" >&2; exit 1; }
{
  echo "# likeness identity benchmark"
  echo
  echo "Command: \`bench/identity.sh\`, started $started at $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores online," \
       "$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); load average $load_before before," \
       "$(cut -d' ' -f1-3 /proc/loadavg) after."
  echo "Corpus: $(wc -l < "$identity/identity.tsv") game-character pictures, $(wc -l < "$corpus/characters.tsv") lines in characters.tsv; licences:"
  echo
  sort -u "$corpus/LICENCES" "$identity/LICENCES" | sed 's/^/- /'
  echo
  echo "Every character's split is in split.tsv; every measure of both splits in identity.tsv; the"
  echo "scenes in examples/ show what generated-looking queries look like; misses.md the worst misses"
  echo "(its pictures, in misses/, and the examples are made by the command and never committed: they"
  echo "are the games' art)."
  echo
  cat "$out/identity.md"
} > "$out/README.md"
echo "$out/README.md"
