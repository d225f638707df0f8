#!/usr/bin/env bash
# Distances between unrelated characters, to check the review band against: every image of the
# demo (30 registered emoji, 10 other emoji, 4 mascots; run scripts/demo.sh first) compared with
# every other through `likeness compare` (smallest distance over the dihedral variants).
#   bench/unrelated_distances.sh [DEMO_DIR]
. "$(dirname "$0")/../scripts/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
demo=${1:-"$root/build/demo"}
mapfile -t images < <(ls "$demo"/refs/*.png "$demo"/unrelated/*.png)
for img in "${images[@]}"; do
  others=()
  for o in "${images[@]}"; do [ "$o" = "$img" ] || others+=("$o"); done
  "$root/build/likeness" compare "$img" "${others[@]}"
done | cut -f1 | sort -n | awk '
  { d[NR] = $1 }
  END {
    printf "%d images, %d ordered pairs: min %d, 1st percentile %d, median %d, max %d bits\n",
           '"${#images[@]}"', NR, d[1], d[int(NR * 0.01) + 1], d[int((NR + 1) / 2)], d[NR]
  }'
