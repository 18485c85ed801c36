#!/usr/bin/env bash
# bench-collections-memory.sh — memory per field of hashes and sorted sets in
# tallyd and in redis-server (docs/benchmarks.md, "Hashes and sorted sets:
# memory").
#
# For each server (a fresh one on 127.0.0.1, temp data dir, free port) it
# reads INFO memory's used_memory when empty, loads one data set through
# `redis-cli --pipe`, waits for tallyd's compaction to fold the log, reads
# used_memory again and prints the difference per field or member. Data sets:
#   hashes  H hashes (hash:<i>) of F fields each: field:<j> -> <j * 7>
#   zset    one sorted set (board) of M members: player:<i> with score i % 100000
# Everything it started is stopped and its temp dir removed on exit.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
TALLYD="${TALLYD:-$REPO_DIR/build/release/daemon/tallyd}"
HASHES=10000
FIELDS=100
MEMBERS=1000000
SYSTEMS="tally,redis"

usage() {
  cat <<EOF
Usage: tools/bench-collections-memory.sh [--hashes H] [--fields F] [--members M] [--systems tally,redis]

Prints, for tallyd and redis-server, the used_memory (INFO memory) taken by
H hashes of F fields and by one sorted set of M members, in bytes per field
or member. Defaults: H=$HASHES F=$FIELDS M=$MEMBERS. tallyd is \$TALLYD
($TALLYD). Needs redis-server and redis-cli.
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --hashes) HASHES="$2"; shift 2 ;;
    --fields) FIELDS="$2"; shift 2 ;;
    --members) MEMBERS="$2"; shift 2 ;;
    --systems) SYSTEMS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# used_memory, and RocksDB's share of it: its block cache, which the
# memtables (tallyd's log and compacted rows waiting for a flush) are charged
# to (0 for redis-server).
used_memory() { redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1=="used_memory"{print $2}'; }
rocksdb_memory() {
  redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1=="rocksdb_cache_bytes"{sum+=$2} END{print sum+0}'
}

# RESP for the data sets, written once.
python3 - "$WORK" "$HASHES" "$FIELDS" "$MEMBERS" <<'EOF'
import sys
work, hashes, fields, members = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def resp(args):
    out = [f"*{len(args)}\r\n"]
    for a in args:
        out.append(f"${len(a.encode())}\r\n{a}\r\n")
    return "".join(out)
with open(f"{work}/hashes.resp", "w") as f:
    for i in range(hashes):
        args = ["HSET", f"hash:{i}"]
        for j in range(fields):
            args += [f"field:{j}", str(j * 7)]
        f.write(resp(args))
with open(f"{work}/zset.resp", "w") as f:
    for start in range(0, members, 1000):
        args = ["ZADD", "board"]
        for i in range(start, min(start + 1000, members)):
            args += [str(i % 100000), f"player:{i}"]
        f.write(resp(args))
EOF

start_server() {  # system port dir
  case "$1" in
    tally)
      "$TALLYD" --port "$2" --data-dir "$3/data" --http-port 0 --compaction-interval-ms 500 >"$3/log" 2>&1 &
      ;;
    redis)
      redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$3" >"$3/log" 2>&1 &
      ;;
  esac
  PIDS+=($!)
  for _ in $(seq 1 200); do redis-cli -p "$2" PING >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "$1 did not start; its log:" >&2; cat "$3/log" >&2; exit 1
}

settle() {  # system port: tallyd folds its log (compaction), then both are left a second
  if [ "$1" = tally ]; then
    for _ in $(seq 1 600); do
      redis-cli -p "$2" INFO persistence | tr -d '\r' | grep -q '^log_entries_uncompacted:0$' && break
      sleep 0.1
    done
  fi
  sleep 1
}

printf '%-6s %-8s %10s %12s %10s %16s\n' system dataset items used_bytes bytes/item bytes/item-rocksdb
IFS=, read -r -a systems <<<"$SYSTEMS"
for system in "${systems[@]}"; do
  for dataset in hashes zset; do
    dir="$WORK/$system-$dataset"; mkdir -p "$dir"
    port="$(free_port)"
    start_server "$system" "$port" "$dir"
    before="$(used_memory "$port")"
    before_rocksdb="$(rocksdb_memory "$port")"
    redis-cli -p "$port" --pipe <"$WORK/$dataset.resp" >/dev/null
    settle "$system" "$port"
    after="$(used_memory "$port")"
    after_rocksdb="$(rocksdb_memory "$port")"
    if [ "$dataset" = hashes ]; then items=$((HASHES * FIELDS)); else items=$MEMBERS; fi
    used=$((after - before))
    structure=$((used - (after_rocksdb - before_rocksdb)))
    printf '%-6s %-8s %10d %12d %10.1f %16.1f\n' "$system" "$dataset" "$items" "$used" \
      "$(echo "$used / $items" | bc -l)" "$(echo "$structure / $items" | bc -l)"
    kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
  done
done
