# Sourced by the scripts that install Debian packages: one way to ask whether a package is
# installed and to install what is missing (as root, or through sudo; never interactive).
#   lk_apt_installed PACKAGE        true when dpkg has it installed
#   lk_apt_install WHO PACKAGE...   installs those of PACKAGE... that are missing; WHO names the
#                                   caller in its one line of progress
# When anything is missing it runs `apt-get update` first: a new machine or container has no
# package lists (or only the suite debootstrap wrote), an old one has stale lists that name
# versions the mirror dropped.

lk_apt_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt-get as root: directly when we are root, else through sudo.
lk_apt_get() {
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get "$@"
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
  fi
}

lk_apt_install() {
  local who=$1 package
  local missing=()
  shift
  for package in "$@"; do lk_apt_installed "$package" || missing+=("$package"); done
  [ "${#missing[@]}" -gt 0 ] || return 0
  echo "$who: installing ${missing[*]}" >&2
  lk_apt_get update -qq
  lk_apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
