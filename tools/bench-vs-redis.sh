#!/usr/bin/env bash
# bench-vs-redis.sh — redis-benchmark against redis-server and tallyd, side by
# side on the same machine in the same run (the speed targets: docs/benchmarks.md).
#
# Starts its own redis-server and tallyd on 127.0.0.1 (temp dirs, private
# ports and unix sockets), runs every redis-benchmark invocation R times,
# alternating between the two servers, and prints medians as a markdown table.
# Everything it started is stopped, and its temp dir removed, on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

N=100000
RUNS=3
CLIENTS=50
KEYSPACE=100000
TESTS="ping,set,get,incr"
PIPELINES="1 16"
TRANSPORTS="tcp unix"
REDIS_PORT=6479
TALLY_PORT=6480
MODES="process"
OUT=""
QUICK=0
RUNS_SET=0
N_SET=0
TALLYD="${TALLYD:-$REPO_DIR/build/release/daemon/tallyd}"
TALLY_ARGS=""
REDIS_ARGS=""
HOST=127.0.0.1  # never anything else

usage() {
  cat <<EOF
Usage: tools/bench-vs-redis.sh [options]

Runs redis-benchmark against redis-server and tallyd side by side (same machine,
same run, same command line) and prints a table of median requests/s, the
ratio tally/redis, and median p50/p99 latencies (ms).

Each comparison starts a fresh pair of servers on $HOST:
  process   redis-server --appendonly yes --appendfsync everysec --save ''
            vs tallyd --durability process                          (default)
  fsync     redis-server --appendonly yes --appendfsync always --save ''
            vs tallyd --durability fsync                            (--fsync)

For every test, pipeline depth (-P 1, -P 16) and transport (TCP, unix socket):
  redis-benchmark -c $CLIENTS -n N -r $KEYSPACE -P <p> -t <test> --csv [-h $HOST -p <port> | -s <sock>]
is run R times against each server, alternating which server goes first.

Options:
  -n N              requests per redis-benchmark invocation (default $N)
  -r, --runs R      invocations per server and cell; the median is reported (default $RUNS)
  --quick           smoke test: -n 5000 and 1 run (unless -n / -r are given too)
  --fsync           also run the fsync comparison (appendfsync always vs durability=fsync)
  --fsync-only      run only the fsync comparison
  -t, --tests LIST  redis-benchmark tests, comma-separated (default $TESTS); also
                    incrby      INCRBY counter:__rand_int__ 1 on both
                    ctr_incrby  redis INCRBY counter:__rand_int__ 1 vs tally CTR.INCRBY user:__rand_int__ downloads 1
                    ctr_get     redis GET key:__rand_int__ vs tally CTR.GET user:__rand_int__ downloads
                    (run ctr_get after set and ctr_incrby, so both read keys that exist)
                    quota_consume  redis INCRBY counter:__rand_int__ 1 vs tally QUOTA.CONSUME
                                team:__rand_int__ api_calls 1 (every owner on a plan with a
                                monthly limit of 10^12, assigned before the runs)
                    uniq_add    redis PFADD hll ele:__rand_int__ vs tally UNIQ.ADD org:acme
                                customers ele:__rand_int__ (one sketch; run with a large --keyspace)
                    meter_record  redis INCRBY counter:__rand_int__ 1 vs tally METER.RECORD
                                user:__rand_int__ chat tokens 1500 messages 1 bytes 2048 (three
                                measures, two of them priced: five counters per event)
  -c N              parallel clients (default $CLIENTS)
  --keyspace N      redis-benchmark -r, random keys (default $KEYSPACE)
  --pipelines LIST  pipeline depths, space or comma separated (default "$PIPELINES")
  --transports LIST tcp, unix or both (default "$TRANSPORTS")
  --redis-port P    port for redis-server (default $REDIS_PORT)
  --tally-port P    port for tallyd (default $TALLY_PORT)
  --tally-args STR  extra tallyd flags, e.g. "--io-threads 1"
  --redis-args STR  extra redis-server flags
  --out FILE        also write the results (with machine and versions) as markdown
  -h, --help        this help

Environment:
  TALLYD            tallyd binary (default: build/release/daemon/tallyd in the repo)

Figures from a 2-core machine where redis-benchmark itself takes a core are
sensitive to anything else running: check the load average in the report.
EOF
}

