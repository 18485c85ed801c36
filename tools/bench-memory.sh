#!/usr/bin/env bash
# bench-memory.sh — resident memory of tallyd and redis-server holding many
# counters (the "Memory" section of docs/benchmarks.md).
#
# For each configuration it starts a fresh server on 127.0.0.1 (temp data dir,
# free ports), measures the RSS of the empty server, writes N counters through
# one `redis-cli --pipe` (one new owner per counter), samples VmRSS from
# /proc/<pid>/status every second during the ingest and while the server
# settles, and stops the server. Everything it started is stopped, and its temp
# dir removed, on exit; the results stay in the output dir.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

COUNTS="1000000"
OWNERS=0          # 0: one owner per counter
BUDGETS="default,64MiB"
SYSTEMS="tally,redis,redis-aof"
REPEATS=2
PASSES=1
SETTLE=30
MAX_WAIT=900
OUT_DIR=""
REPORT_DIR=""
TALLYD="${TALLYD:-$REPO_DIR/build/release/daemon/tallyd}"
HOST=127.0.0.1  # never anything else

usage() {
  cat <<EOF
Usage: tools/bench-memory.sh [options]

Measures the resident memory (VmRSS) of tallyd and of redis-server while N
counters are written and after they settle, and prints a table of medians.

Configurations (each run starts a fresh server on $HOST, temp dir, free port):
  tally-<budget>  tallyd [--memory-limit <budget>], one per --budgets entry;
                  writes  CTR.INCRBY owner:<i> views 1         for i in 0..N-1
  redis           redis-server --save '' --appendonly no
  redis-aof       redis-server --save '' --appendonly yes --appendfsync everysec
                  both write  INCRBY owner:<i>:views 1          for i in 0..N-1
With --owners M the N counters go to M owners instead: counter i is
  CTR.INCRBY owner:<i mod M> views<i div M> 1   (redis: INCRBY owner:<i mod M>:views<i div M> 1)

Each run: start, wait 2 s, read the empty server's RSS; send all N commands
through one redis-cli --pipe (the ingest; its wall time is the duration); then
wait until the server is idle (tallyd: no log entry left to compact; redis:
no AOF rewrite running) and SETTLE seconds more. VmRSS is sampled every second
from the start of the ingest to the end. Peak is the largest of the kernel's
VmHWM and the samples.
bytes/counter = (settled RSS - empty RSS) / N.

Options:
  -n, --counts LIST   counters per run, comma-separated (default $COUNTS)
  --owners M          spread the counters over M owners (default: one owner each)
  --budgets LIST      tallyd memory_limit values, comma-separated: "default" (no flag,
                      256 MiB) or a size in bytes or with KiB/MiB/GiB (default $BUDGETS)
  --systems LIST      tally, redis, redis-aof, comma-separated (default $SYSTEMS)
  -r, --repeats R     runs per configuration and count; medians are reported (default $REPEATS)
  --passes P          send the same commands P times, each pass followed by the wait
                      for idle: does memory keep growing as the counters are written
                      again? (default $PASSES; the ingest figures are the first pass's)
  --settle S          seconds to keep sampling once the server is idle (default $SETTLE)
  --max-wait S        most seconds to wait for the server to become idle (default $MAX_WAIT)
  -o, --out DIR       output dir (default: bench-memory-<UTC time> in the current dir)
  --report DIR        run nothing: print the summary of an earlier output dir again
  -h, --help          this help

Output (in DIR):
  samples.csv   config,count,run,seconds,rss_kib,phase,used_memory,rocksdb_cache_bytes,rocksdb_memtable_bytes
                (seconds from the start of the ingest; phase = ingest or settle; the last
                three from INFO memory, rocksdb_* empty for redis)
  passes.csv    one line per pass, once idle: RSS, used_memory, rocksdb_cache_bytes
  runs.csv      one line per run: empty, peak, end-of-ingest and settled RSS (KiB), ingest
                and settle seconds, and the server's own figures at the end
  summary.md    the medians table (also printed on stdout)
  <config>-<count>-<run>.info / .stats.json   INFO (and tallyd's /v1/stats) at the end
Progress goes to stderr.

Environment:
  TALLYD              tallyd binary (default: build/release/daemon/tallyd in the repo)

The machine should be otherwise idle: compaction and redis's AOF rewrite use CPU,
and a busy machine stretches the ingest and the time to settle.
EOF
}

die() { echo "bench-memory: $*" >&2; exit 1; }
say() { echo "bench-memory: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -n|--counts) COUNTS="${2:?$1 needs a value}"; shift 2 ;;
    --owners) OWNERS="${2:?--owners needs a value}"; shift 2 ;;
    --budgets) BUDGETS="${2:?--budgets needs a value}"; shift 2 ;;
    --systems) SYSTEMS="${2:?--systems needs a value}"; shift 2 ;;
    -r|--repeats) REPEATS="${2:?$1 needs a value}"; shift 2 ;;
    --passes) PASSES="${2:?--passes needs a value}"; shift 2 ;;
    --settle) SETTLE="${2:?--settle needs a value}"; shift 2 ;;
    --max-wait) MAX_WAIT="${2:?--max-wait needs a value}"; shift 2 ;;
    -o|--out) OUT_DIR="${2:?$1 needs a dir}"; shift 2 ;;
    --report) REPORT_DIR="${2:?--report needs a dir}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-memory: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# size_bytes TEXT -> bytes on stdout: 67108864, 64MiB, 64 MiB, 512KiB, 1GiB.
