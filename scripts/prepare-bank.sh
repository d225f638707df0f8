#!/usr/bin/env bash
# Computes the default negative bank (core/embed/embedder.c, BANK_FILE) once per model folder:
# descriptors of pictures of no protected character, which the character model normalises its
# scores by in a registry without negatives of its own. From Debian packages the benchmark does
# not use (it must not have seen the bench's negatives): the GNOME wallpapers (each whole and as
# 8 seeded square crops: full-bleed scenes) and the sprites and tiles of Pingus (art on white).
# Licences: each package's /usr/share/doc/<package>/copyright, listed in negative-bank.txt.
#   scripts/prepare-bank.sh BUILD_DIR MODELS_DIR
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: scripts/prepare-bank.sh BUILD_DIR MODELS_DIR" >&2; exit 2; }
build=$1 models=$2
bank="$models/negative-bank.f32"
[ -f "$bank" ] && exit 0
debs=(gnome-backgrounds=43.1-1 pingus-data=0.7.6-5.1)
gnome=$("$root/scripts/fetch-deb.sh" "${debs[0]}")
pingus=$("$root/scripts/fetch-deb.sh" "${debs[1]}")
mapfile -t wallpapers < <(find "$gnome/usr/share/backgrounds" -name '*.webp' | sort)
# Every sprite and tile: ground, bridges, signposts, the pingus themselves.
mapfile -t sprites < <(find "$pingus/usr/share/games/pingus/data/images/groundpieces" \
                            "$pingus/usr/share/games/pingus/data/images/hotspots" \
                            "$pingus/usr/share/games/pingus/data/images/pingus" -name '*.png' | sort)
[ "${#wallpapers[@]}" -gt 0 ] && [ "${#sprites[@]}" -gt 0 ] ||
  { echo "prepare-bank: found ${#wallpapers[@]} wallpapers and ${#sprites[@]} sprites" >&2; exit 1; }
# The description first: the bank itself (written through a rename) marks the step as done.
{
  printf 'default negative bank: %d GNOME wallpapers (each whole and as 16 crops), %d Pingus sprites and tiles\n' \
    "${#wallpapers[@]}" "${#sprites[@]}"
  for spec in "${debs[@]}"; do
    echo "Debian package ${spec%%=*} ${spec#*=}: licences in its /usr/share/doc/${spec%%=*}/copyright"
  done
} > "$models/negative-bank.txt"
"$build/likeness-embed-bank" "$models" "$bank" 16 "${wallpapers[@]}" "${sprites[@]}" >&2
