#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing tally needs.
# Safe to run again: it installs only what is missing and does nothing when all is present.
# Must run as root (or with sudo available) on Debian 12 (bookworm).
set -euo pipefail

PACKAGES=(
  # toolchain
  g++ cmake ninja-build pkg-config make
  # formatting check (tools/format.sh --check runs in the test suite)
  clang-format
  # libraries (all from Debian 12)
  librocksdb-dev libboost-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libabsl-dev
  libhowardhinnant-date-dev tzdata libcli11-dev libtomlplusplus-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Lua 5.1, the dialect of Redis scripts (EVAL)
  liblua5.1-0-dev
  # real clients and peers used by the tests and benchmarks
  redis-tools redis-server curl procps
  # the client compatibility suites (tests/compat): phpredis and redis-py,
  # each run against tallyd and a redis-server started by the test
  php-cli php-redis python3-redis
  # the dashboard's end-to-end tests (tests/e2e) drive Debian's chromium
  chromium
  # the service tests: systemd-analyze verify, systemd-sysusers and
  # systemd-tmpfiles on the installed unit (nothing is started)
  systemd
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

# Node.js and npm run the ioredis compatibility test (tests/compat). A node
# that came from elsewhere (e.g. NodeSource, which bundles npm) is used as it
# is: Debian's npm package would conflict with it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present, and node and npm"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: run this script as root to install them" >&2
    exit 1
  fi
fi

echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# redis-server's package starts a system service on 6379; tally's tests and
# benchmarks start their own instances on other ports, so leave it alone.
echo "setup: done"
