#!/usr/bin/env bash
# Rewrites the documents generated from the code's tables: docs/commands.md
# (commands and HTTP routes), docs/errors.md (error codes) and the command
# list between the markers in README.md. Run it after changing a command,
# a route or an error code; the ctest `docs.generated` fails until you do.
#   bash tools/gen-docs.sh            # builds tally-docgen (release preset), rewrites the files
#   bash tools/gen-docs.sh --check    # only report files that differ (exit 1 if any)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${PRESET:-release}"
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" --target tally-docgen >/dev/null
mode=--write
[ "${1:-}" = "--check" ] && mode=--check
"build/$PRESET/tools/tally-docgen" "$mode" "$PWD"
