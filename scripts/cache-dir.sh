# Sourced by the set-up scripts: sets cache_root, where fetched and built third-party things
# live outside the work tree (shared by clones and CI runs on one machine), and download_root,
# where the downloaded packages themselves are kept (npm tarballs, Debian .deb files), apart from
# what is made of them: with LIKENESS_CACHE pointed at an empty folder and LIKENESS_DOWNLOADS at
# the old downloads, every cached state is rebuilt without the network (scripts/check-cold-cache.sh).
if [ -n "${LIKENESS_CACHE:-}" ]; then
  cache_root=$LIKENESS_CACHE
elif [ -w /var/cache ] || [ -w /var/cache/likeness ]; then
  cache_root=/var/cache/likeness
else
  cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/likeness
fi
download_root=${LIKENESS_DOWNLOADS:-$cache_root/downloads}
