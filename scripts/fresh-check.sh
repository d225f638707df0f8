#!/usr/bin/env bash
# The fresh-machine check: the README's two quick-start commands, exactly as the README writes
# them, each on a new minimal Debian 12 made with debootstrap, where nothing is installed or
# cached beforehand; then each once more on the same machine (a second run). Prints and keeps a
# report of each run's time and exit status.
#
#   scripts/fresh-check.sh [--once] [--only N] [--keep] [--work DIR]
#
#   --once      no second run
#   --only N    only the README's Nth command (1: the demo, 2: the tests)
#   --keep      keep the machines' roots (under DIR) for a look afterwards
#   --work DIR  where the roots, logs and report go (default /var/tmp/likeness-fresh-check;
#               emptied first when an earlier check made it, refused when it holds anything
#               else); the report is DIR/report.md, each run's output DIR/logs/
#
# Needs root (debootstrap, chroot, mounts) and installs Debian's debootstrap if it is missing.
# It checks the commit at HEAD when it starts, cloned as a user would; uncommitted changes, and
# commits made while it runs, are not part of it.
# ../shared is copied beside the clone when present, as CI has it.
#
# The new root gets the apt sources of a standard Debian 12 installation (bookworm,
# bookworm-updates, bookworm-security: with only the suite debootstrap writes, -dev packages do
# not resolve), git and ca-certificates, and nothing else. For these build machines only: the
# machine's own trusted CA certificates and npm's cafile setting go into the root too, because
# downloads pass through a TLS proxy that this machine trusts and a new root would not. /proc,
# /sys and /dev (with /dev/pts and /dev/shm) are mounted from the host: the sanitizers read
# /proc, the service tests use shared memory and pseudo-terminals. All are unmounted at the end.
. "$(dirname "$0")/on-error.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
work=/var/tmp/likeness-fresh-check
once=0 keep=0 only=
while [ $# -gt 0 ]; do
  case $1 in
    --once) once=1 ;;
    --keep) keep=1 ;;
    --only) [ $# -ge 2 ] || { echo "fresh-check: --only needs a number" >&2; exit 2; }; only=$2; shift ;;
    --work) [ $# -ge 2 ] || { echo "fresh-check: --work needs a folder" >&2; exit 2; }; work=$2; shift ;;
    *) echo "usage: scripts/fresh-check.sh [--once] [--only N] [--keep] [--work DIR]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "fresh-check: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security

