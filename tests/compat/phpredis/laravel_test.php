<?php
// The calls Laravel's Redis cache store, lock and rate limiter make through
// phpredis (Illuminate\Cache\RedisStore, RedisLock/PhpRedisLock, LuaScripts,
// RateLimiter; Illuminate\Redis\Connections\PhpRedisConnection), issued with
// phpredis exactly as Laravel issues them, against one server. Usage:
//
//   php laravel_test.php <port> [--tally]
//
// Prints one line per check, "<check> <JSON of what the calls returned>",
// with nothing that depends on the clock (TTLs are printed as in-range
// booleans), so the output against redis-server and against tallyd can be
// compared line by line. An error reply is printed, not thrown: the line
// shows it. --tally adds checks of tally's own commands (lines starting with
// "tally."), which redis-server does not have. Exits 1 only when it cannot
// connect.

declare(strict_types=1);

$port = (int) ($argv[1] ?? 0);
$tally = in_array('--tally', $argv, true);

// Laravel's defaults (config/database.php, config/cache.php): the connection
// prefix is set with Redis::OPT_PREFIX, so phpredis adds it to every key; the
// cache store prepends its own prefix to the cache key.
const CONNECTION_PREFIX = 'laravel-database-';
const CACHE_PREFIX = 'laravel-cache-';

// Illuminate\Cache\LuaScripts, verbatim.
const LUA_ADD = <<<'LUA'
return redis.call('exists',KEYS[1])<1 and redis.call('setex',KEYS[1],ARGV[2],ARGV[1])
LUA;
const LUA_REFRESH_LOCK = <<<'LUA'
if redis.call("get",KEYS[1]) == ARGV[1] then
    if tonumber(ARGV[2]) > 0 then
        return redis.call("expire",KEYS[1],ARGV[2])
    end

    redis.call("persist",KEYS[1])

    return 1
else
    return 0
end
LUA;
const LUA_RELEASE_LOCK = <<<'LUA'
if redis.call("get",KEYS[1]) == ARGV[1] then
    return redis.call("del",KEYS[1])
else
    return 0
end
LUA;

$redis = new Redis();
try {
    // PhpRedisConnector: connect, then the options, then SELECT.
    $redis->connect('127.0.0.1', $port, 5.0);
    $redis->setOption(Redis::OPT_PREFIX, CONNECTION_PREFIX);
    $redis->select(0);
} catch (RedisException $e) {
    fwrite(STDERR, "cannot connect to 127.0.0.1:$port: {$e->getMessage()}\n");
    exit(1);
}

