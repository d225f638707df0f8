#!/usr/bin/env bash
# Downloads one npm package's tarball (npm pack: the registry's integrity check, no install, no
# scripts run) into the download cache, once, and prints its path.
#   scripts/fetch-npm.sh PACKAGE@VERSION
. "$(dirname "$0")/on-error.sh"
[ $# -eq 1 ] && [[ $1 == ?*@* ]] || { echo "fetch-npm: want PACKAGE@VERSION, got '$*'" >&2; exit 2; }
spec=$1
. "$(dirname "$0")/cache-dir.sh"
tarball="$download_root/npm/$(printf '%s' "$spec" | tr '@/' '__').tgz"
if [ ! -s "$tarball" ]; then
  . "$(dirname "$0")/need-npm.sh"
  mkdir -p "$(dirname "$tarball")"
  tmp=$(mktemp -d "$(dirname "$tarball")/.pack.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-npm: downloading $spec" >&2
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  packed=("$tmp"/*.tgz)
  [ "${#packed[@]}" -eq 1 ] && [ -s "${packed[0]}" ] || { echo "fetch-npm: npm pack $spec wrote no tarball" >&2; exit 1; }
  mv "${packed[0]}" "$tarball" # a rename: a killed download never leaves a partial tarball here
fi
echo "$tarball"
