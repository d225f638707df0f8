#!/usr/bin/env bash
# The benchmark's characters: the same emoji drawn by four vendors, aligned by Unicode
# codepoints, as SVG files, fetched from the npm registry (scripts/fetch-art.sh; cached outside
# the repository, each package's licence kept beside it and listed in the corpus).
#
#   bench/corpus.sh [OUTDIR]        (default build/corpus-v1; prints OUTDIR)
#
# OUTDIR/characters/<codepoints>/<vendor>.svg for every concept drawn by at least 3 of the 4
# vendors; OUTDIR/characters.tsv: codepoints, name, vendors; OUTDIR/distractors/<set>/*.svg:
# colour art that draws none of those concepts (brand logos, file-type and developer icons,
# tokens: no emoji or flag sets, which draw the same things); OUTDIR/LICENCES: the packages.
# Left out, as bench/quality.sh leaves them out: skin-tone and gendered variants (one concept,
# another colour or figure) and all but the first member of each family of near-identical
# designs (smileys, clocks, squares and buttons, arrows, keycaps, flags, moons, hearts,
# circles, medals), whose members differ by a detail and would count a copy of a sibling as a
# false positive. A finished corpus is reused: delete OUTDIR to rebuild it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-"$root/build/corpus-v1"}
if [ -f "$out/.complete" ]; then
  echo "$out"
  exit 0
fi
vendors=(fluent twemoji noto openmoji)
specs=(@iconify-json/fluent-emoji-flat@1.2.6 @iconify-json/twemoji@1.2.5 @iconify-json/noto@1.2.9
       @iconify-json/openmoji@1.2.29)
icons=()
rm -rf "$out"
mkdir -p "$out/characters"
for i in "${!vendors[@]}"; do
  icons[i]=$("$root/scripts/fetch-art.sh" "${specs[i]}" 2>>"$out/LICENCES")
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
distractor_specs=(@iconify-json/logos@1.2.19 @iconify-json/vscode-icons@1.2.97 @iconify-json/devicon@1.2.68
                  @iconify-json/flat-color-icons@1.2.3 @iconify-json/skill-icons@1.2.4
                  @iconify-json/token-branded@1.2.45 @iconify-json/material-icon-theme@1.2.70
                  @iconify-json/cryptocurrency-color@1.2.4)
for spec in "${distractor_specs[@]}"; do
  set_icons=$("$root/scripts/fetch-art.sh" "$spec" 2>>"$out/LICENCES")
  set_name=${spec%@*}
  set_name=${set_name#@iconify-json/}
  mkdir -p "$out/distractors/$set_name"
  mapfile -t names < <(node -e 'console.log(Object.keys(require(process.argv[1]).icons).sort().join("\n"))' "$set_icons")
  "$root/build/likeness-iconify" "$set_icons" "$out/distractors/$set_name" "${names[@]}" >/dev/null
done
touch "$out/.complete"
echo "$out"
