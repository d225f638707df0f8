#!/usr/bin/env bash
# Detection quality on real art: extracts the Fluent Emoji set (scripts/fetch-art.sh, MIT) into
# SVG files, one per emoji (skin-tone and gendered variants left out: they are the same
# character, so as unrelated art they would count copies as false positives), then runs
# build/bench_quality on them. Extra arguments go to bench_quality.
#   bench/quality.sh [--characters N] [--threads T] [--seed S]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
icons=$("$root/scripts/fetch-art.sh")
svg="$root/build/quality-svg"
if [ ! -f "$svg/.complete" ]; then
  rm -rf "$svg"
  mkdir -p "$svg"
  mapfile -t names < <(node -e '
    const j = require(process.argv[1]);
    for (const n of Object.keys(j.icons))
      if (!/-(light|medium-light|medium|medium-dark|dark)$/.test(n) && !/skin-tone|^(man|woman|men|women)-/.test(n))
        console.log(n);' "$icons")
  "$root/build/likeness-iconify" "$icons" "$svg" "${names[@]}" >/dev/null
  touch "$svg/.complete"
fi
exec "$root/build/bench_quality" "$@" "$svg"