die() { echo "bench-vs-redis: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    -n) N="${2:?-n needs a value}"; N_SET=1; shift 2 ;;
    -r|--runs) RUNS="${2:?--runs needs a value}"; RUNS_SET=1; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --fsync) MODES="process fsync"; shift ;;
    --fsync-only) MODES="fsync"; shift ;;
    -t|--tests) TESTS="${2:?--tests needs a value}"; shift 2 ;;
    -c) CLIENTS="${2:?-c needs a value}"; shift 2 ;;
    --keyspace) KEYSPACE="${2:?--keyspace needs a value}"; shift 2 ;;
    --pipelines) PIPELINES="${2//,/ }"; shift 2 ;;
    --transports) TRANSPORTS="${2//,/ }"; shift 2 ;;
    --redis-port) REDIS_PORT="${2:?}"; shift 2 ;;
    --tally-port) TALLY_PORT="${2:?}"; shift 2 ;;
    --tally-args) TALLY_ARGS="${2?}"; shift 2 ;;
    --redis-args) REDIS_ARGS="${2?}"; shift 2 ;;
    --out) OUT="${2:?--out needs a file}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-vs-redis: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [ "$QUICK" = 1 ]; then
  [ "$N_SET" = 1 ] || N=5000
  [ "$RUNS_SET" = 1 ] || RUNS=1
fi
for v in N RUNS CLIENTS KEYSPACE REDIS_PORT TALLY_PORT; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done
for t in $TRANSPORTS; do [[ "$t" == tcp || "$t" == unix ]] || die "unknown transport '$t'"; done
for p in $PIPELINES; do [[ "$p" =~ ^[1-9][0-9]*$ ]] || die "bad pipeline depth '$p'"; done

command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
command -v redis-benchmark >/dev/null || die "redis-benchmark not found (apt-get install redis-tools)"
command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
[ -x "$TALLYD" ] || die "tallyd not found at $TALLYD (build it, or set TALLYD=/path/to/tallyd)"

port_in_use() {
  # ss prints a header line; any further line means something listens there.
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
  return 1
}
port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is in use (choose another with --redis-port)"
port_in_use "$TALLY_PORT" && die "port $TALLY_PORT is in use (choose another with --tally-port)"

WORK="$(mktemp -d /tmp/bench-vs-redis.XXXXXX)"
REDIS_PID=""
TALLY_PID=""

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL. Only our own children.
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
stop_servers() {
  stop_pid "$REDIS_PID"; REDIS_PID=""
  stop_pid "$TALLY_PID"; TALLY_PID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_servers
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_ready() {  # wait_ready NAME PORT PID LOG
  for _ in $(seq 200); do
    kill -0 "$3" 2>/dev/null || { cat "$4" >&2; die "$1 exited during start-up"; }
    [ "$(redis-cli -h "$HOST" -p "$2" ping 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.05
  done
  cat "$4" >&2
  die "$1 did not answer PING on $HOST:$2 within 10 s"
}

start_servers() {  # start_servers MODE
  local mode="$1" dir="$WORK/$1"
  mkdir -p "$dir/redis" "$dir/tally"
  local fsync_policy=everysec durability=process
  if [ "$mode" = fsync ]; then fsync_policy=always; durability=fsync; fi
  REDIS_SOCK="$dir/redis.sock"
  TALLY_SOCK="$dir/tally.sock"
  # shellcheck disable=SC2086  # REDIS_ARGS / TALLY_ARGS are word lists on purpose
  redis-server --bind "$HOST" --port "$REDIS_PORT" --unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
    --dir "$dir/redis" --appendonly yes --appendfsync "$fsync_policy" --save '' \
    --daemonize no --logfile "$dir/redis.log" $REDIS_ARGS >"$dir/redis.out" 2>&1 &
  REDIS_PID=$!
  # An empty config file, so a system-wide /etc/tally/tally.toml does not apply.
  : > "$dir/tally.toml"
  # shellcheck disable=SC2086
  "$TALLYD" --config "$dir/tally.toml" --data-dir "$dir/tally" --bind "$HOST" --port "$TALLY_PORT" \
    --unix-socket "$TALLY_SOCK" --durability "$durability" --log-level warn $TALLY_ARGS \
    >"$dir/tallyd.log" 2>&1 &
  TALLY_PID=$!
  wait_ready redis-server "$REDIS_PORT" "$REDIS_PID" "$dir/redis.log"
  wait_ready tallyd "$TALLY_PORT" "$TALLY_PID" "$dir/tallyd.log"
  REDIS_LABEL="redis appendfsync $fsync_policy"
  TALLY_LABEL="tally durability=$durability"
}

# bench SERVER(redis|tally) TEST PIPELINE TRANSPORT -> CSV rows (without header) on stdout
bench() {
  local server="$1" test="$2" pipeline="$3" transport="$4" target
  if [ "$transport" = unix ]; then
    if [ "$server" = redis ]; then target=(-s "$REDIS_SOCK"); else target=(-s "$TALLY_SOCK"); fi
  else
    if [ "$server" = redis ]; then target=(-h "$HOST" -p "$REDIS_PORT"); else target=(-h "$HOST" -p "$TALLY_PORT"); fi
  fi
  local pid
  if [ "$server" = redis ]; then pid="$REDIS_PID"; else pid="$TALLY_PID"; fi
  kill -0 "$pid" 2>/dev/null || die "$server died (log in $WORK)"
  # Besides redis-benchmark's own tests, named comparisons run a command
  # line each: tally's counter command against the Redis command it
  # replaces (the targets, e.g. CTR.INCRBY >= 0.8x INCRBY, are in
  # docs/benchmarks.md).
  local what=(-t "$test")
  case "$test" in
    incrby) what=(INCRBY counter:__rand_int__ 1) ;;
    ctr_incrby)
      if [ "$server" = redis ]; then what=(INCRBY counter:__rand_int__ 1); else what=(CTR.INCRBY user:__rand_int__ downloads 1); fi ;;
    ctr_get)
      if [ "$server" = redis ]; then what=(GET key:__rand_int__); else what=(CTR.GET user:__rand_int__ downloads); fi ;;
    quota_consume)
      if [ "$server" = redis ]; then what=(INCRBY counter:__rand_int__ 1); else what=(QUOTA.CONSUME team:__rand_int__ api_calls 1); fi ;;
    uniq_add)
      if [ "$server" = redis ]; then what=(PFADD hll ele:__rand_int__); else what=(UNIQ.ADD org:acme customers ele:__rand_int__); fi ;;
    meter_record)
      if [ "$server" = redis ]; then what=(INCRBY counter:__rand_int__ 1); else
        what=(METER.RECORD user:__rand_int__ chat tokens 1500 messages 1 bytes 2048); fi ;;
  esac
  { redis-benchmark "${target[@]}" -c "$CLIENTS" -n "$N" -r "$KEYSPACE" -P "$pipeline" --csv "${what[@]}" \
      2>>"$WORK/benchmark.err" || echo "redis-benchmark exited with $?" >>"$WORK/benchmark.err"; } |
    tr -d '"\r' | awk -F, -v OFS=, -v name="$test" '$1 != "test" && NF >= 7 {
      if (name == "incrby" || name == "ctr_incrby" || name == "ctr_get" || name == "quota_consume" || name == "uniq_add" || name == "meter_record") { $1 = toupper(name) }
      print }'
}

