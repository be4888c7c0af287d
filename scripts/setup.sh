#!/bin/sh
# Set up ASPire Desktop from this checkout and run it, or run its checks and tests.
#
#   sh scripts/setup.sh run [APP ARGS...]    set up, build the shipped content, start the app
#   sh scripts/setup.sh test [PYTEST ARGS...] set up with test tools, run lint, types, tests
#
# Installs what is missing: system libraries (Debian/Ubuntu, with apt-get; as root or
# through sudo), a virtual environment in .venv, the package, and the shipped content.
# Safe to run again: it only installs what is not there yet.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-run}
[ $# -gt 0 ] && shift

# Libraries Qt needs (offscreen and real windows), measured on a bare Debian 12, plus a
# font so text can be drawn, and venv for Python's virtual environments.
PKGS="python3-venv libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6
libglib2.0-0 libxkbcommon0 fonts-dejavu-core libxcb-cursor0 libxcb-icccm4 libxcb-image0
libxcb-keysyms1 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 libxcb-xkb1
libxkbcommon-x11-0"
if [ "$mode" = test ]; then
  # Xvfb for the real-window tests; nginx (started by the sync tests themselves on a
  # loopback port) and the minisign tool (signatures checked against it) for sync.
  PKGS="$PKGS xvfb xauth nginx-light minisign"
  # Installer tests: binutils (as, ld, readelf) and Python's shared library for the
  # frozen build and the .deb; wixl and msitools build and read the MSI.
  pyver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  PKGS="$PKGS binutils libpython$pyver wixl msitools"
fi

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
  done
fi
if [ -n "$missing" ]; then
  echo "Installing system packages:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  python3 -m venv .venv
fi
extras=""
[ "$mode" = test ] && extras="[test,build]"
stamp=".venv/.installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing ASPire Desktop$extras into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  touch "$stamp"
fi

# The shipped content (catalogue, user guide, checksums), where the app looks for it.
content=.venv/share/aspire-desktop/content
.venv/bin/aspire-pack content resources/catalogue.toml "$content" >/dev/null

case "$mode" in
  run)
    exec .venv/bin/aspire-desktop "$@"
    ;;
  test)
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/mypy
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: sh scripts/setup.sh run|test [ARGS...]" >&2
    exit 2
    ;;
esac
