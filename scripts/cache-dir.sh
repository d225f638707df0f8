# Sourced by the set-up scripts: sets cache_root, where fetched and built third-party things
# live outside the work tree (shared by clones and CI runs on one machine).
if [ -n "${LIKENESS_CACHE:-}" ]; then
  cache_root=$LIKENESS_CACHE
elif [ -w /var/cache ] || [ -w /var/cache/likeness ]; then
  cache_root=/var/cache/likeness
else
  cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/likeness
fi
