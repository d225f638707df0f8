#!/usr/bin/env bash
# Rebuilds, in an empty temporary cache, every state that the set-up and benchmark scripts keep
# in the cache (the unwrapped CNN models, the art packages, the embedding prior, the benchmark
# corpus), from the packages already downloaded, and fails unless each comes out the same as in
# the cache this machine used. A machine whose cache was filled long ago hides a script that no
# longer works from nothing: a program that only this machine has, a file that only an earlier
# run wrote. This finds it in minutes, not on the next new machine.
#
#   scripts/check-cold-cache.sh [BUILD_DIR]    (default build/, as scripts/build.sh made it)
#
# The steps run with a PATH that holds only the programs of Debian's required packages (what every
# Debian system has) and of the packages scripts/setup.sh installs, so a script that calls a
# program this machine happens to have (bc, say) fails here too.
#
# Reused: the downloaded npm tarballs and .deb files (LIKENESS_DOWNLOADS points at the machine's
# own), and the build's programs. Not covered: faiss (minutes of compiling, nothing but apt and
# cmake; scripts/fresh-check.sh builds it on a new machine).
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-"$root/build"}" && pwd)
. "$root/scripts/cache-dir.sh"
export BUILD_DIR="$build" # where bench/corpus.sh finds its programs

# The warm side: what the build and the benchmark used (made now if they were never made).
warm_models=$("$root/scripts/fetch-models.sh")
"$root/scripts/prepare-prior.sh" "$build" "$warm_models"
"$root/scripts/prepare-bank.sh" "$build" "$warm_models"
warm_corpus=$("$root/bench/corpus.sh")

cold=$(mktemp -d "${TMPDIR:-/tmp}/likeness-cold-cache.XXXXXX")
trap 'rm -rf "$cold"' EXIT
export LIKENESS_CACHE="$cold/cache" LIKENESS_DOWNLOADS="$download_root"

# The programs a new machine is sure to have once scripts/setup.sh ran: those of the required and
# essential packages, of setup's list (scripts/debian-packages.txt), and node and npm (setup
# installs Debian's when missing).
mkdir "$cold/bin"
. "$root/scripts/apt.sh"
mapfile -t setup_packages < <(awk '!/^#/ && NF { print $1 }' "$root/scripts/debian-packages.txt")
mapfile -t base_packages < <(dpkg-query -W -f='${Package} ${Priority} ${Essential}\n' | awk '$2 == "required" || $3 == "yes" { print $1 }')
for package in "${base_packages[@]}" "${setup_packages[@]}" nodejs npm; do
  lk_apt_installed "$package" || continue
  dpkg -L "$package" | awk '/^(\/usr)?\/s?bin\/[^\/]+$/' | while read -r program; do
    if [ -x "$program" ]; then ln -sf "$program" "$cold/bin/"; fi # a pipeline: no failing last test
  done
done
# Names that the alternatives system gives (awk is mawk's, for one), where they lead to a kept program.
for link in /usr/bin/* /usr/sbin/*; do
  [ -L "$link" ] && [[ $(readlink "$link") == /etc/alternatives/* ]] || continue
  target=$(readlink -f "$link")
  kept="$cold/bin/${target##*/}"
  if [ -e "$kept" ] && [ "$(readlink -f "$kept")" = "$target" ]; then ln -sf "$link" "$cold/bin/"; fi
done
for program in bash awk node npm apt-get dpkg-deb vips; do
  [ -x "$cold/bin/$program" ] || { echo "check-cold-cache: no $program among the programs of a new machine" >&2; exit 1; }
done

# Runs one step with its output kept aside; on failure shows it all, on success one line.
step() {
  local name=$1 started status=0
  shift
  started=$(date +%s)
  PATH="$cold/bin" "$@" >"$cold/$name.out" 2>"$cold/$name.err" || status=$?
  if [ "$status" -ne 0 ]; then
    cat "$cold/$name.err" >&2
    echo "check-cold-cache: $name failed from an empty cache (exit status $status): $*" >&2
    exit 1
  fi
  echo "check-cold-cache: $name from an empty cache in $(( $(date +%s) - started )) s" >&2
}

# Fails unless two trees hold the same files with the same bytes.
same() {
  local what=$1 warm=$2 cold_dir=$3
  shift 3
  diff -r -q "$@" "$warm" "$cold_dir" >"$cold/diff.txt" || {
    head -20 "$cold/diff.txt" >&2
    echo "check-cold-cache: $what made from an empty cache differs from $warm" \
         "($(wc -l < "$cold/diff.txt") differences; the first are above). Either a script" \
         "depends on something only the old cache had, or the scripts changed what they make" \
         "without a new cache key." >&2
    exit 1
  }
}

step models "$root/scripts/fetch-models.sh"
cold_models=$(cat "$cold/models.out")
same "the CNN models" "$warm_models" "$cold_models" -x 'embedding-prior.*' -x 'negative-bank.*'

step prior "$root/scripts/prepare-prior.sh" "$build" "$cold_models"
cmp "$warm_models/embedding-prior.f32" "$cold_models/embedding-prior.f32" \
  || { echo "check-cold-cache: the embedding prior made from an empty cache differs" >&2; exit 1; }
cmp "$warm_models/embedding-prior.txt" "$cold_models/embedding-prior.txt" \
  || { echo "check-cold-cache: the embedding prior's description differs" >&2; exit 1; }

step bank "$root/scripts/prepare-bank.sh" "$build" "$cold_models"
cmp "$warm_models/negative-bank.f32" "$cold_models/negative-bank.f32" \
  || { echo "check-cold-cache: the default negative bank made from an empty cache differs" >&2; exit 1; }
cmp "$warm_models/negative-bank.txt" "$cold_models/negative-bank.txt" \
  || { echo "check-cold-cache: the default negative bank's description differs" >&2; exit 1; }

step corpus "$root/bench/corpus.sh"
cold_corpus=$(cat "$cold/corpus.out")
same "the benchmark corpus" "$warm_corpus" "$cold_corpus"
[ -s "$cold_corpus/LICENCES" ] || { echo "check-cold-cache: the corpus has no LICENCES" >&2; exit 1; }

echo "check-cold-cache: models, prior, bank and corpus rebuilt from nothing but the downloads, identical" >&2
