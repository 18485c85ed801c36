#!/usr/bin/env bash
# bench-http.sh — wrk load run against tallyd's HTTP/JSON API (docs/http.md):
# GET /v1/owners/{o}/counters/{k}, POST /v1/owners/{o}/counters/{k}/increment
# and POST /v1/events (batches of metering events).
#
# Starts its own tallyd on a temp data dir (private ports), seeds counters,
# runs each scenario R times with wrk and prints medians (requests/s, p50,
# p99) as a markdown table. Installs wrk (Debian package) when missing.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

RUNS=3
DURATION=10
CONNECTIONS=50
THREADS=1
OWNERS=10000
BATCH=100
SCENARIOS="get,increment,events"
HTTP_PORT=8480
RESP_PORT=6580
DURABILITY=process
TALLY_ARGS=""
OUT=""
TALLYD="${TALLYD:-$REPO_DIR/build/release/daemon/tallyd}"

usage() {
  cat <<USAGE
Usage: tools/bench-http.sh [options]

Runs wrk against a fresh tallyd:
  get        GET  /v1/owners/user:<i>/counters/downloads                   (i random in 0..owners-1)
  increment  POST /v1/owners/user:<i>/counters/downloads/increment {"by":1}
  events     POST /v1/events, a JSON array of B events, each
             {"owner":"user:<i>","type":"chat","measures":{"tokens":1500,"messages":1,"bytes":2048}}
             (chat.tokens and chat.messages priced: five counters per event)
each for D seconds, R times; reports the medians (events/s for the batches).

Options:
  -r, --runs R          runs per scenario (default $RUNS)
  -d, --duration S      seconds per run (default $DURATION)
  -c N                  wrk connections (default $CONNECTIONS)
  -t N                  wrk threads (default $THREADS; the machine has 2 cores)
  --owners N            distinct owners (default $OWNERS)
  --batch B             events per POST /v1/events (default $BATCH)
  --scenarios LIST      which to run, comma separated (default $SCENARIOS)
  --fsync               tallyd --durability fsync
  --tally-args STR      extra tallyd flags, e.g. "--http-threads 2"
  --out FILE            also write the table (with machine and versions) as markdown
  -h, --help            this help

Environment:
  TALLYD                tallyd binary (default: build/release/daemon/tallyd)
USAGE
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -r|--runs) RUNS="$2"; shift 2 ;;
    -d|--duration) DURATION="$2"; shift 2 ;;
    -c) CONNECTIONS="$2"; shift 2 ;;
    -t) THREADS="$2"; shift 2 ;;
    --owners) OWNERS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --fsync) DURABILITY=fsync; shift ;;
    --tally-args) TALLY_ARGS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-http.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian package)" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get install -y wrk >/dev/null
fi
if [[ ! -x "$TALLYD" ]]; then
  echo "bench-http.sh: no tallyd at $TALLYD (build: cmake --preset release && cmake --build --preset release)" >&2
  exit 1
fi

