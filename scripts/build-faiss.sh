#!/usr/bin/env bash
# Prints the staged prefix on stdout (progress goes to stderr).
#
# Builds faiss from Debian's own source package with the C API and AVX2 kernels, and stages the
# static libraries and headers in a cache outside the work tree, keyed by version and flags.
#
# Why not Debian's libfaiss-dev: it ships the C API headers but none of its code, and it is a
# generic (non-AVX2) build that searched binary codes ~10x slower here.
# Why stage by hand: `cmake --install` of this tree fails in 1.7.3.
. "$(dirname "$0")/on-error.sh"

version=1.7.3
debian_version=1.7.3-2
# avx2 (default) is ~10x faster on binary search; generic is for CPUs without AVX2, on which the
# avx2 build cannot even be loaded.
opt=${LK_FAISS_OPT:-avx2}
case "$opt" in
  avx2) target=faiss_avx2 ;;
  generic) target=faiss ;;
  *) echo "faiss: LK_FAISS_OPT must be avx2 or generic, not '$opt'" >&2; exit 2 ;;
esac
flags=(-DFAISS_OPT_LEVEL="$opt" -DFAISS_ENABLE_C_API=ON -DFAISS_ENABLE_PYTHON=OFF
       -DFAISS_ENABLE_GPU=OFF -DBUILD_TESTING=OFF -DBLA_VENDOR=OpenBLAS
       -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON)
key=$(printf '%s\n' "$version" "${flags[@]}" "capi-links-avx2" | sha256sum | cut -c1-12)
. "$(dirname "$0")/cache-dir.sh"
prefix="$cache_root/faiss-$version-$key"

if [ -f "$prefix/.complete" ]; then
  echo "faiss: cached at $prefix" >&2
  echo "$prefix"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/likeness-faiss.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private sources list with deb-src lines, so the machine's apt configuration is never touched.
mkdir -p "$work/apt/lists/partial"
cat > "$work/apt/sources.list" <<SRC
deb-src http://deb.debian.org/debian bookworm main
SRC
apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$work/apt/lists" -o "APT::Sandbox::User=root")
echo "faiss: fetching Debian source package faiss $version" >&2
apt-get "${apt_opts[@]}" update -qq
# apt authenticates the download (the Sources index is signed by the archive key and lists the
# files' checksums); dpkg-source would also check the uploader's signature, but Debian's keyring
# is not installed, so its "cannot verify" warning goes to the log.
(cd "$work" && apt-get "${apt_opts[@]}" source -qq --download-only "faiss=$debian_version" \
   && dpkg-source -x --skip-patches faiss_*.dsc src >"$work/dpkg-source.log" 2>&1) \
  || { cat "$work/dpkg-source.log" >&2 2>/dev/null; echo "faiss: fetching the source failed" >&2; exit 1; }
src="$work/src"

# The C API library links the generic `faiss` target; point it at the one we build.
sed -i "s/\(target_link_libraries(faiss_c PRIVATE \)faiss)/\1$target)/" "$src/c_api/CMakeLists.txt"
grep -q "faiss_c PRIVATE $target)" "$src/c_api/CMakeLists.txt" \
  || { echo "faiss: could not point c_api at $target" >&2; exit 1; }

echo "faiss: building (a few minutes on 2 cores)" >&2
cmake -S "$src" -B "$work/build" -G Ninja "${flags[@]}" >"$work/configure.log" \
  || { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" --target "$target" faiss_c -j "$(nproc)" >"$work/build.log" 2>&1 \
  || { tail -50 "$work/build.log" >&2; exit 1; }

# Stage into a temporary folder next to the cache entry, then rename: a killed build never
# leaves a half-filled entry that looks complete.
stage="$prefix.tmp.$$"
rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/include"
cp "$work/build/faiss/lib$target.a" "$work/build/c_api/libfaiss_c.a" "$stage/lib/"
mkdir -p "$stage/include/faiss/c_api"
(cd "$src" && find faiss -name '*.h' -exec cp --parents {} "$stage/include/" \;)
(cd "$src/c_api" && find . -name '*.h' -exec cp --parents {} "$stage/include/faiss/c_api/" \;)
[ -f "$stage/include/faiss/c_api/IndexBinary_c.h" ] && [ -f "$stage/include/faiss/IndexBinary.h" ] \
  || { echo "faiss: headers were not staged" >&2; exit 1; }
printf '%s\n' "faiss $version" "${flags[@]}" > "$stage/.complete"
rm -rf "$prefix"
mv "$stage" "$prefix"
echo "faiss: staged at $prefix" >&2
echo "$prefix"