size_bytes() {
  local text="${1// /}" number unit
  [[ "$text" =~ ^([0-9]+)(B|KiB|MiB|GiB)?$ ]] || return 1
  number="${BASH_REMATCH[1]}" unit="${BASH_REMATCH[2]}"
  case "$unit" in
    ""|B) echo "$number" ;;
    KiB) echo $((number << 10)) ;;
    MiB) echo $((number << 20)) ;;
    GiB) echo $((number << 30)) ;;
  esac
}

# ---- running ----------------------------------------------------------------
WORK=""
SERVER_PID=""
SAMPLER_PID=""

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 30 s, then SIGKILL. Only our own children.
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$SAMPLER_PID"
  stop_pid "$SERVER_PID"
  rm -rf "$WORK"
  exit "$rc"
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
free_port() {  # free_port FROM -> the first port from FROM up that nothing listens on
  local port="$1"
  while port_in_use "$port"; do port=$((port + 1)); done
  echo "$port"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
info_field() {  # info_field FILE NAME -> value of NAME:value in an INFO reply
  tr -d '\r' < "$1" | awk -F: -v k="$2" '$1 == k { print $2; exit }'
}

wait_ready() {  # wait_ready NAME PORT PID LOG
  for _ in $(seq 600); do
    kill -0 "$3" 2>/dev/null || { tail -n 20 "$4" >&2; die "$1 exited during start-up"; }
    [ "$(redis-cli -h "$HOST" -p "$2" ping 2>/dev/null)" = "PONG" ] && return 0
    sleep 0.05
  done
  tail -n 20 "$4" >&2
  die "$1 did not answer PING on $HOST:$2 within 30 s"
}

# start_server CONFIG DIR: sets SERVER_PID, PORT, HTTP_PORT (tally only).
start_server() {
  local config="$1" dir="$2"
  mkdir -p "$dir/data"
  PORT="$(free_port 16400)"
  HTTP_PORT=""
  case "$config" in
    tally-*)
      local budget="${config#tally-}" flags=()
      [ "$budget" = default ] || flags=(--memory-limit "$(size_bytes "$budget")")
      HTTP_PORT="$(free_port $((PORT + 1)))"
      # An empty config file, so a system-wide /etc/tally/tally.toml does not apply.
      : > "$dir/tally.toml"
      "$TALLYD" --config "$dir/tally.toml" --data-dir "$dir/data" --bind "$HOST" --port "$PORT" \
        --http-bind "$HOST" --http-port "$HTTP_PORT" --unix-socket "" --log-level warn "${flags[@]}" \
        >"$dir/server.log" 2>&1 &
      SERVER_PID=$! ;;
    redis|redis-aof)
      local aof=(--appendonly no)
      [ "$config" = redis-aof ] && aof=(--appendonly yes --appendfsync everysec)
      redis-server --bind "$HOST" --port "$PORT" --dir "$dir/data" --save '' "${aof[@]}" \
        --daemonize no --logfile "$dir/server.log" >"$dir/server.out" 2>&1 &
      SERVER_PID=$! ;;
  esac
  wait_ready "$config" "$PORT" "$SERVER_PID" "$dir/server.log"
}

