#!/usr/bin/env bash
# Installs everything likeness needs on Debian 12 (bookworm) and builds faiss with its C API.
# Idempotent: a second run on the same machine installs nothing and reuses the cached faiss.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
  build-essential cmake pkg-config ninja-build
  libvips-dev
  libopenblas-openmp-dev
  libcriterion-dev
  dpkg-dev
  libgflags-dev
)

need=()
for p in "${packages[@]}"; do
  case "$p" in \
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

"$here/build-faiss.sh"
