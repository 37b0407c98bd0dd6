#!/usr/bin/env bash
# Installs every build and test dependency of esr from Debian packages (run as root or via sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config \
  libcaf-dev libleveldb-dev libsnappy-dev libprotobuf-dev protobuf-compiler \
  libgtest-dev libgmock-dev googletest libbenchmark-dev libjemalloc-dev >/dev/null
echo "esr: dependencies installed"
