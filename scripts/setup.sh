#!/usr/bin/env bash
# Installs everything likeness needs on Debian 12 (bookworm) and builds faiss with its C API.
# Idempotent: a second run on the same machine installs nothing and reuses the cached faiss.
. "$(dirname "$0")/on-error.sh"
here=$(cd "$(dirname "$0")" && pwd)

# The packages and what each is for: scripts/debian-packages.txt. Everything else the scripts
# call comes with every Debian system (coreutils, findutils, mawk, sed, grep, tar, gzip,
# util-linux, bsdutils' script, diffutils); scripts/fresh-check.sh proves it on a minimal one,
# and scripts/check-cold-cache.sh runs the cache-filling steps with nothing else on PATH. The
# optional tools install their own: scripts/fuzz.sh clang, scripts/fresh-check.sh debootstrap.
. "$here/apt.sh"
mapfile -t packages < <(awk '!/^#/ && NF { print $1 }' "$here/debian-packages.txt")
# node and npm: Debian's, only when missing (a NodeSource nodejs carries npm and conflicts with it).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
lk_apt_install setup "${packages[@]}"

"$here/build-faiss.sh" >/dev/null