// Runs one check and prints its line; an exception or an error reply is part
// of the line.
function check(string $name, callable $body): void
{
    global $redis;
    $redis->clearLastError();
    try {
        $result = $body();
    } catch (Throwable $e) {
        $result = ['exception' => get_class($e), 'message' => $e->getMessage()];
        // A failed MULTI leaves phpredis in multi mode: leave it.
        try {
            $redis->discard();
        } catch (Throwable $ignored) {
        }
    }
    $line = ['result' => $result];
    $error = $redis->getLastError();
    // phpredis 5.3 keeps the reply's terminating NUL byte in the text.
    if ($error !== null) $line['last_error'] = rtrim($error, "\0");
    echo $name, ' ', json_encode($line, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}

// RedisStore::serialize / unserialize: numbers are stored as they are.
function pack_value($value)
{
    return is_numeric($value) && is_finite((float) $value) ? $value : serialize($value);
}
function unpack_value($value)
{
    if ($value === false || $value === null) return null;
    return is_numeric($value) ? $value : unserialize($value);
}

function ttl_between(string $key, int $low, int $high): bool
{
    global $redis;
    $ttl = $redis->ttl($key);
    return is_int($ttl) && $ttl >= $low && $ttl <= $high;
}

// ---- Cache: RedisStore -----------------------------------------------------

// Cache::put('greeting', 'hello', 60) -> SETEX; Cache::get -> GET.
check('cache.put_get', function () use ($redis) {
    $key = CACHE_PREFIX . 'greeting';
    return [
        'put' => (bool) $redis->setex($key, (int) max(1, 60), pack_value('hello')),
        'get' => unpack_value($redis->get($key)),
        'raw' => $redis->get($key),
        'ttl_ok' => ttl_between($key, 55, 60),
        'missing' => unpack_value($redis->get(CACHE_PREFIX . 'nope')),
    ];
});

// Arrays and numbers: serialize() for the first, the number itself for the second.
check('cache.put_values', function () use ($redis) {
    $redis->setex(CACHE_PREFIX . 'settings', 300, pack_value(['theme' => 'dark', 'size' => 12]));
    $redis->setex(CACHE_PREFIX . 'answer', 300, pack_value(42));
    $redis->setex(CACHE_PREFIX . 'ratio', 300, pack_value(0.25));
    return [
        'settings' => unpack_value($redis->get(CACHE_PREFIX . 'settings')),
        'answer' => $redis->get(CACHE_PREFIX . 'answer'),
        'ratio' => $redis->get(CACHE_PREFIX . 'ratio'),
    ];
});

// Cache::putMany([...], 120): MULTI, one SETEX per item, EXEC.
check('cache.put_many', function () use ($redis) {
    $values = ['a' => 'alpha', 'b' => ['beta'], 'c' => 3];
    $redis->multi();
    $many = null;
    foreach ($values as $key => $value) {
        $result = (bool) $redis->setex(CACHE_PREFIX . $key, (int) max(1, 120), pack_value($value));
        $many = is_null($many) ? $result : $result && $many;
    }
    $exec = $redis->exec();
    return [
        'exec' => $exec,
        'ttl_ok' => ttl_between(CACHE_PREFIX . 'b', 115, 120),
    ];
});

// Cache::many(['a', 'b', 'c', 'zz']) -> MGET.
check('cache.many', function () use ($redis) {
    $keys = ['a', 'b', 'c', 'zz'];
    $values = $redis->mget(array_map(fn ($k) => CACHE_PREFIX . $k, $keys));
    $out = [];
    foreach ($values as $i => $value) $out[$keys[$i]] = unpack_value($value);
    return $out;
});

// Cache::add: the LuaScripts::add EVAL (phpredis eval(script, args, numkeys)).
check('cache.add', function () use ($redis) {
    $key = CACHE_PREFIX . 'once';
    $first = $redis->eval(LUA_ADD, [$key, pack_value('first'), (int) max(1, 30)], 1);
    $second = $redis->eval(LUA_ADD, [$key, pack_value('second'), 30], 1);
    return [
        'first' => $first,
        'second' => $second,
        'value' => unpack_value($redis->get($key)),
        'ttl_ok' => ttl_between($key, 25, 30),
    ];
});

// Cache::increment / decrement -> INCRBY / DECRBY (a missing key starts at 0).
check('cache.increment_decrement', function () use ($redis) {
    $key = CACHE_PREFIX . 'visits';
    return [
        $redis->incrBy($key, 1),
        $redis->incrBy($key, 10),
        $redis->decrBy($key, 3),
        $redis->decrBy($key, 1),
        $redis->get($key),
    ];
});

// INCRBY on a serialized string: Redis's error, phpredis returns false.
check('cache.increment_not_a_number', function () use ($redis) {
    return $redis->incrBy(CACHE_PREFIX . 'greeting', 1);
});

// Cache::forever -> SET without expiry; Cache::touch -> EXPIRE.
check('cache.forever_touch', function () use ($redis) {
    $key = CACHE_PREFIX . 'config';
    $set = (bool) $redis->set($key, pack_value(['debug' => false]));
    $ttl_before = $redis->ttl($key);
    $touch = (bool) $redis->expire($key, (int) max(1, 90));
    return [
        'set' => $set,
        'ttl_before' => $ttl_before,
        'touch' => $touch,
        'ttl_ok' => ttl_between($key, 85, 90),
        'touch_missing' => (bool) $redis->expire(CACHE_PREFIX . 'nope', 90),
        'value' => unpack_value($redis->get($key)),
    ];
});

// Cache::forget -> DEL (true once, then false).
check('cache.forget', function () use ($redis) {
    return [
        (bool) $redis->del(CACHE_PREFIX . 'config'),
        (bool) $redis->del(CACHE_PREFIX . 'config'),
        unpack_value($redis->get(CACHE_PREFIX . 'config')),
    ];
});

// ---- Locks: RedisLock / PhpRedisLock --------------------------------------

// Cache::lock('reports', 10)->get(): SET NX EX, as PhpRedisConnection::set
// passes it ([$flag, $expireResolution => $expireTTL]).
check('lock.acquire', function () use ($redis) {
    $name = CACHE_PREFIX . 'reports';
    $first = $redis->set($name, 'owner-a', ['NX', 'EX' => 10]) == true;
    $second = $redis->set($name, 'owner-b', ['NX', 'EX' => 10]) == true;
    return [
        'first' => $first,
        'second' => $second,
        'ttl_ok' => ttl_between($name, 5, 10),
    ];
});

// isOwnedByCurrentProcess / isLocked: GET and compare.
check('lock.owner', function () use ($redis) {
    $name = CACHE_PREFIX . 'reports';
    $current = $redis->get($name);
    return [
        'owner' => $current,
        'owned_by_a' => $current === 'owner-a',
        'owned_by_b' => $current === 'owner-b',
        'free_is_locked' => $redis->get(CACHE_PREFIX . 'free-lock') !== false,
    ];
});

// refresh(): the refreshLock script, with seconds and with 0 (PERSIST).
check('lock.refresh', function () use ($redis) {
    $name = CACHE_PREFIX . 'reports';
    $wrong = $redis->eval(LUA_REFRESH_LOCK, [$name, 'owner-b', 30], 1);
    $right = $redis->eval(LUA_REFRESH_LOCK, [$name, 'owner-a', 30], 1);
    $ttl_ok = ttl_between($name, 25, 30);
    $forever = $redis->eval(LUA_REFRESH_LOCK, [$name, 'owner-a', 0], 1);
    return [
        'wrong_owner' => $wrong,
        'owner' => $right,
        'ttl_ok' => $ttl_ok,
        'persist' => $forever,
        'ttl_after_persist' => $redis->ttl($name),
    ];
});

// release(): the releaseLock EVAL; only the owner releases.
check('lock.release', function () use ($redis) {
    $name = CACHE_PREFIX . 'reports';
    return [
        'wrong_owner' => (bool) $redis->eval(LUA_RELEASE_LOCK, [$name, 'owner-b'], 1),
        'owner' => (bool) $redis->eval(LUA_RELEASE_LOCK, [$name, 'owner-a'], 1),
        'again' => (bool) $redis->eval(LUA_RELEASE_LOCK, [$name, 'owner-a'], 1),
        'after' => $redis->get($name),
    ];
});

// Cache::lock('nightly') without seconds -> SETNX; forceRelease -> DEL.
check('lock.forever_and_force_release', function () use ($redis) {
    $name = CACHE_PREFIX . 'nightly';
    return [
        'first' => $redis->setnx($name, 'owner-a') === true,
        'second' => $redis->setnx($name, 'owner-b') === true,
        'ttl' => $redis->ttl($name),
        'force_release' => $redis->del($name),
        'after' => $redis->get($name),
    ];
});

// ---- RateLimiter (on the cache store) --------------------------------------

// RateLimiter::increment($key, $decay, $amount), as Laravel runs it.
function rate_limiter_hit(string $key, int $decay_seconds, int $amount = 1): int
{
    global $redis;
    $key = CACHE_PREFIX . $key;
    // $this->cache->add($key.':timer', $this->availableAt($decaySeconds), $decaySeconds)
    $redis->eval(LUA_ADD, [$key . ':timer', pack_value(time() + $decay_seconds), $decay_seconds], 1);
    // $this->cache->add($key, 0, $decaySeconds)
    $added = (bool) $redis->eval(LUA_ADD, [$key, pack_value(0), $decay_seconds], 1);
    // $this->cache->increment($key, $amount)
    $hits = (int) $redis->incrBy($key, $amount);
    if (!$added && $hits == $amount) {
        $redis->setex($key, $decay_seconds, pack_value($amount));
    }
    return $hits;
}

function rate_limiter_attempts(string $key): int
{
    global $redis;
    $value = $redis->get(CACHE_PREFIX . $key);
    return $value === false ? 0 : (int) $value;
}

// RateLimiter::tooManyAttempts: attempts >= max and the timer still there.
function rate_limiter_too_many(string $key, int $max_attempts): bool
{
    global $redis;
    if (rate_limiter_attempts($key) >= $max_attempts) {
        if ($redis->get(CACHE_PREFIX . $key . ':timer') !== false) return true;
        $redis->del(CACHE_PREFIX . $key);
    }
    return false;
}

check('rate_limiter.hit', function () use ($redis) {
    $key = 'login|203.0.113.7';
    $hits = [];
    $too_many = [];
    for ($i = 0; $i < 4; ++$i) {
        $too_many[] = rate_limiter_too_many($key, 3);
        $hits[] = rate_limiter_hit($key, 60);
    }
    $timer = $redis->get(CACHE_PREFIX . $key . ':timer');
    return [
        'hits' => $hits,
        'too_many_before_each' => $too_many,
        'too_many_now' => rate_limiter_too_many($key, 3),
        'remaining' => max(0, 3 - rate_limiter_attempts($key)),
        'timer_is_a_time' => is_numeric($timer) && (int) $timer > time(),
        'counter_ttl_ok' => ttl_between(CACHE_PREFIX . $key, 55, 60),
        'timer_ttl_ok' => ttl_between(CACHE_PREFIX . $key . ':timer', 55, 60),
    ];
});

// RateLimiter::clear: DEL of the counter, then of the timer.
check('rate_limiter.clear', function () use ($redis) {
    $key = 'login|203.0.113.7';
    $redis->del(CACHE_PREFIX . $key);
    $redis->del(CACHE_PREFIX . $key . ':timer');
    return [
        'attempts' => rate_limiter_attempts($key),
        'too_many' => rate_limiter_too_many($key, 3),
        'hit_again' => rate_limiter_hit($key, 60),
    ];
});

// ---- A counter-sync job: INCR per request, KEYS + MULTI(GET, DEL) per run ----

check('sync_job.counts', function () use ($redis) {
    // Requests: Redis::incr("post:{$id}:views").
    foreach ([7, 7, 7, 12, 7, 12, 31] as $id) $redis->incr("post:$id:views");
    $redis->incrBy('post:31:views', 40);
    $redis->set('post:99:title', 'not a counter');
    // The job: Redis::keys('post:*:views') replies the keys with the
    // connection prefix, which Laravel code strips before using them.
    $keys = $redis->keys('post:*:views');
    sort($keys);
    $synced = [];
    foreach ($keys as $full_key) {
        $key = substr($full_key, strlen(CONNECTION_PREFIX));
        // Read and reset in one transaction, so no increment is lost.
        $replies = $redis->multi()->get($key)->del($key)->exec();
        $synced[$key] = $replies;
    }
    return [
        'keys' => $keys,
        'synced' => $synced,
        'left' => $redis->keys('post:*:views'),
    ];
});

// ---- tally's own commands (against tallyd only) -----------------------------

if ($tally) {
    // A Laravel morph owner ($post->getMorphClass().':'.$post->getKey()) as
    // the counter's owner, through rawCommand (no prefix added).
    check('tally.ctr_incrby_morph_owner', function () use ($redis) {
        $owner = 'App\\Models\\Post:1';
        return [
            'incrby' => $redis->rawCommand('CTR.INCRBY', $owner, 'downloads', 1),
            'incrby_5' => $redis->rawCommand('CTR.INCRBY', $owner, 'downloads', 5),
            'get' => $redis->rawCommand('CTR.GET', $owner, 'downloads'),
            'owners' => $redis->rawCommand('CTR.OWNERS', 'PREFIX', 'App\\Models\\'),
        ];
    });
}

// Cache::flush -> FLUSHDB: every plain key is gone.
check('cache.flush', function () use ($redis) {
    return [
        'flushdb' => $redis->flushDB(),
        'dbsize' => $redis->dbSize(),
        'get' => $redis->get(CACHE_PREFIX . 'a'),
    ];
});

if ($tally) {
    // FLUSHDB leaves the owner counters alone.
    check('tally.ctr_after_flushdb', function () use ($redis) {
        return $redis->rawCommand('CTR.GET', 'App\\Models\\Post:1', 'downloads');
    });
}

$redis->close();
