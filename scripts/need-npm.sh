# Sourced by the fetch scripts: makes sure npm and node are there, from Debian's packages
# (scripts/setup.sh installs them too; this covers a fetch script run on its own).
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  . "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
  lk_apt_install need-npm npm nodejs
fi
