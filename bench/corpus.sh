#!/usr/bin/env bash
# The benchmark's characters: the same emoji drawn by four vendors, aligned by Unicode
# codepoints, as SVG files, fetched from the npm registry (scripts/fetch-art.sh; cached outside
# the repository, each package's licence kept beside it and listed in the corpus).
#
#   bench/corpus.sh [OUTDIR]        (default <cache>/corpus-v1, beside the models; prints OUTDIR)
#
# OUTDIR/characters/<codepoints>/<vendor>.svg for every concept drawn by at least 3 of the 4
# vendors; OUTDIR/characters.tsv: codepoints, name, vendors; OUTDIR/distractors/<set>/*.svg:
# colour art that draws none of those concepts (brand logos, file-type and developer icons,
# tokens: no emoji or flag sets, which draw the same things); OUTDIR/photos/*.jpg: 768x768
# crops of the photographs and wallpapers of three Debian packages (scripts/fetch-deb.sh), the
# backgrounds of pasted copies and photo-like negatives; OUTDIR/LICENCES: the packages.
# Left out, as bench/quality.sh leaves them out: skin-tone and gendered variants (one concept,
# another colour or figure) and all but the first member of each family of near-identical
# designs (smileys, clocks, squares and buttons, arrows, keycaps, flags, moons, hearts,
# circles, medals), whose members differ by a detail and would count a copy of a sibling as a
# false positive. Each part is kept once finished (a marker file): delete OUTDIR to rebuild.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/cache-dir.sh"
out=${1:-"$cache_root/corpus-v1"}
mkdir -p "$out"

characters() {
vendors=(fluent twemoji noto openmoji)
specs=(@iconify-json/fluent-emoji-flat@1.2.6 @iconify-json/twemoji@1.2.5 @iconify-json/noto@1.2.9
       @iconify-json/openmoji@1.2.29)
icons=()
rm -rf "$out/characters" "$out/characters.tsv"
mkdir -p "$out/characters"
for i in "${!vendors[@]}"; do
  icons[i]=$("$root/scripts/fetch-art.sh" "${specs[i]}" 2>>"$out/LICENCES.new")
done
# One line per concept: codepoints, then the icon name in each vendor's set ("-" when absent).
LK_EMOJI_FAMILY="$root/bench/emoji_family.js" node -e '
  const sets = process.argv.slice(1).map(p => ({
    icons: require(p).icons, chars: require(require("path").dirname(p) + "/chars.json") }));
  const byCode = new Map();
  sets.forEach((s, v) => {
    for (const [code, name] of Object.entries(s.chars)) {
      if (!s.icons[name]) continue; // an alias the set does not draw
      if (!byCode.has(code)) byCode.set(code, sets.map(() => "-"));
      byCode.get(code)[v] = name;
    }
  });
  // Skin tones (U+1F3FB-1F3FF) and gendered figures (ZWJ + male/female sign) are variants.
  const variant = c => /(^|-)1f3f[b-f]($|-)/.test(c) || /200d-(2640|2642)/.test(c) || /^(1f468|1f469)-/.test(c);
  const family = require(process.env.LK_EMOJI_FAMILY);
  const seen = new Set();
  for (const code of [...byCode.keys()].sort()) {
    const names = byCode.get(code);
    if (names.filter(n => n !== "-").length < 3 || variant(code)) continue;
    const name = names.find(n => n !== "-");
    if (seen.has(family(name))) continue;
    seen.add(family(name));
    console.log([code, ...names].join("\t"));
  }' "${icons[@]}" > "$out/aligned.tsv"
printf 'codepoints\tname\tvendors\n' > "$out/characters.tsv"
for i in "${!vendors[@]}"; do
  # Extract this vendor's drawings into a scratch folder, then file each under its concept.
  tmp="$out/.extract-${vendors[i]}"
  mkdir -p "$tmp"
  mapfile -t names < <(awk -F'\t' -v col=$((i + 2)) '$col != "-" { print $col }' "$out/aligned.tsv")
  "$root/build/likeness-iconify" "${icons[i]}" "$tmp" "${names[@]}" >/dev/null
  while IFS=$'\t' read -r code n0 n1 n2 n3; do
    row=("$n0" "$n1" "$n2" "$n3")
    name=${row[i]}
    [ "$name" = "-" ] && continue
    mkdir -p "$out/characters/$code"
    mv "$tmp/$name.svg" "$out/characters/$code/${vendors[i]}.svg"
  done < "$out/aligned.tsv"
  rm -rf "$tmp"
done
while IFS=$'\t' read -r code n0 n1 n2 n3; do
  have=()
  for v in "${vendors[@]}"; do [ -f "$out/characters/$code/$v.svg" ] && have+=("$v"); done
  name=$n0
  for n in "$n0" "$n1" "$n2" "$n3"; do [ "$name" = "-" ] && name=$n; done
  printf '%s\t%s\t%s\n' "$code" "$name" "$(IFS=,; echo "${have[*]}")" >> "$out/characters.tsv"
done < "$out/aligned.tsv"
rm -f "$out/aligned.tsv"
touch "$out/characters/.complete"
}

