#!/usr/bin/env bash
# Installs everything likeness needs on Debian 12 (bookworm) and builds faiss with its C API.
# Idempotent: a second run on the same machine installs nothing and reuses the cached faiss.
. "$(dirname "$0")/on-error.sh"
here=$(cd "$(dirname "$0")" && pwd)

# What each package is for:
#   libvips-dev             image ingest (every loader Debian ships, shrink-on-load)
#   libvips-tools           the `vips` command, used by the demo to make edited copies
#   libopenblas-openmp-dev  BLAS/LAPACK for faiss, OpenMP flavour (faiss uses OpenMP too; the
#                           pthread flavour beside it oversubscribes the cores)
#   libsqlite3-dev          the character registry's record (transactions, crash safety, one file)
#   libjansson-dev          JSON output of the command-line program (check --json, audit)
#   libcriterion-dev        the test framework
#   zlib1g-dev              tests build a decompression bomb with it
#   dpkg-dev                `apt-get source`, to build faiss from Debian's own source package
#   libgflags-dev           faiss' build system looks for it
#   libopencv-contrib-dev   the benchmark's peers: OpenCV's img_hash (bench-only)
#   libmicrohttpd-dev       `likeness serve`: HTTP/1.1 with a thread pool, limits, suspend/resume
#   wrk                     the service's load test (bench/bench_serve.sh)
#   python3-numpy           the Python binding's zero-copy input, and its tests
#   python3-pil             the AUTOMATIC1111 adapter's images (PIL), in its test
#   nodejs npm              npm fetches the art and models (scripts/fetch-npm.sh); node unwraps
#                           them, draws the benchmark's plots and sums up the demo. Only when
#                           node or npm is missing: a NodeSource nodejs carries its own npm and
#                           conflicts with Debian's.
#   groff-base              the test that the manual page (likeness help --man) renders cleanly
# Everything else the scripts call comes with every Debian system (coreutils, findutils, mawk,
# sed, grep, tar, gzip, util-linux, bsdutils' script, diffutils); scripts/fresh-check.sh proves
# it on a minimal one, and scripts/check-cold-cache.sh runs the cache-filling steps with nothing
# else on PATH. The optional tools install their own: scripts/fuzz.sh clang, scripts/fresh-check.sh
# debootstrap.
packages=(
  build-essential cmake pkg-config ninja-build
  libvips-dev libvips-tools
  libopenblas-openmp-dev
  libsqlite3-dev libjansson-dev
  libcriterion-dev zlib1g-dev
  dpkg-dev libgflags-dev
  libopencv-contrib-dev
  libmicrohttpd-dev wrk python3-numpy python3-pil
  groff-base
)

need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

"$here/build-faiss.sh" >/dev/null
