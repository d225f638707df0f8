#!/usr/bin/env bash
# Fetches the CNN models likeness embeds images with from the npm registry into the cache (never
# into the repository) and unwraps them into standard TensorFlow.js files: model.json plus
# binary weight shards. Prints the folder holding one subfolder per model. The licence is
# written beside them (LICENSE-INFO) and printed on standard error.
#   scripts/fetch-models.sh      (nsfwjs 4.3.0, MIT: mobilenet_v2 and mobilenet_v2_mid)
. "$(dirname "$0")/on-error.sh"
. "$(dirname "$0")/cache-dir.sh"
spec=nsfwjs@4.3.0
dir="$cache_root/models/nsfwjs-4.3.0"
if [ ! -f "$dir/mobilenet_v2_mid/model.json" ]; then
  tarball=$("$(dirname "$0")/fetch-npm.sh" "$spec")
  . "$(dirname "$0")/need-npm.sh" # node unwraps the modules
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/likeness-models.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  tar xzf "$tarball" -C "$tmp"
  # The package wraps each file in a JavaScript module (UMD): model.min.js exports
  # {modelTopology, weightsManifest}, each shard module a base64 string.
  node -e '
    const fs = require("fs"), path = require("path");
    const [src, dst] = process.argv.slice(1);
    for (const name of ["mobilenet_v2", "mobilenet_v2_mid"]) {
      const m = require(path.join(src, name, "model.min.js"));
      fs.mkdirSync(path.join(dst, name), { recursive: true });
      const manifest = m.weightsManifest.map(g => ({ ...g, paths: g.paths.map(p => p + ".bin") }));
      for (const g of m.weightsManifest)
        for (const p of g.paths)
          fs.writeFileSync(path.join(dst, name, p + ".bin"),
                           Buffer.from(require(path.join(src, name, p + ".min.js")), "base64"));
      fs.writeFileSync(path.join(dst, name, "model.json"),
                       JSON.stringify({ ...m, weightsManifest: manifest }));
    }
    const p = require(path.join(src, "..", "..", "package.json"));
    fs.writeFileSync(path.join(dst, "LICENSE-INFO"), `${p.name} ${p.version}: licence ${p.license}\n`);
  ' "$tmp/package/dist/models" "$tmp/out"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/out" "$dir"
fi
cat "$dir/LICENSE-INFO" >&2
echo "$dir"
