#!/usr/bin/env bash
# The shell scripts' promise: none exits non-zero in silence. Checks that every runnable script in
# scripts/ and bench/ loads scripts/on-error.sh before its first command, that the trap names the
# failing command, its line and each pipeline stage's status, and that wrong arguments get a
# sentence and exit status 2. Prints "N passed, M failed".
# With a build folder, also the programs the corpora are made with: the photo cropper
# (bench_photo_crops) and the identity track's frame cutter (bench_identity_frames).
#   tests/test_scripts.sh [BUILD_DIR]
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-test-scripts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# Runs a command; checks its exit status and that its standard error contains each pattern.
expect() {
  local want=$1 name=$2
  shift 2
  local patterns=() status=0
  while [ "$1" != -- ]; do patterns+=("$1"); shift; done
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
  [ "$status" -eq "$want" ] || { fail "$name: exit status $status, expected $want; stderr: $(cat "$tmp/err")"; return; }
  local p
  for p in "${patterns[@]}"; do
    grep -qF -- "$p" "$tmp/err" || { fail "$name: stderr lacks '$p': $(cat "$tmp/err")"; return; }
  done
  pass
}

# 1. Every script with a shebang sources on-error.sh before any other command runs.
for script in "$root"/scripts/*.sh "$root"/bench/*.sh "$root"/tests/*.sh; do
  [ "$(head -c 2 "$script")" = "#!" ] || continue # sourced helpers run in their caller's shell
  [ "$script" = "$root/tests/test_scripts.sh" ] && continue # counts failures itself
  first=$(grep -v -E '^[[:space:]]*(#|$)' "$script" | head -1)
  case $first in
    *'. "$(dirname "$0")/on-error.sh"' | *'. "$(dirname "$0")/../scripts/on-error.sh"') pass ;;
    *) fail "${script#"$root"/}: first command is '$first', not the source of on-error.sh" ;;
  esac
done

# 2. The trap: a failing pipeline inside a function, called from a command substitution.
cat > "$tmp/failing.sh" <<EOF
#!/usr/bin/env bash
. "$root/scripts/on-error.sh"
stage() { return 3; }
count() { true | stage | cat; } # true writes nothing: no SIGPIPE race with stage
echo before
n=\$(count)
echo "not reached \$n"
EOF
expect 3 "trap in a pipeline" "failing.sh: line 4: \`cat\` failed (exit statuses of the pipeline's commands: 0 3 0)" \
  "failing.sh: line 6: \`n=\$(count)\` failed (exit status 3)" -- bash "$tmp/failing.sh"
grep -q 'not reached' "$tmp/out" && fail "trap: the script went on after the failure" || pass

# 3. A plain command's failure, with its status passed on.
printf '#!/usr/bin/env bash\n. "%s/scripts/on-error.sh"\ntrue\nls "%s/missing"\n' "$root" "$tmp" > "$tmp/plain.sh"
expect 2 "trap on a plain command" "plain.sh: line 4: \`ls \"$tmp/missing\"\` failed (exit status 2)" "No such file" \
  -- bash "$tmp/plain.sh"

# 4. Wrong arguments: a sentence and exit status 2, before any work.
expect 2 "fetch-deb without a version" "want PACKAGE=VERSION" -- "$root/scripts/fetch-deb.sh" bc
expect 2 "fetch-npm without a version" "want PACKAGE@VERSION" -- "$root/scripts/fetch-npm.sh" nsfwjs
expect 2 "prepare-prior without arguments" "usage: scripts/prepare-prior.sh" -- "$root/scripts/prepare-prior.sh"
expect 2 "corpus without a build" "run scripts/build.sh first" \
  -- env BUILD_DIR="$tmp/no-build" LIKENESS_CACHE="$tmp/cache" "$root/bench/corpus.sh" "$tmp/corpus"
[ -e "$tmp/corpus" ] && fail "corpus without a build made its folder anyway" || pass
expect 2 "identity corpus without a build" "run scripts/build.sh first" \
  -- env BUILD_DIR="$tmp/no-build" LIKENESS_CACHE="$tmp/cache" "$root/bench/identity_corpus.sh" "$tmp/identity"
[ -e "$tmp/identity" ] && fail "identity corpus without a build made its folder anyway" || pass
expect 2 "test without the reference vectors" "the reference test vectors are missing" \
  -- env LK_SHARED_DIR="$tmp/no-shared" "$root/scripts/test.sh"
expect 2 "demo-registry without arguments" "usage: scripts/demo-registry.sh" -- "$root/scripts/demo-registry.sh"
expect 2 "suite with a wrong option" "usage: bench/suite.sh" -- "$root/bench/suite.sh" --large
expect 2 "identity with a wrong option" "usage: bench/identity.sh" -- "$root/bench/identity.sh" --large
expect 2 "fresh-check with a wrong option" "usage: scripts/fresh-check.sh" -- "$root/scripts/fresh-check.sh" --twice
if [ "$(id -u)" -eq 0 ]; then # as root it would go on to work in the folder
  mkdir "$tmp/precious" && echo keep > "$tmp/precious/file"
  expect 2 "fresh-check in a folder it did not make" "was not made by this script" \
    -- "$root/scripts/fresh-check.sh" --work "$tmp/precious"
  [ "$(cat "$tmp/precious/file" 2>/dev/null)" = keep ] && pass || fail "fresh-check touched a folder it did not make"
fi

# 5. The photo cropper: seeded crops, 768x768, the same bytes every time; clear refusals.
if [ -n "$build" ]; then
  crops="$build/bench_photo_crops"
  # A gradient, so crops at other places differ; two bands, saved as grey and alpha, so the
  # flattening on white runs too.
  vips xyz "$tmp/xy.v" 300 200
  vips linear "$tmp/xy.v" "$tmp/photo.png" "0.8 1.2" "10 5" --uchar
  mkdir "$tmp/a" "$tmp/b"
  expect 0 "crops" -- "$crops" 7 3 "$tmp/a" "one=$tmp/photo.png"
  [ "$(cat "$tmp/out")" = 3 ] && pass || fail "crops: printed '$(cat "$tmp/out")', not 3"
  for k in 0 1 2; do
    size=$(vipsheader -f width "$tmp/a/one-$k.jpg")x$(vipsheader -f height "$tmp/a/one-$k.jpg")
    [ "$size" = 768x768 ] && pass || fail "crop $k is $size, not 768x768"
  done
  "$crops" 7 3 "$tmp/b" "one=$tmp/photo.png" >/dev/null
  diff -r -q "$tmp/a" "$tmp/b" >/dev/null && pass || fail "the same seed made other crops"
  "$crops" 8 3 "$tmp/b" "one=$tmp/photo.png" >/dev/null
  diff -r -q "$tmp/a" "$tmp/b" >/dev/null && fail "another seed made the same crops" || pass
  expect 2 "crops without a stem" "want STEM=SOURCE" -- "$crops" 7 3 "$tmp/a" "$tmp/photo.png"
  expect 2 "crops with a bad seed" "usage: bench_photo_crops" -- "$crops" -1 3 "$tmp/a" "one=$tmp/photo.png"
  printf 'not a picture' > "$tmp/bad.jpg"
  expect 1 "crops of a broken source" "cannot read $tmp/bad.jpg" -- "$crops" 7 3 "$tmp/a" "bad=$tmp/bad.jpg"
fi

# 6. The identity track's frame cutter: frames cut from a grid, trimmed and squared, near-repeats
# dropped, characters with too few poses left out; clear refusals.
if [ -n "$build" ]; then
  frames="$build/bench_identity_frames"
  # Four 40x40 frames in a 2x2 sheet: one gradient turned four ways, opaque.
  vips xyz "$tmp/g.v" 40 40
  vips extract_band "$tmp/g.v" "$tmp/gx.v" 0
  vips linear "$tmp/gx.v" "$tmp/g0.v" 6 0 --uchar
  vips rot "$tmp/g0.v" "$tmp/g1.v" d90
  vips rot "$tmp/g0.v" "$tmp/g2.v" d180
  vips rot "$tmp/g0.v" "$tmp/g3.v" d270
  vips arrayjoin "$tmp/g0.v $tmp/g1.v $tmp/g2.v $tmp/g3.v" "$tmp/sheet.v" --across 2
  vips bandjoin_const "$tmp/sheet.v" "$tmp/sheet-a.v" 255
  vips colourspace "$tmp/sheet-a.v" "$tmp/sheet.png" srgb
  {
    for i in 0 1 2 3; do printf 'game\tgame:f\tgame:hero\tpose-%d\t%s\tgrid 2 2 %d\n' "$i" "$tmp/sheet.png" "$i"; done
    printf 'game\tgame:f\tgame:hero\tpose-again\t%s\trect 0 0 40 40\n' "$tmp/sheet.png" # frame 0 once more
    for i in 0 1; do printf 'game\tgame:f\tgame:extra\tpose-%d\t%s\tgrid 2 2 %d\n' "$i" "$tmp/sheet.png" "$i"; done
  } > "$tmp/manifest.tsv"
  mkdir "$tmp/frames"
  "$frames" "$tmp/frames" < "$tmp/manifest.tsv" > "$tmp/identity.tsv" 2> "$tmp/err" && pass ||
    fail "frames: exit status $?: $(cat "$tmp/err")"
  [ "$(cut -f3 "$tmp/identity.tsv" | sort | uniq -c | awk '{ print $1, $2 }')" = "4 game:hero" ] && pass ||
    fail "frames: want the hero's four poses and no extra (two poses), got: $(cat "$tmp/identity.tsv")"
  grep -q 'pose-again' "$tmp/identity.tsv" && fail "frames: a repeat of frame 0 was kept" || pass
  grep -q '1 near-repeats' "$tmp/err" && pass || fail "frames: the summary does not count the repeat: $(cat "$tmp/err")"
  size=$(vipsheader -f width "$tmp/frames/game/game_hero/pose-1.png")x$(vipsheader -f height "$tmp/frames/game/game_hero/pose-1.png")
  [ "$size" = 50x50 ] && pass || fail "frames: a 40x40 frame with an eighth of margin each side is $size, not 50x50"
  expect 2 "frames without a folder" "usage: bench_identity_frames" -- "$frames"
  printf 'game\tgame:f\tgame:hero\tpose\t%s\n' "$tmp/sheet.png" > "$tmp/short.tsv"
  expect 2 "frames of a short manifest line" "manifest line 1 has 5 fields, not 6" \
    -- sh -c '"$1" "$2" < "$3"' sh "$frames" "$tmp/frames" "$tmp/short.tsv"
  printf 'game\tgame:f\tgame:hero\tpose\t%s\trect 70 70 20 20\n' "$tmp/sheet.png" > "$tmp/outside.tsv"
  expect 1 "frames of a rectangle outside the sheet" "'rect 70 70 20 20' is not inside its 80x80 pixels" \
    -- sh -c '"$1" "$2" < "$3"' sh "$frames" "$tmp/frames" "$tmp/outside.tsv"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
