#!/usr/bin/env bash
# The benchmark's characters: the same emoji drawn by four vendors, aligned by Unicode
# codepoints, as SVG files, fetched from the npm registry (scripts/fetch-art.sh; cached outside
# the repository, each package's licence kept beside it and listed in the corpus).
#
#   bench/corpus.sh [OUTDIR]        (default <cache>/corpus-v2, beside the models; prints OUTDIR)
#
# OUTDIR/characters/<codepoints>/<vendor>.svg for every concept drawn by at least 3 of the 4
# vendors; OUTDIR/characters.tsv: codepoints, name, vendors; OUTDIR/distractors/<set>/*.svg:
# colour art that draws none of those concepts (brand logos, file-type and developer icons,
# tokens: no emoji or flag sets, which draw the same things); OUTDIR/photos/*.jpg: 768x768
# crops of the photographs and wallpapers of three Debian packages (scripts/fetch-deb.sh), the
# backgrounds of pasted copies and photo-like negatives (build/bench_photo_crops); OUTDIR/LICENCES:
# the packages, gathered from each part's own LICENCES.
# Left out, as bench/quality.sh leaves them out: skin-tone and gendered variants (one concept,
# another colour or figure) and all but the first member of each family of near-identical
# designs (smileys, clocks, squares and buttons, arrows, keycaps, flags, moons, hearts,
# circles, medals), whose members differ by a detail and would count a copy of a sibling as a
# false positive. Each part is kept once finished (a marker file, written after its licences):
# delete OUTDIR to rebuild. Needs build/likeness-iconify and build/bench_photo_crops
# (scripts/build.sh; BUILD_DIR names another build folder).
# v2: each part keeps its own licence list; the photographs are cut by one C program.
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/cache-dir.sh"
out=${1:-"$cache_root/corpus-v2"}
bin=${BUILD_DIR:-"$root/build"}
for tool in likeness-iconify bench_photo_crops; do
  [ -x "$bin/$tool" ] || { echo "corpus: no $bin/$tool: run scripts/build.sh first" >&2; exit 2; }
done
mkdir -p "$out"

# Appends the licence line of a package fetched by scripts/fetch-art.sh to a part's LICENCES.
art_licence() { head -1 "$(dirname "$1")/../LICENSE-INFO" >> "$2"; }

characters() {
vendors=(fluent twemoji noto openmoji)
specs=(@iconify-json/fluent-emoji-flat@1.2.6 @iconify-json/twemoji@1.2.5 @iconify-json/noto@1.2.9
       @iconify-json/openmoji@1.2.29)
icons=()
rm -rf "$out/characters" "$out/characters.tsv"
mkdir -p "$out/characters"
for i in "${!vendors[@]}"; do
  icons[i]=$("$root/scripts/fetch-art.sh" "${specs[i]}")
  art_licence "${icons[i]}" "$out/characters/LICENCES"
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
  "$bin/likeness-iconify" "${icons[i]}" "$tmp" "${names[@]}" >/dev/null
  # Filed in one process, not with a mkdir and a mv for each drawing (~4,800 process starts).
  node -e '
    const fs = require("fs");
    const [aligned, column, tmp, characters, vendor] = process.argv.slice(1);
    for (const line of fs.readFileSync(aligned, "utf8").split("\n")) {
      if (!line) continue;
      const fields = line.split("\t"), name = fields[+column];
      if (name === "-") continue;
      fs.mkdirSync(`${characters}/${fields[0]}`, { recursive: true });
      fs.renameSync(`${tmp}/${name}.svg`, `${characters}/${fields[0]}/${vendor}.svg`);
    }' "$out/aligned.tsv" $((i + 1)) "$tmp" "$out/characters" "${vendors[i]}"
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
mkdir -p "$out/distractors"
distractor_specs=(@iconify-json/logos@1.2.19 @iconify-json/vscode-icons@1.2.97 @iconify-json/devicon@1.2.68
                  @iconify-json/flat-color-icons@1.2.3 @iconify-json/skill-icons@1.2.4
                  @iconify-json/token-branded@1.2.45 @iconify-json/material-icon-theme@1.2.70
                  @iconify-json/cryptocurrency-color@1.2.4)
for spec in "${distractor_specs[@]}"; do
  set_icons=$("$root/scripts/fetch-art.sh" "$spec")
  art_licence "$set_icons" "$out/distractors/LICENCES"
  set_name=${spec%@*}
  set_name=${set_name#@iconify-json/}
  mkdir -p "$out/distractors/$set_name"
  mapfile -t names < <(node -e 'console.log(Object.keys(require(process.argv[1]).icons).sort().join("\n"))' "$set_icons")
  "$bin/likeness-iconify" "$set_icons" "$out/distractors/$set_name" "${names[@]}" >/dev/null
done
touch "$out/distractors/.complete"
}

# 16 crops of each photograph, a third to nine tenths of its shorter side at a place drawn from
# a fixed-seed generator, so the corpus is the same on every machine.
photos() {
rm -rf "$out/photos"
mkdir -p "$out/photos"
local sources=() mate skimage plasma spec
local debs=(mate-backgrounds=1.26.0-1 python3-skimage=0.19.3-8 plasma-workspace-wallpapers=4:5.27.5-2)
mate=$("$root/scripts/fetch-deb.sh" "${debs[0]}")
skimage=$("$root/scripts/fetch-deb.sh" "${debs[1]}")
plasma=$("$root/scripts/fetch-deb.sh" "${debs[2]}")
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
local crops=()
for src in "${sources[@]}"; do
  local stem
  stem=$(basename "$(dirname "$(dirname "$(dirname "$src")")")")-$(basename "${src%.*}")
  case $src in "$plasma"*) ;; *) stem=$(basename "${src%.*}") ;; esac
  crops+=("$stem=$src")
done
"$bin/bench_photo_crops" 20261129 16 "$out/photos" "${crops[@]}" >/dev/null
for spec in "${debs[@]}"; do
  echo "Debian package ${spec%%=*} ${spec#*=}: photographs and wallpapers, licences in its /usr/share/doc/${spec%%=*}/copyright" \
    >> "$out/photos/LICENCES"
done
touch "$out/photos/.complete"
}

[ -f "$out/characters/.complete" ] || characters
[ -f "$out/distractors/.complete" ] || distractors
[ -f "$out/photos/.complete" ] || photos
# The licence list of the whole corpus, made anew from the parts' own lists on every run.
cat "$out/characters/LICENCES" "$out/distractors/LICENCES" "$out/photos/LICENCES" | sort -u > "$out/LICENCES.tmp"
mv "$out/LICENCES.tmp" "$out/LICENCES"
echo "$out"
