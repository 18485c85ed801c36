#!/usr/bin/env bash
# Regenerates the documentation that comes from tallyd's settings table
# (daemon/settings.cc): systemd/tally.toml (the example config file) and the
# settings tables of README.md (between <!-- settings:begin --> and
# <!-- settings:end -->). tests/unit/settings fails until they match.
#   bash tools/gen-settings-docs.sh [path/to/tallyd]   # default: build/release/daemon/tallyd
set -euo pipefail
cd "$(dirname "$0")/.."
tallyd="${1:-build/release/daemon/tallyd}"
if [ ! -x "$tallyd" ]; then
  echo "gen-settings-docs: $tallyd not found; build it first (cmake --build --preset release --target tallyd)" >&2
  exit 1
fi
"$tallyd" --print-config-example >systemd/tally.toml.new
mv systemd/tally.toml.new systemd/tally.toml

table="$(mktemp)"
trap 'rm -f "$table"' EXIT
"$tallyd" --print-settings-markdown >"$table"
grep -q '^<!-- settings:begin -->$' README.md && grep -q '^<!-- settings:end -->$' README.md || {
  echo "gen-settings-docs: README.md lacks the <!-- settings:begin --> / <!-- settings:end --> lines" >&2
  exit 1
}
awk -v table="$table" '
  /^<!-- settings:begin -->$/ { print; while ((getline line < table) > 0) print line; skip = 1; next }
  /^<!-- settings:end -->$/ { skip = 0 }
  !skip { print }
' README.md >README.md.new
mv README.md.new README.md
echo "regenerated systemd/tally.toml and README.md's settings tables"
