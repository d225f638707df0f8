#!/usr/bin/env bash
# Builds the libFuzzer harnesses in tests/fuzz with clang (ASan + UBSan) and runs each for
# SECONDS (default 60), seeded with the PDQ test images and the demo characters.
#   scripts/fuzz.sh [SECONDS]
# Findings (crash-*, leak-*, timeout-*) land in build-fuzz/findings/.
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
"$root/scripts/setup.sh"
# clang with its sanitizer and libFuzzer runtimes: Debian's clang (14 on bookworm) and
# libclang-rt-14-dev, installed when missing.
. "$root/scripts/apt.sh"
lk_apt_install fuzz clang libclang-rt-14-dev
build="$root/build-fuzz"
faiss=$("$root/scripts/build-faiss.sh")
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DLK_FAISS_PREFIX="$faiss" -DLK_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_ingest fuzz_pdq_hex -j "$(nproc)"

corpus="$build/corpus/ingest"
mkdir -p "$corpus" "$build/corpus/hex" "$build/findings"
cp -n "$root"/../shared/vectors/pdq/img/*.png "$root"/../shared/vectors/pdq/img/*.jpg "$corpus"/ 2>/dev/null || true
cp -n "$root"/demo/characters/*.svg "$corpus"/
printf '71c3cc72ccc3cc25ce1c39c9369c61c3925cf3c7734db0d60de30cf28d23cb3c' > "$build/corpus/hex/seed"

export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
for target in fuzz_ingest fuzz_pdq_hex; do
  dir="$build/corpus/ingest"
  [ "$target" = fuzz_pdq_hex ] && dir="$build/corpus/hex"
  echo "== $target for ${seconds}s" >&2
  "$build/$target" -max_total_time="$seconds" -max_len=262144 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$build/findings/" -print_final_stats=1 "$dir" 2>&1 | tail -15
done
