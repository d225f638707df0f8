#!/usr/bin/env bash
# Computes the embedding prior (the mean descriptor of typical character art, which every
# embedding has subtracted; core/embed/embedder.c explains why) once per model folder: 256
# Fluent Emoji (scripts/fetch-art.sh, MIT), every sixth of the set in name order.
#   scripts/prepare-prior.sh BUILD_DIR MODELS_DIR
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: scripts/prepare-prior.sh BUILD_DIR MODELS_DIR" >&2; exit 2; }
build=$1 models=$2
prior="$models/embedding-prior.f32"
[ -f "$prior" ] && exit 0
icons=$("$root/scripts/fetch-art.sh")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-prior.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mapfile -t names < <(node -e '
  const names = Object.keys(require(process.argv[1]).icons).sort()
    .filter(n => !/-(light|medium-light|medium|medium-dark|dark)$/.test(n));
  names.filter((n, i) => i % 6 === 0).slice(0, 256).forEach(n => console.log(n));' "$icons")
"$build/likeness-iconify" "$icons" "$tmp" "${names[@]}" >/dev/null
# The description first: the prior itself (written through a rename) marks the step as done.
printf 'mean raw descriptor of %d Fluent Emoji (%s), every sixth by name\n' "${#names[@]}" \
  "$(head -1 "$(dirname "$icons")/../LICENSE-INFO")" > "$models/embedding-prior.txt"
"$build/likeness-embed-prior" "$models" "$prior" "$tmp"/*.svg >&2
