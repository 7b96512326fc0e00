#!/usr/bin/env bash
# Installs Graphviz's `dot` binary from Debian's `graphviz` package when it is missing.
set -euo pipefail
if command -v dot >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "graphgrad: installing Graphviz (Debian package 'graphviz') for the 'dot' binary" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz >/dev/null
command -v dot >/dev/null 2>&1 || { echo "graphgrad: 'dot' still missing after apt-get install graphviz" >&2; exit 1; }
