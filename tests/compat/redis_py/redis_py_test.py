"""redis-py, unchanged, against one server (redis-server or tallyd).

Usage: /usr/bin/python3 redis_py_test.py <port> [--tally]

Prints one line per check, "<check> <JSON of what the calls returned>", with
nothing that depends on the clock (TTLs become in-range booleans), so the
output against redis-server and against tallyd can be compared line by line.
An exception is printed as part of its line, not raised. --tally adds checks
of tally's own commands (lines starting with "tally."). Exits 1 only when it
cannot connect.
"""

import json
import sys

import redis
from redis.exceptions import LockError, WatchError

PORT = int(sys.argv[1])
TALLY = "--tally" in sys.argv[2:]


def normalize(value):
    """Replies as JSON can show them: bytes as text, tuples as lists."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, set):
        return sorted(normalize(v) for v in value)
    if isinstance(value, dict):
        return {normalize(k): normalize(v) for k, v in sorted(value.items())}
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Exception):
        return {"exception": type(value).__name__, "message": str(value)}
    return value


def check(name, body):
    try:
        result = body()
    except Exception as error:  # the line shows it; the comparison fails
        result = error
    print(name, json.dumps({"result": normalize(result)}, sort_keys=True), flush=True)


def ttl_between(client, key, low, high):
    ttl = client.ttl(key)
    return low <= ttl <= high


r = redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10)
other = redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10)  # a second client
try:
    r.ping()
except redis.ConnectionError as error:
    print(f"cannot connect to 127.0.0.1:{PORT}: {error}", file=sys.stderr)
    sys.exit(1)


# ---- Transactions -----------------------------------------------------------


def default_pipeline():
    # pipeline() is transactional by default: MULTI ... EXEC.
    pipe = r.pipeline()
    pipe.set("pipe:a", 1).incr("pipe:a").incrby("pipe:a", 40).get("pipe:a").delete("pipe:missing")
    return pipe.execute()


check("pipeline.transaction", default_pipeline)


def pipeline_with_error():
    # A command failing inside EXEC fails alone: the others run.
    r.set("pipe:text", "abc")
    pipe = r.pipeline()
    pipe.incr("pipe:text").set("pipe:after", "ran").get("pipe:after")
    return pipe.execute(raise_on_error=False)


check("pipeline.error_inside_exec", pipeline_with_error)


def pipeline_queue_error():
    # A wrong number of arguments is refused when queued: EXEC aborts it all.
    pipe = r.pipeline()
    pipe.set("pipe:never", "x")
    pipe.execute_command("INCRBY", "pipe:never")
    try:
        pipe.execute()
        outcome = "executed"
    except redis.ResponseError as error:
        outcome = str(error)
    return {"outcome": outcome, "never": r.get("pipe:never")}


check("pipeline.queue_error_aborts", pipeline_queue_error)


def non_transactional_pipeline():
    pipe = r.pipeline(transaction=False)
    for _ in range(50):
        pipe.incr("pipe:plain")
    return pipe.execute()[-3:]


check("pipeline.plain", non_transactional_pipeline)


def watch_with_retry():
    # The optimistic-locking loop of redis-py's docs: a second client changes
    # the watched key once, the first EXEC is aborted, the retry succeeds.
    r.set("account:balance", 100)
    attempts = 0
    with r.pipeline() as pipe:
        while True:
            try:
                pipe.watch("account:balance")
                attempts += 1
                balance = int(pipe.get("account:balance"))
                if attempts == 1:
                    other.incrby("account:balance", 5)
                pipe.multi()
                pipe.set("account:balance", balance - 10)
                pipe.get("account:balance")
                replies = pipe.execute()
                break
            except WatchError:
                continue
    return {"attempts": attempts, "replies": replies, "balance": r.get("account:balance")}


check("watch.retry", watch_with_retry)


def transaction_helper():
    # Redis.transaction(fn, *watches): WATCH, fn, MULTI/EXEC, retried on WatchError.
    r.set("stock", 3)

    def take_one(pipe):
        left = int(pipe.get("stock"))
        pipe.multi()
        pipe.set("stock", left - 1)

    results = [r.transaction(take_one, "stock") for _ in range(2)]
    return {"results": results, "stock": r.get("stock")}


check("watch.transaction_helper", transaction_helper)


def unwatch_and_discard():
    with r.pipeline() as pipe:
        pipe.watch("stock")
        pipe.unwatch()
        other.set("stock", 99)
        pipe.multi()
        pipe.get("stock")
        after_unwatch = pipe.execute()
    # A transactional pipeline is sent at execute(): reset() drops the queue.
    pipe = r.pipeline()
    pipe.set("discarded", "x")
    pipe.reset()
    return {"after_unwatch": after_unwatch, "discarded": r.get("discarded")}


check("watch.unwatch", unwatch_and_discard)


# ---- Strings ---------------------------------------------------------------


def mset_msetnx():
    return {
        "mset": r.mset({"m:a": "1", "m:b": "2"}),
        "msetnx_taken": r.msetnx({"m:b": "x", "m:c": "3"}),
        "msetnx_free": r.msetnx({"m:c": "3", "m:d": "4"}),
        "mget": r.mget("m:a", "m:b", "m:c", "m:d", "m:e"),
    }


check("strings.mset_msetnx", mset_msetnx)


def incrbyfloat():
    return {
        "a": r.incrbyfloat("price", 10.5),
        "b": r.incrbyfloat("price", 0.1),
        "c": r.incrbyfloat("price", -5),
        "d": r.incrbyfloat("price", 3.0e3),
        "get": r.get("price"),
        "int_key": r.incrbyfloat("pipe:a", 0.5),
    }


check("strings.incrbyfloat", incrbyfloat)


def incrbyfloat_errors():
    out = []
    for key, amount in (("pipe:text", 1), ("price", "abc")):
        try:
            out.append(r.incrbyfloat(key, amount))
        except redis.ResponseError as error:
            out.append(str(error))
    return out


check("strings.incrbyfloat_errors", incrbyfloat_errors)


def scan_iter():
    for i in range(120):
        r.set(f"user:{i}:name", f"n{i}")
    seen = list(r.scan_iter(match="user:*:name", count=17))
    return {"count": len(seen), "unique": len(set(seen)), "first": sorted(seen)[:3]}


check("keys.scan_iter", scan_iter)


# ---- Lock (redis.lock.Lock: SET NX PX, EVALSHA with SCRIPT LOAD fallback) ----


def lock_cycle():
    lock = r.lock("lock:invoice", timeout=10)
    rival = other.lock("lock:invoice", timeout=10)
    out = {
        "acquire": lock.acquire(blocking=False),
        "rival_acquire": rival.acquire(blocking=False),
        "locked": lock.locked(),
        "owned": lock.owned(),
        "rival_owned": rival.owned(),
        "pttl_ok": 9000 <= r.pttl("lock:invoice") <= 10000,
        "extend": lock.extend(20),
        "ttl_after_extend_ok": ttl_between(r, "lock:invoice", 25, 30),
        "reacquire": lock.reacquire(),
        "ttl_after_reacquire_ok": ttl_between(r, "lock:invoice", 5, 10),
    }
    try:
        rival.release()
        out["rival_release"] = "released"
    except LockError as error:
        out["rival_release"] = type(error).__name__
    lock.release()
    out["locked_after_release"] = lock.locked()
    try:
        lock.release()
        out["release_again"] = "released"
    except LockError as error:
        out["release_again"] = type(error).__name__
    try:
        lock.extend(5)
        out["extend_unowned"] = "extended"
    except LockError as error:  # the token is gone: "Cannot extend an unlocked lock"
        out["extend_unowned"] = str(error)
    return out


check("lock.acquire_extend_release", lock_cycle)


def lock_taken_over():
    # The key expired and another process took it: the scripts see a foreign
    # token and refuse (LockNotOwnedError), leaving the other's lock alone.
    lock = r.lock("lock:export", timeout=10)
    lock.acquire(blocking=False)
    other.set("lock:export", "someone-else", px=10000)
    out = {"owned": lock.owned()}
    for name, call in (("extend", lambda: lock.extend(5)), ("reacquire", lock.reacquire), ("release", lock.release)):
        try:
            out[name] = call()
        except LockError as error:
            out[name] = type(error).__name__
    out["value"] = r.get("lock:export")
    return out


check("lock.taken_over", lock_taken_over)


def lock_context_manager():
    with r.lock("lock:nightly", timeout=5, blocking_timeout=1) as held:
        inside = held.owned()
    return {"inside": inside, "after": r.exists("lock:nightly")}


check("lock.context_manager", lock_context_manager)


def script_cache():
    # After SCRIPT FLUSH, a registered script's EVALSHA answers NOSCRIPT and
    # redis-py loads it again.
    script = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    first = script(keys=["script:n"], args=[2])
    r.script_flush()
    second = script(keys=["script:n"], args=[3])
    return {"first": first, "second": second, "exists": r.script_exists(script.sha)}


check("scripts.register_script", script_cache)


# ---- Hashes ----------------------------------------------------------------


def hashes():
    return {
        "hset_mapping": r.hset("user:42", mapping={"name": "Ada", "plan": "pro", "logins": 1}),
        "hset_field": r.hset("user:42", "plan", "team"),
        "hincrby": r.hincrby("user:42", "logins", 4),
        "hincrby_new": r.hincrby("user:42", "credits", -2),
        "hincrbyfloat": r.hincrbyfloat("user:42", "spent", 2.5),
        "hget": r.hget("user:42", "name"),
        "hmget": r.hmget("user:42", ["name", "nope", "plan"]),
        "hgetall": r.hgetall("user:42"),
        "hexists": [r.hexists("user:42", "name"), r.hexists("user:42", "nope")],
        "hlen": r.hlen("user:42"),
        "hkeys": sorted(r.hkeys("user:42")),
        "hdel": r.hdel("user:42", "credits", "nope"),
        "hgetall_missing": r.hgetall("user:none"),
        "type": r.type("user:42"),
    }


check("hashes.basic", hashes)


def hash_errors():
    out = []
    for call in (lambda: r.hincrby("user:42", "name", 1), lambda: r.get("user:42"), lambda: r.hget("pipe:text", "x")):
        try:
            out.append(call())
        except redis.ResponseError as error:
            out.append(str(error))
    return out


check("hashes.errors", hash_errors)


# ---- Sorted sets (a leaderboard) ---------------------------------------------


def sorted_sets():
    return {
        "zadd": r.zadd("board", {"alice": 10, "bob": 20, "carol": 15}),
        "zadd_update": r.zadd("board", {"alice": 12, "dave": 1}),
        "zincrby": r.zincrby("board", 5, "alice"),
        "zincrby_new": r.zincrby("board", 2.5, "erin"),
        "zrevrange": r.zrevrange("board", 0, 2, withscores=True),
        "zrange": r.zrange("board", 0, -1),
        "zrank": [r.zrank("board", "alice"), r.zrank("board", "nobody")],
        "zrevrank": r.zrevrank("board", "bob"),
        "zscore": [r.zscore("board", "alice"), r.zscore("board", "nobody")],
        "zcard": r.zcard("board"),
        "zrem": r.zrem("board", "dave", "nobody"),
        "zrangebyscore": r.zrangebyscore("board", 10, "+inf", withscores=True),
        "zadd_nx": r.zadd("board", {"bob": 99}, nx=True),
        "zadd_xx_ch": r.zadd("board", {"bob": 21, "zed": 3}, xx=True, ch=True),
        "type": r.type("board"),
    }


check("zsets.leaderboard", sorted_sets)


# ---- tally's own commands (against tallyd only) -------------------------------

if TALLY:
    check(
        "tally.ctr_incrby",
        lambda: [r.execute_command("CTR.INCRBY", "user:42", "downloads", 3), r.execute_command("CTR.GET", "user:42", "downloads")],
    )


def flushdb():
    return {"flushdb": r.flushdb(), "dbsize": r.dbsize(), "exists": r.exists("board", "user:42", "price")}


check("server.flushdb", flushdb)
