#!/usr/bin/env bash
# Builds esr and runs the main demo: the order-payment saga on the embedded
# LevelDB store (data in ./data/order_payment; run it twice to see recovery).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target order_payment
exec ./build/examples/order_payment/order_payment "${1:-data/order_payment}"
