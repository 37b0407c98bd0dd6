#!/usr/bin/env bash
# Builds esr and runs every test suite (unit, conformance, crash and example tests).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build && ctest --output-on-failure -j"$(nproc)" --timeout 600
