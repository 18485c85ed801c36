#!/usr/bin/env bash
# bench-dashboard.sh — how fast the dashboard's API calls answer on real data
# (the "Dashboard" section of docs/benchmarks.md).
#
# Starts tallyd on 127.0.0.1 (temp data dir, free port), writes N owners with
# one counter each through one `redis-cli --pipe` on the unix socket
#   CTR.INCRBY user:<i, 7 digits> downloads <1 + i mod 1000>   for i in 0..N-1
#   CTR.INCRBY user:<i> views 1                                 for every 10th i
# (each write fills 7 cells: the total and the current hour, day, week, month,
# quarter and year), waits for compaction, then times the calls the
# dashboard's pages make with curl -w %{time_total}: the median of --runs runs
# each, first with the data just written, then again after a restart (read
# from RocksDB, nothing in memory). Everything it started is stopped, and its
# temp dir removed, on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
OWNERS=1000000
RUNS=5
RESTART=yes
MAX_TIME=120
TALLYD="${TALLYD:-$REPO_DIR/build/release/daemon/tallyd}"
HOST=127.0.0.1

usage() {
  cat <<USAGE
Usage: tools/bench-dashboard.sh [options]

Times the dashboard's API calls (the counters table, top owners) over many
owners and cells, and prints a table of medians (milliseconds).

Options:
  --owners N      owners to write, one counter each (default $OWNERS; 7 cells each)
  --runs N        timed runs per call; the median is shown (default $RUNS)
  --no-restart    skip the second round (after a restart)
  --max-time S    give up on a call after S seconds and show "> S s" (default $MAX_TIME)
  --tallyd PATH   the tallyd binary (default \$TALLYD or build/release/daemon/tallyd)
  -h, --help      this help

Needs redis-cli (redis-tools) and curl.
USAGE
}

die() { echo "bench-dashboard: $*" >&2; exit 2; }
say() { echo "bench-dashboard: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --owners) OWNERS="${2:?--owners needs a number}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
    --no-restart) RESTART=no; shift ;;
    --max-time) MAX_TIME="${2:?--max-time needs seconds}"; shift 2 ;;
    --tallyd) TALLYD="${2:?--tallyd needs a path}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
[[ "$OWNERS" =~ ^[0-9]+$ && "$OWNERS" -gt 0 ]] || die "--owners must be a positive number"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -gt 0 ]] || die "--runs must be a positive number"
[ -x "$TALLYD" ] || die "no tallyd at $TALLYD (build it: cmake --preset release && cmake --build --preset release -j2 --target tallyd)"
command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
command -v curl >/dev/null || die "curl not found (apt-get install curl)"

WORK="$(mktemp -d /tmp/tally-bench-dashboard.XXXXXX)"
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

SOCK="$WORK/tally.sock"
HTTP_PORT=""
start_tallyd() {
  local tries=0
  while :; do
    HTTP_PORT="${HTTP_PORT:-$((20000 + RANDOM % 30000))}"
    "$TALLYD" --data-dir "$WORK/data" --port 0 --unix-socket "$SOCK" --http-bind "$HOST" \
      --http-port "$HTTP_PORT" --log-level warn >>"$WORK/tallyd.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 600); do
      if curl -sf "http://$HOST:$HTTP_PORT/ready" >/dev/null 2>&1; then return 0; fi
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$PID" 2>/dev/null && kill -TERM "$PID" && wait "$PID" 2>/dev/null
    tries=$((tries + 1))
    [ "$tries" -lt 5 ] || { tail -5 "$WORK/tallyd.log" >&2; die "tallyd did not start"; }
    HTTP_PORT=""
  done
}
stop_tallyd() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