# The commands, as RESP, for COUNT counters (see --help for their shape).
commands() {  # commands CONFIG COUNT
  local redis=0
  case "$1" in redis*) redis=1 ;; esac
  awk -v n="$2" -v m="$OWNERS" -v redis="$redis" 'BEGIN {
    for (i = 0; i < n; i++) {
      if (m > 0) { o = "owner:" (i % m); k = "views" int(i / m) } else { o = "owner:" i; k = "views" }
      if (redis) { key = o ":" k
        printf "*3\r\n$6\r\nINCRBY\r\n$%d\r\n%s\r\n$1\r\n1\r\n", length(key), key }
      else printf "*4\r\n$10\r\nCTR.INCRBY\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$1\r\n1\r\n", length(o), o, length(k), k
    } }'
}

# sampler CONFIG COUNT RUN PID T0 PHASEFILE: one CSV line a second while PID lives.
sampler() {
  local config="$1" count="$2" run="$3" pid="$4" t0="$5" phasefile="$6" info="$WORK/sampler.info"
  local now phase rss seconds used cache memtable
  while kill -0 "$pid" 2>/dev/null; do
    now="$EPOCHREALTIME"
    phase="$(cat "$phasefile")"
    rss="$(rss_kib "$pid")"
    [ -n "$rss" ] || break
    used="" cache="" memtable=""
    if timeout 2 redis-cli -h "$HOST" -p "$PORT" info memory >"$info" 2>/dev/null; then
      used="$(info_field "$info" used_memory)"
      cache="$(info_field "$info" rocksdb_cache_bytes)"
      memtable="$(info_field "$info" rocksdb_memtable_bytes)"
    fi
    seconds="$(awk -v a="$now" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')"
    echo "$config,$count,$run,$seconds,$rss,$phase,$used,$cache,$memtable"
    # Sleep what is left of the second, so samples stay one second apart.
    sleep "$(awk -v a="$now" -v b="$EPOCHREALTIME" 'BEGIN { s = 1 - (b - a); print (s > 0.05 ? s : 0.05) }')"
  done
}

# server_busy CONFIG INFOFILE: true while the server still has work after the ingest.
server_busy() {
  redis-cli -h "$HOST" -p "$PORT" info >"$2" 2>/dev/null || return 1
  case "$1" in
    tally-*) [ "$(info_field "$2" log_entries_uncompacted)" != 0 ] ;;
    redis-aof) [ "$(info_field "$2" aof_rewrite_in_progress)" = 1 ] ||
      [ "$(info_field "$2" aof_rewrite_scheduled)" = 1 ] ;;
    *) return 1 ;;
  esac
}

# wait_settled CONFIG NAME DIR: returns once the server has been idle for
# SETTLE seconds (or after MAX_WAIT); sets IDLE_SINCE to when it became idle.
wait_settled() {
  local config="$1" name="$2" dir="$3" start="$EPOCHREALTIME" now
  IDLE_SINCE=""
  while :; do
    kill -0 "$SERVER_PID" 2>/dev/null || die "$name: the server died (log: $dir/server.log)"
    now="$EPOCHREALTIME"
    if server_busy "$config" "$dir/busy.info"; then
      IDLE_SINCE=""
    elif [ -z "$IDLE_SINCE" ]; then
      IDLE_SINCE="$now"
    fi
    if [ -n "$IDLE_SINCE" ] && awk -v a="$now" -v b="$IDLE_SINCE" -v s="$SETTLE" 'BEGIN { exit !(a - b >= s) }'; then
      return 0
    fi
    if awk -v a="$now" -v b="$start" -v s="$MAX_WAIT" 'BEGIN { exit !(a - b >= s) }'; then
      say "$name: still busy after $MAX_WAIT s; taking the figures now"
      return 0
    fi
    sleep 1
  done
}

