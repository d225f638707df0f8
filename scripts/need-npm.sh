# Sourced by the fetch scripts: makes sure npm and node are there, from Debian's packages
# (scripts/setup.sh installs them too; this covers a fetch script run on its own).
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "installing Debian's npm and nodejs" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends npm nodejs >/dev/null \
    || { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends npm nodejs >/dev/null; }
fi
