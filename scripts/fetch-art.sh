#!/usr/bin/env bash
# Fetches third-party character art from the npm registry into the cache (never into the
# repository) and prints the path of its Iconify icons.json. The package's licence is written
# beside it (LICENSE-INFO, one line, in the folder above icons.json) and printed on standard error.
#   scripts/fetch-art.sh [PACKAGE@VERSION]   (default @iconify-json/fluent-emoji-flat@1.2.6, MIT)
. "$(dirname "$0")/on-error.sh"
spec=${1:-@iconify-json/fluent-emoji-flat@1.2.6}
. "$(dirname "$0")/cache-dir.sh"
dir="$cache_root/npm/$(printf '%s' "$spec" | tr '@/' '__')"
if [ ! -f "$dir/package/icons.json" ]; then
  tarball=$("$(dirname "$0")/fetch-npm.sh" "$spec")
  . "$(dirname "$0")/need-npm.sh" # node reads the licence
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir.tmp"
  mkdir "$dir.tmp"
  tar xzf "$tarball" -C "$dir.tmp"
  [ -f "$dir.tmp/package/icons.json" ] || { echo "fetch-art: $spec has no icons.json" >&2; exit 1; }
  node -e '
    const p = require(process.argv[1] + "/package/package.json");
    let info = {};
    try { info = require(process.argv[1] + "/package/info.json"); } catch (e) {}
    const a = info.author || {}, l = info.license || {};
    console.log(`${p.name} ${p.version}: licence ${p.license}` +
      (l.title ? ` (${l.title}${l.url ? ", " + l.url : ""})` : "") +
      (a.name ? `; art by ${a.name}${a.url ? " (" + a.url + ")" : ""}` : ""));
  ' "$dir.tmp" > "$dir.tmp/LICENSE-INFO"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi
cat "$dir/LICENSE-INFO" >&2
echo "$dir/package/icons.json"