start_tallyd
say "writing $OWNERS owners ($((OWNERS * 7 + (OWNERS + 9) / 10 * 7)) cells)"
started=$(date +%s.%N)
awk -v n="$OWNERS" 'BEGIN {
  for (i = 0; i < n; i++) {
    o = sprintf("user:%07d", i); v = 1 + i % 1000
    printf "*4\r\n$10\r\nCTR.INCRBY\r\n$%d\r\n%s\r\n$9\r\ndownloads\r\n$%d\r\n%d\r\n", length(o), o, length(v ""), v
    if (i % 10 == 0) printf "*4\r\n$10\r\nCTR.INCRBY\r\n$%d\r\n%s\r\n$5\r\nviews\r\n$1\r\n1\r\n", length(o), o
  } }' | redis-cli -s "$SOCK" --pipe >"$WORK/pipe.out" 2>&1 || { cat "$WORK/pipe.out" >&2; die "redis-cli --pipe failed"; }
grep -q "errors: 0," "$WORK/pipe.out" || { cat "$WORK/pipe.out" >&2; die "some writes failed"; }
say "written in $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s; waiting for compaction"
for _ in $(seq 1 600); do
  pending="$(curl -s "http://$HOST:$HTTP_PORT/v1/stats" | sed -n 's/.*"uncompacted_entries":\([0-9]*\).*/\1/p')"
  [ "$pending" = 0 ] && break
  sleep 1
done

BASE="http://$HOST:$HTTP_PORT"
WEEK_AGO="$(date -u -d '6 days ago' +%F)"
MIDDLE="$(printf 'user:%07d' $((OWNERS / 2)))"
# name|path — the calls the dashboard's pages make.
CALLS=(
  "counters: first page, type + key + day (50 owners)|/v1/counters?type=user&key=downloads&interval=day&limit=50"
  "counters: first page, no filter (50 owners)|/v1/counters?limit=50"
  "counters: a page from the middle (prefix)|/v1/counters?prefix=${MIDDLE:0:10}&key=downloads&limit=50"
  "counters: key held by 1 owner in 10|/v1/counters?key=views&limit=50"
  "counters: every cell of 50 owners (interval=all)|/v1/counters?interval=all&limit=50"
  "top: downloads, today (25 owners)|/v1/top?key=downloads&interval=day&limit=25"
  "top: downloads, month, ranks 500,001-500,025|/v1/top?key=downloads&interval=month&offset=500000&limit=25"
  "top: downloads, the last 7 days (a range)|/v1/top?key=downloads&interval=day&from=$WEEK_AGO&to=current&limit=25"
  "top: downloads, total, prefix|/v1/top?key=downloads&interval=total&prefix=${MIDDLE:0:9}&limit=25"
  "stats (overview, every 2 s)|/v1/stats"
  "the page itself (index.html)|/"
)

time_call() {  # prints the median time_total in ms of RUNS runs of one call
  local path="$1" times=()
  for _ in $(seq 1 "$RUNS"); do
    local code_time
    code_time="$(curl -s -m "$MAX_TIME" -o /dev/null -w '%{http_code} %{time_total}' "$BASE$path" || true)"
    if [ "${code_time%% *}" = 000 ]; then
      # Still computing: the daemon finishes the call anyway (and its one HTTP
      # thread answers nothing else meanwhile), so the round stops here.
      say "GET $path: no answer within $MAX_TIME s"; echo "> $MAX_TIME s"; return 1
    fi
    if [ "${code_time%% *}" != 200 ]; then say "GET $path answered ${code_time%% *}"; echo "HTTP ${code_time%% *}"; return; fi
    times+=("$(awk -v t="${code_time#* }" 'BEGIN { printf "%.3f", t * 1000 }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] }'
}

round() {
  local label="$1"
  for call in "${CALLS[@]}"; do
    local name="${call%%|*}" path="${call#*|}"
    local ms status=0
    ms="$(time_call "$path")" || status=1
    printf '| %s | %s | %s |\n' "$name" "$label" "$ms"
    [ "$status" = 0 ] || { say "skipping the rest of the round ($label)"; return; }
  done
}

echo
echo "tallyd $("$TALLYD" --version 2>/dev/null | head -1), $OWNERS owners, median of $RUNS runs (ms, curl time_total)"
echo
echo "| call | data | ms |"
echo "|---|---|---|"
round "just written"
if [ "$RESTART" = yes ]; then
  stop_tallyd
  start_tallyd
  round "after a restart"
fi
