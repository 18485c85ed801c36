#!/usr/bin/env bash
# Installs what is missing, builds tally (release preset) and runs the whole
# test suite: unit, fuzz-smoke, integration and crash tests. CI runs exactly this.
#   bash tools/test.sh            # release build
#   PRESET=asan bash tools/test.sh   # the same under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${PRESET:-release}"

bash tools/setup.sh
cmake --preset "$PRESET" >/dev/null
echo "test: building ($PRESET)..."
cmake --build --preset "$PRESET" -j "$(nproc)"
echo "test: running the suite..."
ctest --preset "$PRESET"
