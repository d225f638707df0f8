#!/usr/bin/env bash
# Quick start, first command: installs what is needed, builds, and runs the main job on real
# third-party character art: registers 30 characters drawn by Microsoft's Fluent Emoji artists
# (fetched from npm at set-up, MIT), makes edited copies of each (JPEG, resize, recolour,
# mirror, text overlay, crop), and checks them together with unrelated art, with both signals
# (PDQ and the CNN embedding; the model comes from npm too).
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh" "$root/build" >/dev/null
bin="$root/build"

out=${LK_DEMO_DIR:-"$root/build/demo"}
rm -rf "$out"
mkdir -p "$out/copies"
export LIKENESS_REGISTRY="$out/registry"

unrelated=(llama sloth otter hedgehog bat shark butterfly turtle wolf gorilla)
echo "== rendering and registering 30 characters, rendering ${#unrelated[@]} unrelated emoji"
"$root/scripts/demo-registry.sh" "$bin" "$out" "${unrelated[@]}" >"$out/characters.txt"
mapfile -t characters <"$out/characters.txt"
for svg in "$root"/demo/characters/*.svg; do # the project's own mascots: unrelated too
  vips copy "$svg" "$out/unrelated/mascot-$(basename "$svg" .svg).png"
done
"$bin/likeness" stats | sed 's/^/   /'

echo "== making edited copies"
vips black "$out/black.v" 512 512 --bands 3
for name in "${characters[@]}"; do
  ref="$out/refs/$name.png"
  vips copy "$ref" "$out/copies/$name--jpeg40.jpg[Q=40]"
  vips resize "$ref" "$out/copies/$name--half-size.png" 0.5
  vips linear "$ref" "$out/copies/$name--recolour.png" "0.8 1.0 1.2" "25 0 -10" --uchar
  vips flip "$ref" "$out/copies/$name--mirror.png" horizontal
  vips text "$out/text.v" "fan art #1" --width 480 --dpi 160
  vips embed "$out/text.v" "$out/mask.v" 20 440 512 512
  vips ifthenelse "$out/mask.v" "$out/black.v" "$ref" "$out/copies/$name--text.png" --blend
  vips crop "$ref" "$out/copies/$name--crop10.png" 26 26 460 460
done

echo "== checking $(ls "$out/copies" | wc -l) copies and $(ls "$out/unrelated" | wc -l) unrelated images"
audit_status=0
"$bin/likeness" audit -j "$(nproc)" -o "$out/verdicts.jsonl" "$out/copies" "$out/unrelated" 2>"$out/audit.log" \
  || audit_status=$?
# 1 (something blocked) and 5 (something to review) are the verdicts the demo is made to get.
case $audit_status in
  0 | 1 | 5) ;;
  *) cat "$out/audit.log" >&2; echo "demo: likeness audit failed (exit status $audit_status)" >&2; exit 1 ;;
esac
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const rows = {};
  let unrelated = { total: 0, allow: 0 }, wrong = 0;
  for (const r of lines) {
    const file = r.path.split("/").pop();
    if (r.path.includes("/unrelated/")) {
      unrelated.total++;
      if (r.verdict === "allow") unrelated.allow++;
      else console.log(`   unrelated ${file}: ${r.verdict} (${r.reason})`);
      continue;
    }
    const [name, edit] = file.replace(/\.[a-z]+$/, "").split("--");
    const e = rows[edit] = rows[edit] || { total: 0, block: 0, review: 0, allow: 0 };
    e.total++;
    e[r.verdict]++;
    if (r.matches && r.matches.length && r.matches[0].character !== name) wrong++;
  }
  console.log("   edit         copies  block  review  allow");
  for (const [edit, e] of Object.entries(rows).sort())
    console.log(`   ${edit.padEnd(12)} ${String(e.total).padStart(6)} ${String(e.block).padStart(6)} ${String(e.review).padStart(7)} ${String(e.allow).padStart(6)}`);
  console.log(`   unrelated images allowed: ${unrelated.allow} of ${unrelated.total}; copies matched to the wrong character: ${wrong}`);
' "$out/verdicts.jsonl"
echo
echo "One JSON line per image with its evidence: $out/verdicts.jsonl"
echo "PDQ catches re-encoding, resizing, recolouring and mirroring; the CNN embedding catches what"
echo "moves a hash too far (crops, text) and says which signal found it."
echo "Try: $bin/likeness check --json $out/copies/cat-face--crop10.png"
