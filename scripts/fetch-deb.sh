#!/usr/bin/env bash
# Fetches a Debian package's files into the cache without installing it (apt-get download,
# then dpkg-deb -x; no root needed) and prints the folder they were unpacked into. Its copyright
# file is at usr/share/doc/<package>/copyright inside it.
#   scripts/fetch-deb.sh PACKAGE=VERSION
set -euo pipefail
spec=$1
case $spec in *=*) ;; *) echo "fetch-deb: want PACKAGE=VERSION, got '$spec'" >&2; exit 2 ;; esac
. "$(dirname "$0")/cache-dir.sh"
dir="$cache_root/deb/$(printf '%s' "$spec" | tr '=:' '__')"
if [ ! -f "$dir/.complete" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-deb.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # _apt drops privileges when it can; a private folder it cannot enter only costs a warning.
  chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q "$spec" >/dev/null 2>"$tmp/err") || {
    cat "$tmp/err" >&2
    echo "fetch-deb: could not download $spec (is the apt cache current? apt-get update)" >&2
    exit 1
  }
  mkdir -p "$tmp/root"
  dpkg-deb -x "$tmp"/*.deb "$tmp/root"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/root" "$dir"
  touch "$dir/.complete"
fi
echo "$dir"
