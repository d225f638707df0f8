#!/usr/bin/env bash
# The identity benchmark's characters: game characters in other poses and from other directions,
# each drawn by its own artist, from four game-data packages in Debian's archive (about 880 MB,
# fetched by scripts/fetch-deb.sh into the cache; never committed; licences listed).
#
#   bench/identity_corpus.sh [OUTDIR]   (default <cache>/identity-v3; prints OUTDIR)
#
# bench/identity_manifest.js picks the frames from each game's animation descriptions;
# build/bench_identity_frames cuts them, trims and squares them, and drops near-repeats.
# OUTDIR/identity.tsv: source, franchise, character, pose, picture (relative to OUTDIR);
# OUTDIR/LICENCES. Kept once finished (OUTDIR/.complete): delete OUTDIR to rebuild. Needs
# build/bench_identity_frames (scripts/build.sh; BUILD_DIR names another build folder).
# v3: Wesnoth units with dashes in their names are one character; the frame list (it names
# this machine's cache) is not kept.
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/cache-dir.sh"
out=${1:-"$cache_root/identity-v3"}
bin=${BUILD_DIR:-"$root/build"}
[ -x "$bin/bench_identity_frames" ] ||
  { echo "identity_corpus: no $bin/bench_identity_frames: run scripts/build.sh first" >&2; exit 2; }
if [ ! -f "$out/.complete" ]; then
  rm -rf "$out"
  mkdir -p "$out"
  debs=(wesnoth-1.16-data=1:1.16.9-1 widelands-data=2:1.1-3 freedroidrpg-data=1.0-1 flare-game=1.14-1)
  roots=()
  for spec in "${debs[@]}"; do
    roots+=("$("$root/scripts/fetch-deb.sh" "$spec")")
    echo "Debian package ${spec%%=*} ${spec#*=}: game art (sprites), licences in its /usr/share/doc/${spec%%=*}/copyright" \
      >> "$out/LICENCES"
  done
  . "$root/scripts/need-npm.sh" # node reads the games' animation descriptions
  manifest=$(mktemp "${TMPDIR:-/tmp}/likeness-identity-manifest.XXXXXX")
  trap 'rm -f "$manifest"' EXIT
  node "$root/bench/identity_manifest.js" "${roots[@]}" > "$manifest"
  "$bin/bench_identity_frames" "$out" < "$manifest" > "$out/identity.tsv"
  touch "$out/.complete"
fi
echo "$out"