distractors() {
rm -rf "$out/distractors"
distractor_specs=(@iconify-json/logos@1.2.19 @iconify-json/vscode-icons@1.2.97 @iconify-json/devicon@1.2.68
                  @iconify-json/flat-color-icons@1.2.3 @iconify-json/skill-icons@1.2.4
                  @iconify-json/token-branded@1.2.45 @iconify-json/material-icon-theme@1.2.70
                  @iconify-json/cryptocurrency-color@1.2.4)
for spec in "${distractor_specs[@]}"; do
  set_icons=$("$root/scripts/fetch-art.sh" "$spec" 2>>"$out/LICENCES.new")
  set_name=${spec%@*}
  set_name=${set_name#@iconify-json/}
  mkdir -p "$out/distractors/$set_name"
  mapfile -t names < <(node -e 'console.log(Object.keys(require(process.argv[1]).icons).sort().join("\n"))' "$set_icons")
  "$root/build/likeness-iconify" "$set_icons" "$out/distractors/$set_name" "${names[@]}" >/dev/null
done
touch "$out/distractors/.complete"
}

# 16 crops of each photograph, a third to nine tenths of its shorter side at a place drawn from
# a fixed-seed generator, so the corpus is the same on every machine.
photos() {
rm -rf "$out/photos"
mkdir -p "$out/photos"
local sources=() mate skimage plasma
mate=$("$root/scripts/fetch-deb.sh" mate-backgrounds=1.26.0-1)
skimage=$("$root/scripts/fetch-deb.sh" python3-skimage=0.19.3-8)
plasma=$("$root/scripts/fetch-deb.sh" plasma-workspace-wallpapers=4:5.27.5-2)
sources+=("$mate"/usr/share/backgrounds/mate/nature/*.jpg "$mate"/usr/share/backgrounds/mate/desktop/*.png)
for w in "$plasma"/usr/share/wallpapers/*/; do
  # Each wallpaper comes in many sizes; the widest is the one to crop.
  sources+=("$(ls "$w"contents/images/*x*.* | awk -F/ '{ split($NF, d, /[x.]/); print d[1] * d[2], $0 }' |
               sort -n | tail -1 | cut -d' ' -f2-)")
done
for n in astronaut chelsea coffee motorcycle_left rocket hubble_deep_field camera brick grass gravel moon retina \
         coins page cell ihc; do
  sources+=("$(ls "$skimage"/usr/lib/python3/dist-packages/skimage/data/"$n".*)")
done
local state=20261129 tmp
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-photos.XXXXXX")
for src in "${sources[@]}"; do
  local stem
  stem=$(basename "$(dirname "$(dirname "$(dirname "$src")")")")-$(basename "${src%.*}")
  case $src in "$plasma"*) ;; *) stem=$(basename "${src%.*}") ;; esac
  # A 1600-pixel copy to crop from: decoding the 5K originals sixteen times would take minutes.
  vipsthumbnail "$src" --size 1600x1600 -o "$tmp/src.v" >/dev/null
  local w h
  w=$(vipsheader -f width "$tmp/src.v")
  h=$(vipsheader -f height "$tmp/src.v")
  local short=$(( w < h ? w : h ))
  for k in $(seq 0 15); do
    state=$(( (state * 1103515245 + 12345) % 2147483648 ))
    local side=$(( short * (33 + state % 58) / 100 ))
    state=$(( (state * 1103515245 + 12345) % 2147483648 ))
    local x=$(( state % (w - side + 1) ))
    state=$(( (state * 1103515245 + 12345) % 2147483648 ))
    local y=$(( state % (h - side + 1) ))
    vips extract_area "$tmp/src.v" "$tmp/crop.v" "$x" "$y" "$side" "$side"
    vips flatten "$tmp/crop.v" "$tmp/flat.v" --background "255 255 255" 2>/dev/null || cp "$tmp/crop.v" "$tmp/flat.v"
    vips resize "$tmp/flat.v" "$out/photos/$stem-$k.jpg[Q=92,strip]" "$(echo "768 / $side" | bc -l)"
  done
done
rm -rf "$tmp"
for d in "$mate" "$skimage" "$plasma"; do
  pkg=$(basename "$(dirname "$(ls -d "$d"/usr/share/doc/*/copyright | head -1)")")
  echo "Debian package $pkg ($(basename "$d" | sed 's/^[^_]*_//')): photographs and wallpapers, licences in $d/usr/share/doc/$pkg/copyright" >> "$out/LICENCES.new"
done
touch "$out/photos/.complete"
}

[ -f "$out/characters/.complete" ] || characters
[ -f "$out/distractors/.complete" ] || distractors
[ -f "$out/photos/.complete" ] || photos
# The licence list of every part, rewritten whenever a part was (re)built.
if [ -f "$out/LICENCES.new" ]; then
  cat "$out/LICENCES" "$out/LICENCES.new" 2>/dev/null | sort -u > "$out/LICENCES.tmp"
  mv "$out/LICENCES.tmp" "$out/LICENCES"
  rm -f "$out/LICENCES.new"
fi
echo "$out"