# The quick start's commands, as the README shows them (comments dropped).
mapfile -t commands < <(awk '/^## Quick start/ { q = 1 } q && /^```sh/ { c = 1; next } c && /^```/ { exit } c' \
  "$root/README.md" | sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d')
[ "${#commands[@]}" -eq 2 ] || { echo "fresh-check: expected 2 commands in the README's quick start, found ${#commands[@]}" >&2; exit 1; }
if [ -n "$only" ]; then
  [[ $only =~ ^[12]$ ]] || { echo "fresh-check: --only takes 1 or 2" >&2; exit 2; }
  commands=("${commands[only - 1]}")
fi
# The commit is fixed now: work committed while the check runs does not slip into its later clones.
commit_full=$(git -C "$root" rev-parse HEAD)
commit=$(git -C "$root" rev-parse --short HEAD)
[ -z "$(git -C "$root" status --porcelain)" ] \
  || echo "fresh-check: the work tree has uncommitted changes; checking the commit $commit without them" >&2

# ---- mounts, and never deleting through one
mounted_under() { awk -v p="$1/" 'index($2 "/", p) == 1 { print $2 }' /proc/mounts; }
unmount_all() {
  local target
  for target in $(mounted_under "$1" | sort -r); do
    umount "$target" 2>/dev/null || umount -l "$target"
  done
  [ -z "$(mounted_under "$1")" ] || { echo "fresh-check: still mounted under $1: $(mounted_under "$1")" >&2; return 1; }
}
remove_root() {
  [ -e "$1" ] || return 0
  unmount_all "$1"
  rm -rf --one-file-system "$1"
}
mount_system() {
  mount -t proc proc "$1/proc"
  mount --rbind /sys "$1/sys" && mount --make-rslave "$1/sys"
  mount --rbind /dev "$1/dev" && mount --make-rslave "$1/dev"
}
# Whatever still runs inside a root (a command cut short by Ctrl-C or a kill) holds its mounts.
kill_inside() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    case $r in "$work"/*) kill -9 "${p#/proc/}" 2>/dev/null || true ;; esac
  done
  sleep 1
}
cleanup() {
  local status=$?
  kill_inside
  for r in "$work"/base "$work"/run-*; do
    [ -e "$r" ] || continue
    if [ "$keep" -eq 1 ]; then unmount_all "$r" || true; else remove_root "$r" || true; fi
  done
  exit "$status"
}

elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

if [ -e "$work" ]; then
  # Emptied only when an earlier check made it: a mistyped --work must not cost a folder.
  [ -f "$work/.likeness-fresh-check" ] || [ -z "$(ls -A "$work")" ] \
    || { echo "fresh-check: $work exists and was not made by this script; name another --work" >&2; exit 2; }
  for r in "$work"/*/; do remove_root "${r%/}"; done
  rm -rf --one-file-system "$work"
fi
mkdir -p "$work/logs"
touch "$work/.likeness-fresh-check"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
report="$work/report.md"

. "$(dirname "$0")/apt.sh"
lk_apt_install fresh-check debootstrap

# ---- the base system, copied afresh for each command
base="$work/base"
echo "fresh-check: debootstrap bookworm (minbase, plus git and ca-certificates) into $base" >&2
started=$(date +%s)
debootstrap --variant=minbase --include=git,ca-certificates bookworm "$base" "$mirror" >"$work/logs/debootstrap.log" 2>&1 \
  || { tail -30 "$work/logs/debootstrap.log" >&2; echo "fresh-check: debootstrap failed" >&2; exit 1; }
cat > "$base/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES
# This machine's trust, for its TLS proxy (see the top of this file).
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$base/usr/local/share/ca-certificates/"
  chroot "$base" update-ca-certificates >"$work/logs/ca-certificates.log" 2>&1 \
    || { cat "$work/logs/ca-certificates.log" >&2; echo "fresh-check: update-ca-certificates failed in the new root" >&2; exit 1; }
fi
npm_cafile=
if command -v npm >/dev/null; then
  npm_cafile=$(npm config get cafile 2>/dev/null || true)
  [ "$npm_cafile" != null ] && [ "$npm_cafile" != undefined ] || npm_cafile=
fi
base_time=$(( $(date +%s) - started ))
echo "fresh-check: base system ready in $(elapsed "$base_time") ($(du -sh "$base" | cut -f1))" >&2

{
  echo "# Fresh-machine check"
  echo
  echo "- commit: $commit ($(git -C "$root" log -1 --format=%cd --date=short))"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
       "$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- each command on its own new Debian 12 (debootstrap --variant=minbase, with git and ca-certificates;" \
       "$(elapsed "$base_time") to make), then again on the same machine"
  echo
  echo "| command | run | exit status | time |"
  echo "|---|---|---:|---:|"
} > "$report"

failed=0
for i in "${!commands[@]}"; do
  cmd=${commands[i]}
  run="$work/run-$((i + 1))"
  cp -a "$base" "$run"
  git clone -q --no-checkout "$root" "$run/root/likeness"
  git -C "$run/root/likeness" checkout -q -B main "$commit_full"
  [ -d "$root/../shared" ] && cp -a "$root/../shared" "$run/root/shared"
  mount_system "$run"
  rounds=(fresh second)
  [ "$once" -eq 1 ] && rounds=(fresh)
  for round in "${rounds[@]}"; do
    log="$work/logs/$((i + 1))-$round.log"
    [ "$round" = fresh ] && label="first, new machine" || label="second run"
    echo "fresh-check: $cmd ($label) ..." >&2
    started=$(date +%s)
    status=0
    # In the background and waited for, so that a signal to this script is handled at once.
    chroot "$run" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      ${npm_cafile:+NPM_CONFIG_CAFILE="$npm_cafile"} \
      bash -c "cd /root/likeness && $cmd" </dev/null >"$log" 2>&1 &
    wait $! || status=$?
    took=$(( $(date +%s) - started ))
    echo "| \`$cmd\` | $label | $status | $(elapsed "$took") |" >> "$report"
    echo "fresh-check: $cmd ($label): exit status $status in $(elapsed "$took"); output in $log" >&2
    if [ "$status" -ne 0 ]; then
      failed=1
      tail -40 "$log" >&2
      break
    fi
  done
  if [ "$keep" -eq 1 ]; then unmount_all "$run"; else remove_root "$run"; fi
done
echo >> "$report"
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)." >> "$report"
cat "$report"
exit "$failed"