# ingest_pass NAME DIR: sends the commands once; sets PASS_SECONDS and PASS_ERRORS.
ingest_pass() {
  local name="$1" dir="$2" start="$EPOCHREALTIME"
  redis-cli -h "$HOST" -p "$PORT" --pipe < "$dir/commands.resp" > "$dir/pipe.out" 2>&1 ||
    { cat "$dir/pipe.out" >&2; die "$name: redis-cli --pipe failed"; }
  PASS_SECONDS="$(awk -v a="$EPOCHREALTIME" -v b="$start" 'BEGIN { printf "%.1f", a - b }')"
  PASS_ERRORS="$(sed -n 's/^errors: \([0-9]*\),.*/\1/p' "$dir/pipe.out")"
  PASS_ERRORS="${PASS_ERRORS:-0}"
  [ "$PASS_ERRORS" = 0 ] || say "$name: $PASS_ERRORS commands failed (see $dir/pipe.out)"
}

# note_pass CONFIG COUNT RUN PASS INGEST_S IDLE_S: one line of passes.csv, from INFO now.
note_pass() {
  local info="$WORK/pass.info"
  redis-cli -h "$HOST" -p "$PORT" info memory > "$info" 2>/dev/null || : > "$info"
  echo "$1,$2,$3,$4,$5,$6,$(rss_kib "$SERVER_PID"),$(info_field "$info" used_memory),$(info_field "$info" rocksdb_cache_bytes)" >> "$PASSES_CSV"
}

