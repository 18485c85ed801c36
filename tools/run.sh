#!/usr/bin/env bash
# Installs what is missing, builds tally (release preset) and runs tallyd in the
# foreground on ./tally-data with default settings (TCP 127.0.0.1:6380, unix
# socket ./tally-data/tally.sock). Extra arguments go to tallyd.
#   bash tools/run.sh
#   bash tools/run.sh --durability fsync --port 6390
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
cmake --preset release >/dev/null
echo "run: building..."
cmake --build --preset release -j "$(nproc)" --target tallyd
exec build/release/daemon/tallyd --data-dir ./tally-data "$@"
