#!/usr/bin/env bash
# Quick start, first command: installs what is needed, builds, and runs likeness on the bundled
# demo characters: renders them, makes edited copies, and shows which copies PDQ recognises.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
likeness="$root/build/likeness"

out=${LK_DEMO_DIR:-"$root/build/demo"}
rm -rf "$out"
mkdir -p "$out/refs" "$out/copies"

echo "== rendering the demo characters and making edited copies in $out"
for svg in "$root"/demo/characters/*.svg; do
  name=$(basename "$svg" .svg)
  ref="$out/refs/$name.png"
  vips copy "$svg" "$ref"
  vips copy "$ref" "$out/copies/$name-jpeg40.jpg[Q=40]"
  vips resize "$ref" "$out/copies/$name-half.png" 0.5
  vips gaussblur "$ref" "$out/copies/$name-blur.png" 2
  vips linear "$ref" "$out/copies/$name-bright.png" 1.15 12 --uchar
  vips flip "$ref" "$out/copies/$name-mirror.png" horizontal
  vips rot "$ref" "$out/copies/$name-turned.png" d90
done

echo
echo "== PDQ hashes of the characters (reference tool's format: hash,quality,path)"
"$likeness" hash "$out"/refs/*.png

echo
echo "== every copy against every character (distance <= 31 bits is a match)"
printf '%-22s' "copy"
for ref in "$out"/refs/*.png; do printf '%-12s' "$(basename "$ref" .png)"; done
echo
own_hits=0 own_total=0 false_hits=0 misses=()
for copy in "$out"/copies/*; do
  base=$(basename "$copy")
  printf '%-22s' "$base"
  for ref in "$out"/refs/*.png; do
    name=$(basename "$ref" .png)
    line=$("$likeness" compare "$ref" "$copy")
    dist=$(cut -f1 <<<"$line")
    verdict=$(cut -f3 <<<"$line")
    if [ "$verdict" = match ]; then cell="MATCH $dist"; else cell="$dist"; fi
    printf '%-12s' "$cell"
    if [ "${base%%-*}" = "$name" ]; then
      own_total=$((own_total + 1))
      if [ "$verdict" = match ]; then own_hits=$((own_hits + 1)); else misses+=("$base ($dist bits)"); fi
    elif [ "$verdict" = match ]; then
      false_hits=$((false_hits + 1))
    fi
  done
  echo
done
echo
echo "copies matched to their own character: $own_hits of $own_total; matches to another character: $false_hits"
if [ "${#misses[@]}" -gt 0 ]; then
  echo "missed: ${misses[*]}"
  echo "(PDQ's mirror and rotation hashes are derived from the original's DCT; on flat cartoon"
  echo " art they can land further than 31 bits from the hash of the actually mirrored picture.)"
fi
echo "Next: 'likeness --help'."