run_one() {  # run_one CONFIG COUNT RUN
  local config="$1" count="$2" run="$3" dir="$WORK/$1-$2-$3" name="$1-$2-$3"
  local phasefile="$WORK/phase" empty t0 t1 ingest_s ingest_end errors pass
  start_server "$config" "$dir"
  sleep 2
  empty="$(rss_kib "$SERVER_PID")"
  echo ingest > "$phasefile"
  commands "$config" "$count" > "$dir/commands.resp"
  t0="$EPOCHREALTIME"
  sampler "$config" "$count" "$run" "$SERVER_PID" "$t0" "$phasefile" >> "$SAMPLES" &
  SAMPLER_PID=$!
  ingest_pass "$name" "$dir"
  t1="$EPOCHREALTIME"
  ingest_end="$(rss_kib "$SERVER_PID")"
  echo settle > "$phasefile"
  ingest_s="$PASS_SECONDS" errors="$PASS_ERRORS"
  say "$name: ingest $ingest_s s, RSS empty $empty KiB, end of ingest $ingest_end KiB; settling"
  wait_settled "$config" "$name" "$dir"
  local settle_s
  # Seconds from the end of the ingest until the server was idle (the SETTLE seconds not counted).
  settle_s="$(awk -v a="${IDLE_SINCE:-$EPOCHREALTIME}" -v b="$t1" 'BEGIN { printf "%.0f", a - b }')"
  note_pass "$config" "$count" "$run" 1 "$ingest_s" "$settle_s"
  for ((pass = 2; pass <= PASSES; pass++)); do
    # The same counters again: what a later increment of every counter adds.
    echo ingest > "$phasefile"
    local pass_end
    ingest_pass "$name" "$dir"
    pass_end="$EPOCHREALTIME"
    errors=$((errors + PASS_ERRORS))
    echo settle > "$phasefile"
    wait_settled "$config" "$name" "$dir"
    note_pass "$config" "$count" "$run" "$pass" "$PASS_SECONDS" \
      "$(awk -v a="${IDLE_SINCE:-$EPOCHREALTIME}" -v b="$pass_end" 'BEGIN { printf "%.0f", a - b }')"
    say "$name: pass $pass: RSS $(rss_kib "$SERVER_PID") KiB"
  done
  rm -f "$dir/commands.resp"
  local settled peak
  settled="$(rss_kib "$SERVER_PID")"
  # VmHWM is only raised when the kernel notices (e.g. on an unmap), so it can
  # lag a sample: the peak is the larger of the two.
  peak="$(hwm_kib "$SERVER_PID")"
  redis-cli -h "$HOST" -p "$PORT" info > "$OUT_DIR/$name.info" 2>/dev/null || true
  local owners="" counters=""
  if [ -n "$HTTP_PORT" ]; then
    curl -sf "http://$HOST:$HTTP_PORT/v1/stats" > "$OUT_DIR/$name.stats.json" || true
    owners="$(grep -o '"owners": *[0-9]*' "$OUT_DIR/$name.stats.json" | head -n1 | grep -o '[0-9]*$' || true)"
    counters="$(grep -o '"counters_in_memory": *[0-9]*' "$OUT_DIR/$name.stats.json" | grep -o '[0-9]*$' || true)"
  fi
  stop_pid "$SAMPLER_PID"; SAMPLER_PID=""
  local f="$OUT_DIR/$name.info" max_cache max_memtable max_rss
  read -r max_cache max_memtable max_rss < <(awk -F, -v c="$config" -v n="$count" -v r="$run" '
    $1 == c && $2 == n && $3 == r { if ($8 > a) a = $8; if ($9 > b) b = $9; if ($5 > m) m = $5 }
    END { printf "%s %s %s\n", (a == "" ? "-" : a), (b == "" ? "-" : b), m + 0 }' "$SAMPLES")
  peak="${peak:-0}"
  for v in "$max_rss" "${ingest_end:-0}" "${settled:-0}"; do
    if [ "$v" -gt "$peak" ]; then peak="$v"; fi
  done
  echo "$config,$count,$run,$empty,$peak,$ingest_end,$settled,$ingest_s,$settle_s,$(info_field "$f" used_memory),$(info_field "$f" maxmemory),$(info_field "$f" rocksdb_cache_bytes),$(info_field "$f" rocksdb_memtable_bytes),$max_cache,$max_memtable,$owners,$counters,$errors" >> "$RUNS_CSV"
  say "$name: peak $peak KiB, settled $settled KiB; idle $settle_s s after the ingest"
  stop_pid "$SERVER_PID"; SERVER_PID=""
  rm -rf "$dir"
}

# plan_runs: checks the options and the tools, makes the output dir and the temp dir.
plan_runs() {
  COUNTS="${COUNTS//,/ }"
  for c in $COUNTS; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "counts must be positive integers (got '$c')"; done
  for v in REPEATS SETTLE MAX_WAIT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
  done
  [ "$REPEATS" -ge 1 ] || die "--repeats must be at least 1"
  [[ "$PASSES" =~ ^[1-9][0-9]*$ ]] || die "--passes must be a positive integer (got '$PASSES')"
  [[ "$OWNERS" =~ ^[0-9]+$ ]] || die "--owners must be a number of owners, 0 for one each (got '$OWNERS')"

  CONFIGS=()
  for system in ${SYSTEMS//,/ }; do
    case "$system" in
      tally)
        for budget in ${BUDGETS//,/ }; do
          if [ "$budget" != default ]; then
            size_bytes "$budget" >/dev/null || die "bad budget '$budget' (bytes, or a number with KiB, MiB or GiB)"
          fi
          CONFIGS+=("tally-$budget")
        done ;;
      redis|redis-aof) CONFIGS+=("$system") ;;
      *) die "unknown system '$system' (tally, redis, redis-aof)" ;;
    esac
  done
  [ "${#CONFIGS[@]}" -gt 0 ] || die "nothing to run (--systems is empty)"

  command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
  case ",$SYSTEMS," in
    *,redis*) command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)" ;;
  esac
  case ",$SYSTEMS," in
    *,tally,*)
      [ -x "$TALLYD" ] || die "tallyd not found at $TALLYD (build it, or set TALLYD=/path/to/tallyd)"
      command -v curl >/dev/null || die "curl not found (needed for tallyd's /v1/stats)" ;;
  esac
  command -v ss >/dev/null || die "ss not found (iproute2), needed to find free ports"

  [ -n "$OUT_DIR" ] || OUT_DIR="bench-memory-$(date -u +%Y%m%dT%H%M%SZ)"
  mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
  OUT_DIR="$(cd "$OUT_DIR" && pwd)"

  WORK="$(mktemp -d /tmp/bench-memory.XXXXXX)"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  SAMPLES="$OUT_DIR/samples.csv"
  RUNS_CSV="$OUT_DIR/runs.csv"
  PASSES_CSV="$OUT_DIR/passes.csv"
  echo "config,count,run,pass,ingest_s,idle_s,rss_kib,used_memory,rocksdb_cache_bytes" > "$PASSES_CSV"
  echo "config,count,run,seconds,rss_kib,phase,used_memory,rocksdb_cache_bytes,rocksdb_memtable_bytes" > "$SAMPLES"
  echo "config,count,run,empty_kib,peak_kib,ingest_end_kib,settled_kib,ingest_s,settle_s,used_memory,maxmemory,rocksdb_cache_bytes,rocksdb_memtable_bytes,max_rocksdb_cache_bytes,max_rocksdb_memtable_bytes,owners,counters_in_memory,errors" > "$RUNS_CSV"
}

