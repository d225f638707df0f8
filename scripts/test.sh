#!/usr/bin/env bash
# Quick start, second command: installs what is needed, builds, and runs every test twice:
# a normal optimised build, then an AddressSanitizer + UndefinedBehaviorSanitizer build; in
# between, the benchmark's small run, which fails when detection quality drops below the
# floors in bench/floors-small.tsv, and the check that every cached state (models, prior,
# corpus) can still be made from an empty cache.
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)

# The tests compare likeness with outputs of reference implementations (Meta's PDQ, TensorFlow.js'
# MobileNetV2), kept outside this repository: shared/ beside the clone, as CI has it, or the
# folder LK_SHARED_DIR names. Without them most tests would fail one by one; say so once, first.
shared=${LK_SHARED_DIR:-"$root/../shared"}
for vector in vectors/pdq/pdq_vectors.csv vectors/pdq/img vectors/mobilenet_v2/inputs_u8.bin \
              vectors/mobilenet_v2_140/ref.feature_vector.f32; do
  [ -e "$shared/$vector" ] && continue
  echo "test: the reference test vectors are missing ($shared/$vector does not exist). The tests" \
       "compare likeness with reference implementations' outputs, which this repository does not" \
       "hold: put the shared/ folder beside the clone ($root/../shared) or name it with" \
       "LK_SHARED_DIR=/path/to/shared." >&2
  exit 2
done
LK_SHARED_DIR=$(cd "$shared" && pwd)
export LK_SHARED_DIR # scripts/build.sh hands it to cmake
"$root/scripts/setup.sh"

echo "== release build and tests" >&2
"$root/scripts/build.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure -j 2)

echo "== benchmark, small run (bench/suite.sh --small)" >&2
"$root/bench/suite.sh" --small >/dev/null

echo "== cache-filling scripts from an empty cache (scripts/check-cold-cache.sh)" >&2
"$root/scripts/check-cold-cache.sh" "$root/build"

echo "== ASan + UBSan build and tests" >&2
LK_BUILD_TYPE=Debug "$root/scripts/build.sh" --sanitize "$root/build-sanitize"
# Leak checking is on; glib's and fontconfig's one-time caches are expected, listed here.
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd "$root/build-sanitize" && ctest --output-on-failure -j 2)