WORK="$(mktemp -d /tmp/tally-bench-http.XXXXXX)"
TALLY_PID=""
cleanup() {
  if [[ -n "$TALLY_PID" ]]; then kill "$TALLY_PID" 2>/dev/null || true; wait "$TALLY_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# wrk scripts: a random owner per request; done() prints p50 and p99 in ms.
DONE='done = function(summary, latency, requests)
  io.write(string.format("LATENCY %f %f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end'
cat > "$WORK/get.lua" <<LUA
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/owners/user:" .. math.random(0, $OWNERS - 1) .. "/counters/downloads")
end
$DONE
LUA
cat > "$WORK/increment.lua" <<LUA
math.randomseed(os.time() + 1)
wrk.method = "POST"
wrk.body = '{"by":1}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/v1/owners/user:" .. math.random(0, $OWNERS - 1) .. "/counters/downloads/increment")
end
$DONE
LUA

# A batch: B events of random owners, built once per connection (wrk's
# request() runs per request, so a fresh body each time would measure Lua).
cat > "$WORK/events.lua" <<LUA
math.randomseed(os.time() + 2)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {}
for b = 1, 16 do
  local events = {}
  for i = 1, $BATCH do
    events[i] = string.format('{"owner":"user:%d","type":"chat","measures":{"tokens":1500,"messages":1,"bytes":2048}}',
                              math.random(0, $OWNERS - 1))
  end
  bodies[b] = "[" .. table.concat(events, ",") .. "]"
end
request = function()
  return wrk.format(nil, "/v1/events", nil, bodies[math.random(1, 16)])
end
$DONE
LUA

echo "== starting tallyd ($DURABILITY) on http://127.0.0.1:$HTTP_PORT" >&2
# shellcheck disable=SC2086
"$TALLYD" --data-dir "$WORK/data" --port "$RESP_PORT" --unix-socket none --http-port "$HTTP_PORT" \
  --durability "$DURABILITY" --log-level warn $TALLY_ARGS >"$WORK/tallyd.log" 2>&1 &
TALLY_PID=$!
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null 2>&1 && break
  sleep 0.05
done
if ! curl -fs "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null; then
  echo "bench-http.sh: tallyd did not become ready" >&2
  cat "$WORK/tallyd.log" >&2
  exit 1
fi

echo "== seeding $OWNERS counters" >&2
for i in $(seq 0 $((OWNERS - 1))); do echo "CTR.INCRBY user:$i downloads 1"; done |
  redis-cli -p "$RESP_PORT" >/dev/null
redis-cli -p "$RESP_PORT" PRICE.SET chat.tokens 0.000002 >/dev/null
redis-cli -p "$RESP_PORT" PRICE.SET chat.messages 0.001 >/dev/null

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

ROWS=""
for scenario in ${SCENARIOS//,/ }; do
  rps=(); p50=(); p99=()
  for run in $(seq 1 "$RUNS"); do
    out="$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" -s "$WORK/$scenario.lua" "http://127.0.0.1:$HTTP_PORT")"
    if grep -q "Non-2xx" <<<"$out"; then
      echo "$out" >&2
      echo "bench-http.sh: $scenario got non-2xx replies" >&2
      exit 1
    fi
    r="$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
    read -r l50 l99 < <(awk '/^LATENCY/ { print $2, $3 }' <<<"$out")
    echo "   $scenario run $run: $r req/s, p50 $l50 ms, p99 $l99 ms" >&2
    rps+=("$r"); p50+=("$l50"); p99+=("$l99")
  done
  m_rps="$(printf '%s\n' "${rps[@]}" | median)"
  m_p50="$(printf '%s\n' "${p50[@]}" | median)"
  m_p99="$(printf '%s\n' "${p99[@]}" | median)"
  per_request=1
  [[ "$scenario" = events ]] && per_request="$BATCH"
  ROWS+="$(printf '| %s | %.0f | %.0f | %.3f | %.3f |' "$scenario" "$m_rps" "$(awk -v r="$m_rps" -v b="$per_request" 'BEGIN { print r * b }')" \
    "$m_p50" "$m_p99")"$'\n'
done

SAMPLE="$(curl -fs "http://127.0.0.1:$HTTP_PORT/v1/owners/user:0/counters/downloads" || true)"
TABLE="wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}') -t $THREADS -c $CONNECTIONS -d ${DURATION}s, $OWNERS owners, $BATCH events per batch, durability=$DURABILITY ${TALLY_ARGS}
medians of $RUNS runs; $(nproc) cores; load average after: $(cut -d' ' -f1-3 /proc/loadavg)

| scenario | requests/s | events/s | p50 ms | p99 ms |
|---|---|---|---|---|
${ROWS}"
echo "$TABLE"
if [[ -n "$OUT" ]]; then
  { echo "## HTTP load run ($(date -u +%Y-%m-%d))"; echo; echo "$TABLE"; } >"$OUT"
fi
echo "(a counter after the run: $SAMPLE)" >&2