run_all() {
  local count run config i order
  say "configs: ${CONFIGS[*]}; counts: $COUNTS; $REPEATS run(s) each; output: $OUT_DIR"
  for count in $COUNTS; do
    for run in $(seq "$REPEATS"); do
      # Alternate the order, so drift on a shared machine hits every configuration alike.
      order=("${CONFIGS[@]}")
      if [ $((run % 2)) = 0 ]; then
        order=()
        for ((i = ${#CONFIGS[@]} - 1; i >= 0; i--)); do order+=("${CONFIGS[i]}"); done
      fi
      for config in "${order[@]}"; do run_one "$config" "$count" "$run"; done
    done
  done
}

# ---- summary ----------------------------------------------------------------
median_of() {  # median_of CONFIG COUNT COLUMN -> median over runs of runs.csv's COLUMN
  awk -F, -v c="$1" -v n="$2" -v k="$3" 'NR > 1 && $1 == c && $2 == n && $k ~ /^[0-9.]+$/ { print $k }' "$RUNS_CSV" |
    sort -g | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "-"; exit }
      if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mib() { [ "$1" = "-" ] && { echo "-"; return; }; awk -v k="$1" -v d="$2" 'BEGIN { printf "%.1f", k / d }'; }

# report: the medians table and RSS over time, to OUT_DIR/summary.md and stdout.
report() {
  {
    echo "| config | counters | empty MiB | peak MiB | end of ingest MiB | settled MiB | ingest s | idle after s | bytes/counter | used_memory MiB | rocksdb cache MiB (max) | memtables MiB (max) | memory_limit MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for count in $COUNTS; do
      for config in "${CONFIGS[@]}"; do
        empty="$(median_of "$config" "$count" 4)"
        settled="$(median_of "$config" "$count" 7)"
        per="-"
        [ "$empty" != "-" ] && [ "$settled" != "-" ] &&
          per="$(awk -v s="$settled" -v e="$empty" -v n="$count" 'BEGIN { printf "%.0f", (s - e) * 1024 / n }')"
        cache="-" memtable="-" limit="-"
        case "$config" in
          tally-*)
            cache="$(mib "$(median_of "$config" "$count" 12)" 1048576) ($(mib "$(median_of "$config" "$count" 14)" 1048576))"
            memtable="$(mib "$(median_of "$config" "$count" 13)" 1048576) ($(mib "$(median_of "$config" "$count" 15)" 1048576))"
            limit="$(mib "$(median_of "$config" "$count" 11)" 1048576)" ;;
        esac
        echo "| $config | $count | $(mib "$empty" 1024) | $(mib "$(median_of "$config" "$count" 5)" 1024) |" \
          "$(mib "$(median_of "$config" "$count" 6)" 1024) | $(mib "$settled" 1024) |" \
          "$(median_of "$config" "$count" 8) | $(median_of "$config" "$count" 9) | $per |" \
          "$(mib "$(median_of "$config" "$count" 10)" 1048576) | $cache | $memtable | $limit |"
      done
    done
    echo
    for count in $COUNTS; do
      echo "RSS (MiB) over time, $count counters: seconds from the start of the ingest, median over the runs"
      echo "that lasted that long (a run's value at t is its last sample at or before t; * = ingest still running)"
      echo
      # shellcheck disable=SC2016  # awk program, not shell
      awk -F, -v n="$count" -v configs="${CONFIGS[*]}" '
        NR > 1 && $2 == n {
          key = $1 SUBSEP $3; t = $4 + 0
          ns[key]++; ts[key, ns[key]] = t; rs[key, ns[key]] = $5; ph[key, ns[key]] = $6
          if (t > last[key]) last[key] = t
          if (t > tmax) tmax = t
        }
        function median(a, m,   i, j, x) {
          for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
          return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
        }
        END {
          split("0 2 5 10 15 20 30 45 60 90 120 180 240 300 450 600 900 1200", cand, " ")
          nt = 0
          for (i = 1; i in cand; i++) if (cand[i] <= tmax) times[++nt] = cand[i]
          ncfg = split(configs, cfg, " ")
          line = "| t s |"; sep = "|---:|"
          for (c = 1; c <= ncfg; c++) { line = line " " cfg[c] " |"; sep = sep "---:|" }
          print line; print sep
          for (k = 1; k <= nt; k++) {
            T = times[k]; line = "| " T " |"
            for (c = 1; c <= ncfg; c++) {
              m = 0; ingesting = 0
              for (key in ns) {
                split(key, parts, SUBSEP)
                if (parts[1] != cfg[c] || last[key] < T) continue
                v = ""; p = ""
                for (i = 1; i <= ns[key]; i++) if (ts[key, i] <= T) { v = rs[key, i]; p = ph[key, i] }
                if (v == "") continue
                vals[++m] = v; if (p == "ingest") ingesting = 1
              }
              line = line " " (m ? sprintf("%.0f%s", median(vals, m) / 1024, ingesting ? "*" : "") : "") " |"
            }
            print line
          }
        }' "$SAMPLES"
      echo
    done
    if [ -f "$PASSES_CSV" ] && awk -F, 'NR > 1 && $4 > 1 { found = 1 } END { exit !found }' "$PASSES_CSV"; then
    for count in $COUNTS; do
      echo "Once idle after each pass, $count counters: RSS MiB / (used_memory - rocksdb_cache_bytes) bytes per counter,"
      echo "median over the runs"
      echo
      # shellcheck disable=SC2016  # awk program, not shell
      awk -F, -v n="$count" -v configs="${CONFIGS[*]}" '
        function median(a, m,   i, j, x) {
          for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
          return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
        }
        NR > 1 && $2 == n {
          k = $1 SUBSEP $4; m = ++cnt[k]; rss[k, m] = $7; heap[k, m] = ($8 != "") ? ($8 - ($9 == "" ? 0 : $9)) / n : ""
          if ($4 > passes) passes = $4
        }
        END {
          ncfg = split(configs, cfg, " ")
          line = "| pass |"; sep = "|---:|"
          for (c = 1; c <= ncfg; c++) { line = line " " cfg[c] " |"; sep = sep "---:|" }
          print line; print sep
          for (p = 1; p <= passes; p++) {
            line = "| " p " |"
            for (c = 1; c <= ncfg; c++) {
              k = cfg[c] SUBSEP p; m = cnt[k]; cell = ""
              if (m > 0) {
                delete a; delete b; nb = 0
                for (i = 1; i <= m; i++) { a[i] = rss[k, i]; if (heap[k, i] != "") b[++nb] = heap[k, i] }
                cell = sprintf("%.0f", median(a, m) / 1024)
                if (nb > 0) cell = cell sprintf(" / %.0f", median(b, nb))
              }
              line = line " " cell " |"
            }
            print line
          }
        }' "$PASSES_CSV"
      echo
    done
  fi
  echo "medians of $REPEATS run(s); $(nproc) CPUs, $(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo);" \
      "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  } > "$OUT_DIR/summary.md"
  echo
  cat "$OUT_DIR/summary.md"
  say "samples: $SAMPLES; runs: $RUNS_CSV"
}

if [ -n "$REPORT_DIR" ]; then
  if [ ! -f "$REPORT_DIR/runs.csv" ] || [ ! -f "$REPORT_DIR/samples.csv" ]; then
    die "$REPORT_DIR has no runs.csv and samples.csv (not an output dir of this script)"
  fi
  OUT_DIR="$(cd "$REPORT_DIR" && pwd)"
  # The configurations, counts and repeats are the ones the dir holds, in the order they ran.
  COUNTS="$(awk -F, 'NR > 1 && !seen[$2]++ { printf "%s ", $2 }' "$OUT_DIR/runs.csv")"
  read -r -a CONFIGS < <(awk -F, 'NR > 1 && !seen[$1]++ { printf "%s ", $1 } END { print "" }' "$OUT_DIR/runs.csv")
  REPEATS="$(awk -F, 'NR > 1 && $3 > r { r = $3 } END { print r + 0 }' "$OUT_DIR/runs.csv")"
  SAMPLES="$OUT_DIR/samples.csv"
  RUNS_CSV="$OUT_DIR/runs.csv"
  PASSES_CSV="$OUT_DIR/passes.csv"
else
  plan_runs
  run_all
fi
report
