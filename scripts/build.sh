#!/usr/bin/env bash
# Configures and builds likeness: scripts/build.sh [--sanitize] [BUILD_DIR]
# Expects scripts/setup.sh to have run (it is idempotent; demo.sh and test.sh call it).
# LK_SHARED_DIR, when set, names the tests' reference vectors (default: ../shared).
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
sanitize=OFF
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=ON
  shift
fi
build=${1:-"$root/build"}
faiss=$("$root/scripts/build-faiss.sh")
models=$("$root/scripts/fetch-models.sh")
cmake -S "$root" -B "$build" -G Ninja -DLK_FAISS_PREFIX="$faiss" -DLK_MODELS_DIR="$models" -DLK_SANITIZE="$sanitize" \
  ${LK_BUILD_TYPE:+-DCMAKE_BUILD_TYPE=$LK_BUILD_TYPE} ${LK_SHARED_DIR:+-DLK_SHARED_DIR="$LK_SHARED_DIR"} >/dev/null
cmake --build "$build" -j "$(nproc)"
"$root/scripts/prepare-prior.sh" "$build" "$models"
"$root/scripts/prepare-bank.sh" "$build" "$models"