median() {  # numbers on stdin -> median (mean of the middle two for an even count); "-" if none
  # redis-benchmark prints "inf" rps for a run shorter than its 1 ms clock: not a number, skipped.
  { grep -E '^[0-9]+([.][0-9]+)?$' || true; } | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m }'
}

RESULTS="$WORK/results.tsv"  # mode test pipeline transport server run rps p50 p99
: > "$RESULTS"

# quota_consume needs a plan and every owner redis-benchmark's __rand_int__
# can name (team:000000000000 ... team:<KEYSPACE-1>, 12 digits) on it.
seed_quota_owners() {
  redis-cli -h "$HOST" -p "$TALLY_PORT" PLAN.SET bench \
    '{"features": {"api_calls": {"limit": 1000000000000, "period": "month"}}}' >/dev/null
  awk -v n="$KEYSPACE" 'BEGIN { for (i = 0; i < n; i++) { o = sprintf("team:%012d", i)
      printf "*3\r\n$11\r\nPLAN.ASSIGN\r\n$%d\r\n%s\r\n$5\r\nbench\r\n", length(o), o } }' |
    redis-cli -h "$HOST" -p "$TALLY_PORT" --pipe >/dev/null
}

# meter_record prices two of its three measures, so each event also adds
# to the cost counters.
seed_prices() {
  redis-cli -h "$HOST" -p "$TALLY_PORT" PRICE.SET chat.tokens 0.000002 >/dev/null
  redis-cli -h "$HOST" -p "$TALLY_PORT" PRICE.SET chat.messages 0.001 >/dev/null
}

