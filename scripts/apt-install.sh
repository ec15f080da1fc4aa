#!/usr/bin/env sh
# Installs Debian/Ubuntu packages quietly, with sudo when not root: the driver scripts' one way
# to install (`scripts/apt-install.sh PACKAGE...`).
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "$@" >/dev/null
