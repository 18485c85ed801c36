#!/usr/bin/env bash
# Rewrites the documents generated from the code's tables: docs/commands.md
# (commands and HTTP routes), docs/errors.md (error codes), the command list
# between the markers in README.md, and (from the settings table, with
# --write) systemd/tally.toml and README.md's settings tables. Run it after
# changing a command, a route, an error code or a setting; the ctests
# `docs.generated` and `settings.*` fail until you do.
#   bash tools/gen-docs.sh            # builds tally-docgen (release preset), rewrites the files
#   bash tools/gen-docs.sh --check    # only report files that differ (exit 1 if any)
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${PRESET:-release}"
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" --target tally-docgen tallyd >/dev/null
mode=--write
[ "${1:-}" = "--check" ] && mode=--check
"build/$PRESET/tools/tally-docgen" "$mode" "$PWD"
if [ "$mode" = --write ]; then bash tools/gen-settings-docs.sh "build/$PRESET/daemon/tallyd"; fi