run_mode() {
  local mode="$1" test pipeline transport run order server
  start_servers "$mode"
  case ",$TESTS," in *,quota_consume,*) seed_quota_owners ;; esac
  case ",$TESTS," in *,meter_record,*) seed_prices ;; esac
  echo "== $REDIS_LABEL vs $TALLY_LABEL: -c $CLIENTS -n $N -r $KEYSPACE, $RUNS run(s) each" >&2
  for test in ${TESTS//,/ }; do
    for pipeline in $PIPELINES; do
      for transport in $TRANSPORTS; do
        for run in $(seq "$RUNS"); do
          # Alternate who goes first, so warm-up and drift hit both alike.
          if [ $((run % 2)) = 1 ]; then order="redis tally"; else order="tally redis"; fi
          for server in $order; do
            local rows
            rows="$(bench "$server" "$test" "$pipeline" "$transport")"
            if [ -z "$rows" ]; then
              echo "   $test -P $pipeline $transport $server run $run: no result (see below)" >&2
              tail -n 5 "$WORK/benchmark.err" >&2 || true
              continue
            fi
            while IFS=, read -r name rps _avg _min p50 _p95 p99 _max; do
              printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$name" "$pipeline" "$transport" \
                "$server" "$run" "$rps" "$p50" "$p99" >> "$RESULTS"
              printf '   %-12s -P %-3s %-4s %-5s run %s: %12s rps  p50 %s  p99 %s ms\n' \
                "$name" "$pipeline" "$transport" "$server" "$run" "$rps" "$p50" "$p99" >&2
            done <<< "$rows"
          done
        done
      done
    done
  done
  stop_servers
}

for mode in $MODES; do run_mode "$mode"; done

# ---- report -----------------------------------------------------------------
stat_of() {  # stat_of MODE TEST PIPELINE TRANSPORT SERVER COLUMN(7=rps 8=p50 9=p99)
  awk -F'\t' -v m="$1" -v t="$2" -v p="$3" -v x="$4" -v s="$5" -v c="$6" \
    '$1 == m && $2 == t && $3 == p && $4 == x && $5 == s { print $c }' "$RESULTS" | median
}
fmt_rps() { [ "$1" = "-" ] && { echo "-"; return; }; printf '%.0f' "$1"; }
fmt_ms() { [ "$1" = "-" ] && { echo "-"; return; }; printf '%.3f' "$1"; }

table() {
  local mode label_r label_t
  for mode in $MODES; do
    if [ "$mode" = fsync ]; then
      label_r="redis (appendfsync always)"; label_t="tally (durability=fsync)"
    else
      label_r="redis (appendfsync everysec)"; label_t="tally (durability=process)"
    fi
    echo "### $label_t vs $label_r"
    echo
    echo "| test | pipeline | transport | redis rps | tally rps | tally/redis | redis p50 ms | tally p50 ms | redis p99 ms | tally p99 ms |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    # Tests in the order they ran (PING gives PING_INLINE and PING_MBULK).
    local name pipeline transport
    # shellcheck disable=SC2013  # test names are single words
    for name in $(awk -F'\t' -v m="$mode" '$1 == m && !seen[$2]++ { print $2 }' "$RESULTS"); do
      for pipeline in $PIPELINES; do
        for transport in $TRANSPORTS; do
          local r t rp50 tp50 rp99 tp99 ratio
          r="$(stat_of "$mode" "$name" "$pipeline" "$transport" redis 7)"
          t="$(stat_of "$mode" "$name" "$pipeline" "$transport" tally 7)"
          rp50="$(stat_of "$mode" "$name" "$pipeline" "$transport" redis 8)"
          tp50="$(stat_of "$mode" "$name" "$pipeline" "$transport" tally 8)"
          rp99="$(stat_of "$mode" "$name" "$pipeline" "$transport" redis 9)"
          tp99="$(stat_of "$mode" "$name" "$pipeline" "$transport" tally 9)"
          if [ "$r" != "-" ] && [ "$t" != "-" ]; then
            ratio="$(awk -v a="$t" -v b="$r" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
          else
            ratio="-"
          fi
          echo "| $name | $pipeline | $transport | $(fmt_rps "$r") | $(fmt_rps "$t") | $ratio |" \
            "$(fmt_ms "$rp50") | $(fmt_ms "$tp50") | $(fmt_ms "$rp99") | $(fmt_ms "$tp99") |"
        done
      done
    done
    echo
  done
}

TABLE="$(table)"
echo
echo "$TABLE"
echo "medians of $RUNS run(s); redis-benchmark -c $CLIENTS -n $N -r $KEYSPACE; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "$OUT" ]; then
  {
    echo "# tally vs redis-server: redis-benchmark"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "- $(redis-server --version)"
    echo "- $(redis-benchmark --version 2>&1 | head -n1)"
    echo "- $("$TALLYD" --version) ($TALLYD${TALLY_ARGS:+ $TALLY_ARGS})"
    echo "- redis-benchmark -c $CLIENTS -n $N -r $KEYSPACE, P in {${PIPELINES// /, }}, medians of $RUNS run(s) per server, alternating"
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "$TABLE"
  } > "$OUT"
  echo "wrote $OUT" >&2
fi
