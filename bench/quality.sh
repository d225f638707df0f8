#!/usr/bin/env bash
# Detection quality on real art: extracts the Fluent Emoji set (scripts/fetch-art.sh, MIT) into
# SVG files, one per character, then runs build/bench_quality on them. Extra arguments go to
# bench_quality.
#
# One per character: skin-tone and gendered variants are left out, and of each family of
# near-identical designs (the yellow smiley in ~100 expressions, clock faces, squares and
# buttons, arrows, keycaps, flags, moons, hearts, circles, medals) only the first by name is
# kept. Within a family the designs differ by a detail (a mouth, a hand of the clock, a mirror
# image), so they are one character in this product's sense; kept apart, each would count a
# copy of its sibling as a false positive.
#   bench/quality.sh [--characters N] [--threads T] [--seed S]
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
icons=$("$root/scripts/fetch-art.sh")
svg="$root/build/quality-svg-v2"
if [ ! -f "$svg/.complete" ]; then
  rm -rf "$svg"
  mkdir -p "$svg"
  mapfile -t names < <(node -e '
    const j = require(process.argv[1]), family = require(process.argv[2]);
    const seen = new Set();
    for (const n of Object.keys(j.icons).sort()) {
      if (/-(light|medium-light|medium|medium-dark|dark)$/.test(n) || /skin-tone|^(man|woman|men|women)-/.test(n))
        continue;
      if (seen.has(family(n))) continue;
      seen.add(family(n));
      console.log(n);
    }' "$icons" "$root/bench/emoji_family.js")
  "$root/build/likeness-iconify" "$icons" "$svg" "${names[@]}" >/dev/null
  touch "$svg/.complete"
fi
exec "$root/build/bench_quality" "$@" "$svg"
