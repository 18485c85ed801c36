#!/usr/bin/env bash
# Applies .clang-format (Google style, 120 columns) to every C++ file git tracks.
#   bash tools/format.sh          # rewrite the files in place
#   bash tools/format.sh --check  # only report files that differ (exit 1 if any); a ctest runs this
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' 2>/dev/null || find daemon protocol storage tools tests -name '*.cc' -o -name '*.h')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "format: $f differs from .clang-format (run: bash tools/format.sh)"
      bad=1
    fi
  done
  exit $bad
fi
clang-format -i "${files[@]}"
