#!/usr/bin/env bash
# bench-redis-apps.sh — the Redis calls apps make beside counters, against
# redis-server and tallyd side by side (docs/benchmarks.md, "Transactions,
# scripts, hashes and sorted sets"):
#
#   tx       MULTI, INCR c:N, EXPIRE c:N 3600, EXEC   (tally-resp-load: one unit = the 4 commands)
#   evalsha  EVALSHA <compare-and-delete> 1 lock:N owner  (Laravel's and redis-py's lock release)
#   hincrby  HINCRBY page:N views 1                       (redis-benchmark)
#   zincrby  ZINCRBY board 1 member:N                     (redis-benchmark)
#
# Each cell runs R times per server, alternating which goes first, at every
# pipeline depth; the table gives median units (or requests) per second and
# the ratio tally/redis. Servers: redis-server --appendonly yes --appendfsync
# everysec vs tallyd --durability process (both fsync once a second).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
BUILD="${BUILD:-$REPO_DIR/build/release}"
TALLYD="${TALLYD:-$BUILD/daemon/tallyd}"
LOAD="${LOAD:-$BUILD/tools/tally-resp-load}"
N=100000
RUNS=3
CLIENTS=50
KEYSPACE=100000
TESTS="tx evalsha hincrby zincrby"
PIPELINES="1 16"
REDIS_PORT=6481
TALLY_PORT=6482

usage() {
  cat <<EOF
Usage: tools/bench-redis-apps.sh [-n N] [-r RUNS] [-c CLIENTS] [-t "tx evalsha hincrby zincrby"] [--pipelines "1 16"]

Runs MULTI/INCR/EXPIRE/EXEC, EVALSHA of the compare-and-delete script,
HINCRBY and ZINCRBY against a redis-server and a tallyd it starts (ports
$REDIS_PORT and $TALLY_PORT, temp dirs), and prints median rates and the ratio.
Needs a built tree (cmake --build --preset release): tallyd and tally-resp-load.
  -n N          units (or requests) per run (default $N)
  -r RUNS       runs per server and cell, median reported (default $RUNS)
  -c CLIENTS    connections (default $CLIENTS)
  -t TESTS      which tests, space separated (default "$TESTS")
  --pipelines   depths, space separated (default "$PIPELINES")
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="$2"; shift 2 ;;
    -r) RUNS="$2"; shift 2 ;;
    -c) CLIENTS="$2"; shift 2 ;;
    -t) TESTS="$2"; shift 2 ;;
    --pipelines) PIPELINES="${2//,/ }"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-redis-apps: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -x "$TALLYD" ] || { echo "bench-redis-apps: no tallyd at $TALLYD (build first)" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "bench-redis-apps: no tally-resp-load at $LOAD (build first)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/bench-redis-apps.XXXXXX)"
REDIS_PID=""
TALLY_PID=""
cleanup() {
  for pid in $REDIS_PID $TALLY_PID; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/redis" "$WORK/tally"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly yes \
  --appendfsync everysec --loglevel warning >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
"$TALLYD" --data-dir "$WORK/tally" --port "$TALLY_PORT" --http-port 0 --durability process \
  >"$WORK/tally.log" 2>&1 &
TALLY_PID=$!
for port in "$REDIS_PORT" "$TALLY_PORT"; do
  for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
done

RELEASE='if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end'
SHA="$(redis-cli -p "$REDIS_PORT" SCRIPT LOAD "$RELEASE")"
[ "$(redis-cli -p "$TALLY_PORT" SCRIPT LOAD "$RELEASE")" = "$SHA" ] || { echo "bench-redis-apps: SCRIPT LOAD differs" >&2; exit 1; }

# rate PORT TEST P: one run's rate (units or requests per second).
rate() {
  local port="$1" test="$2" p="$3"
  case "$test" in
    tx)
      "$LOAD" -p "$port" -c "$CLIENTS" -n "$N" -P "$p" -r "$KEYSPACE" --csv \
        -s MULTI -s 'INCR c:__rand_int__' -s 'EXPIRE c:__rand_int__ 3600' -s EXEC | cut -d, -f1 ;;
    evalsha)
      "$LOAD" -p "$port" -c "$CLIENTS" -n "$N" -P "$p" -r "$KEYSPACE" --csv \
        -s "EVALSHA $SHA 1 lock:__rand_int__ owner" | cut -d, -f1 ;;
    hincrby)
      redis-benchmark -p "$port" -c "$CLIENTS" -n "$N" -P "$p" -r "$KEYSPACE" --csv \
        HINCRBY page:__rand_int__ views 1 | tail -1 | cut -d, -f2 | tr -d '"' ;;
    zincrby)
      redis-benchmark -p "$port" -c "$CLIENTS" -n "$N" -P "$p" -r "$KEYSPACE" --csv \
        ZINCRBY board 1 member:__rand_int__ | tail -1 | cut -d, -f2 | tr -d '"' ;;
    *) echo "bench-redis-apps: unknown test '$test'" >&2; exit 2 ;;
  esac
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "| test | -P | redis-server /s | tallyd /s | tally/redis |"
echo "|---|---|---|---|---|"
for test in $TESTS; do
  for p in $PIPELINES; do
    : >"$WORK/r" && : >"$WORK/t"
    for run in $(seq "$RUNS"); do
      if [ $((run % 2)) = 1 ]; then
        rate "$REDIS_PORT" "$test" "$p" >>"$WORK/r"; rate "$TALLY_PORT" "$test" "$p" >>"$WORK/t"
      else
        rate "$TALLY_PORT" "$test" "$p" >>"$WORK/t"; rate "$REDIS_PORT" "$test" "$p" >>"$WORK/r"
      fi
    done
    r="$(median <"$WORK/r")"; t="$(median <"$WORK/t")"
    echo "| $test | $p | ${r%.*} | ${t%.*} | $(awk -v a="$t" -v b="$r" 'BEGIN {printf "%.2fx", a / b}') |"
  done
done
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(redis-server --version | cut -d' ' -f3)"
