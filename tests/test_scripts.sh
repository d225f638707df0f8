#!/usr/bin/env bash
# The shell scripts' promise: none exits non-zero in silence. Checks that every runnable script in
# scripts/ and bench/ loads scripts/on-error.sh before its first command, that the trap names the
# failing command, its line and each pipeline stage's status, and that wrong arguments get a
# sentence and exit status 2. Prints "N passed, M failed".
# With a build folder, also the corpus' photo cropper (bench_photo_crops) that corpus.sh calls.
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
expect 2 "test without the reference vectors" "the reference test vectors are missing" \
  -- env LK_SHARED_DIR="$tmp/no-shared" "$root/scripts/test.sh"
expect 2 "demo-registry without arguments" "usage: scripts/demo-registry.sh" -- "$root/scripts/demo-registry.sh"
expect 2 "suite with a wrong option" "usage: bench/suite.sh" -- "$root/bench/suite.sh" --large
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
