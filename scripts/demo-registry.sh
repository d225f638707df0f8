#!/usr/bin/env bash
# Makes the registry that the demo and the service's load test use: 30 Fluent Emoji characters
# (Microsoft, MIT; npm art from scripts/fetch-art.sh), one reference each, with embeddings.
# Also renders the unrelated emoji named on the command line, which are not registered.
#   scripts/demo-registry.sh BUILD_DIR OUT_DIR [UNRELATED_NAME...]
# Writes OUT_DIR/registry, OUT_DIR/refs/NAME.png (the registered references),
# OUT_DIR/unrelated/NAME.png, and prints the registered names, one per line.
. "$(dirname "$0")/on-error.sh"
[ $# -ge 2 ] || { echo "usage: scripts/demo-registry.sh BUILD_DIR OUT_DIR [UNRELATED_NAME...]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$1 out=$2
shift 2
unrelated=("$@")
[ -x "$bin/likeness" ] && [ -x "$bin/likeness-iconify" ] \
  || { echo "demo-registry: no $bin/likeness: run scripts/build.sh first" >&2; exit 2; }
icons=$("$root/scripts/fetch-art.sh")

characters=(cat-face dog-face panda frog unicorn robot ghost alien clown-face fox tiger-face lion
  koala penguin owl octopus dragon-face monkey-face pig-face rabbit-face bear hamster mouse-face
  cow-face horse-face t-rex snowman jack-o-lantern teddy-bear alien-monster)

mkdir -p "$out/svg" "$out/refs" "$out/unrelated"
"$bin/likeness-iconify" "$icons" "$out/svg" "${characters[@]}" "${unrelated[@]}" >/dev/null
for name in "${characters[@]}"; do
  vips flatten "$out/svg/$name.svg" "$out/refs/$name.png" --background "255 255 255"
done
for name in "${unrelated[@]}"; do
  vips flatten "$out/svg/$name.svg" "$out/unrelated/$name.png" --background "255 255 255"
done

registry="$out/registry"
"$bin/likeness" init "$registry" >/dev/null
for name in "${characters[@]}"; do
  "$bin/likeness" character add "$name" --name "$(tr '-' ' ' <<<"$name")" \
    --rights-holder "Microsoft Corporation (Fluent Emoji, MIT)" -r "$registry" >/dev/null
  "$bin/likeness" ref add "$name" "$out/refs/$name.png" -r "$registry" >/dev/null 2>"$out/ref-add.log" \
    || { cat "$out/ref-add.log" >&2; echo "demo-registry: registering $name failed" >&2; exit 1; }
done
rm -f "$out/ref-add.log"
printf '%s\n' "${characters[@]}"
