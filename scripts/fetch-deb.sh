#!/usr/bin/env bash
# Fetches a Debian package's files into the cache without installing it (apt-get download into
# the download cache, then dpkg-deb -x; no root needed when apt's lists are current) and prints
# the folder they were unpacked into. Its copyright file is at usr/share/doc/<package>/copyright
# inside it.
#   scripts/fetch-deb.sh PACKAGE=VERSION
. "$(dirname "$0")/on-error.sh"
[ $# -eq 1 ] && [[ $1 == ?*=?* ]] || { echo "fetch-deb: want PACKAGE=VERSION, got '$*'" >&2; exit 2; }
spec=$1
. "$(dirname "$0")/cache-dir.sh"
name=$(printf '%s' "$spec" | tr '=:' '__')
dir="$cache_root/deb/$name"
deb="$download_root/deb/$name.deb"
if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$(dirname "$deb")" "$(dirname "$dir")"
  tmp=$(mktemp -d "$(dirname "$dir")/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  if [ ! -s "$deb" ]; then
    # _apt drops privileges when it can; a private folder it cannot enter only costs a warning.
    chmod 755 "$tmp"
    download() { (cd "$tmp" && apt-get download -q "$spec" >/dev/null 2>"$tmp/err"); }
    if ! download; then
      # A machine whose package lists are missing or stale (a fresh container, say): refresh once.
      echo "fetch-deb: $spec not found in apt's lists; running apt-get update" >&2
      . "$(dirname "$0")/apt.sh"
      lk_apt_get update -qq
      download || { cat "$tmp/err" >&2; echo "fetch-deb: could not download $spec" >&2; exit 1; }
    fi
    debs=("$tmp"/*.deb)
    mv "${debs[0]}" "$deb"
  fi
  mkdir "$tmp/root"
  dpkg-deb -x "$deb" "$tmp/root"
  touch "$tmp/root/.complete"
  rm -rf "$dir"
  mv "$tmp/root" "$dir"
fi
echo "$dir"
