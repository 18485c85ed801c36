// ioredis, unchanged, against one server (redis-server or tallyd): multi(),
// eval, defineCommand (EVALSHA, falling back to EVAL), hashes, a sorted-set
// leaderboard and mset. Usage:
//   node ioredis_redis_test.js <port> <node_modules dir> [--tally]
// Prints one line per check, "<check> <JSON of what the calls returned>",
// with nothing that depends on the clock, so the output against redis-server
// and against tallyd can be compared line by line. A rejected call is printed
// as {"error": message} in its line. --tally adds checks of tally's own
// commands (lines starting with "tally."). Exits 1 only when it cannot connect.
'use strict';

const path = require('node:path');

const port = Number(process.argv[2]);
const Redis = require(path.join(process.argv[3], 'ioredis'));
const tally = process.argv.includes('--tally');

// Replies as JSON can show them: errors as their message.
function normalize(value) {
  if (value instanceof Error) return { error: value.message };
  if (Array.isArray(value)) return value.map(normalize);
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value && typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = normalize(value[key]);
    return out;
  }
  return value === undefined ? null : value;
}

// Runs one check and prints its line; a rejection is the check's result.
async function check(name, body) {
  let result;
  try {
    result = await body();
  } catch (error) {
    result = error;
  }
  console.log(`${name} ${JSON.stringify({ result: normalize(result) })}`);
}

// Settles a promise into its value or its error (for several calls in one check).
async function settle(promise) {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

async function main() {
  const options = { host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true };
  const redis = new Redis(options);
  const other = new Redis(options);
  try {
    await redis.connect();
    await other.connect();
  } catch (error) {
    console.error(`cannot connect to 127.0.0.1:${port}: ${error.message}`);
    process.exit(1);
  }

  // ---- multi() ---------------------------------------------------------------

  await check('multi.exec', async () =>
    redis.multi().set('m:a', '1').incr('m:a').incrby('m:a', 40).get('m:a').del('m:none').exec());

  // A command failing at EXEC fails alone: [error, null] in its slot.
  await check('multi.error_inside_exec', async () => {
    await redis.set('m:text', 'abc');
    return redis.multi().incr('m:text').set('m:after', 'ran').get('m:after').exec();
  });

  // A command refused when queued (wrong arity) makes EXEC answer EXECABORT.
  await check('multi.queue_error_aborts', async () => {
    const exec = await settle(redis.multi().set('m:never', 'x').call('INCRBY', 'm:never').exec());
    return { exec, never: await redis.get('m:never') };
  });

  // multi({ pipeline: false }): MULTI, each command answers QUEUED, then exec().
  await check('multi.not_pipelined', async () => {
    const multi = await redis.multi({ pipeline: false });
    const queued = [await redis.incr('m:queued'), await redis.incr('m:queued')];
    const exec = await redis.exec();
    return { multi, queued, exec };
  });

  await check('multi.discard', async () => {
    const multi = await redis.multi({ pipeline: false });
    await redis.set('m:discarded', 'x');
    const discard = await redis.discard();
    return { multi, discard, value: await redis.get('m:discarded') };
  });

  // WATCH: a change by another client between WATCH and EXEC makes EXEC nil.
  await check('multi.watch', async () => {
    await redis.set('m:balance', '100');
    await redis.watch('m:balance');
    await other.incrby('m:balance', 5);
    const aborted = await redis.multi().decrby('m:balance', 10).exec();
    await redis.watch('m:balance');
    const balance = Number(await redis.get('m:balance'));
    const applied = await redis.multi().set('m:balance', String(balance - 10)).exec();
    return { aborted, applied, balance: await redis.get('m:balance') };
  });

  // ---- eval ---------------------------------------------------------------------

  await check('eval.replies', async () => ({
    table: await redis.eval('return {KEYS[1], ARGV[1], 3, 3.9}', 1, 'e:key', 'e:arg'),
    nil_cuts_table: await redis.eval('return {1, 2, nil, 4}', 0),
    status: await redis.eval("return redis.status_reply('FINE')", 0),
    bool_true: await redis.eval('return true', 0),
    bool_false: await redis.eval('return false', 0),
    nil: await redis.eval('return nil', 0),
    error: await settle(redis.eval("return redis.error_reply('MY failure')", 0)),
    call_error: await settle(redis.eval("return redis.call('INCR', KEYS[1])", 1, 'm:text')),
    pcall: await redis.eval("local r = redis.pcall('INCR', KEYS[1]); return r['err']", 1, 'm:text'),
  }));

  await check('eval.writes', async () => ({
    eval: await redis.eval(
      "redis.call('SET', KEYS[1], ARGV[1]); redis.call('EXPIRE', KEYS[1], 60); return redis.call('INCRBY', KEYS[1], 2)",
      1, 'e:count', '40'),
    get: await redis.get('e:count'),
    ttl_ok: (await redis.ttl('e:count')) > 55,
  }));

  // ---- defineCommand: EVALSHA, and EVAL when the server answers NOSCRIPT ----------

  redis.defineCommand('incrCapped', {
    numberOfKeys: 1,
    lua: `local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[2])
  return tonumber(ARGV[2])
end
return n`,
  });

  await check('define_command.calls', async () => ({
    first: await redis.incrCapped('d:n', 4, 10),
    second: await redis.incrCapped('d:n', 4, 10),
    capped: await redis.incrCapped('d:n', 4, 10),
  }));

  // After SCRIPT FLUSH the EVALSHA answers NOSCRIPT and ioredis sends EVAL.
  await check('define_command.after_script_flush', async () => {
    const flush = await redis.script('FLUSH');
    const again = await redis.incrCapped('d:m', 7, 10);
    return { flush, again };
  });

  await check('define_command.in_multi', async () =>
    redis.multi().incrCapped('d:x', 6, 10).incrCapped('d:x', 6, 10).get('d:x').exec());

  await check('script.load_exists', async () => {
    const sha = await redis.script('LOAD', 'return 42');
    return {
      sha,
      exists: await redis.script('EXISTS', sha, 'ffffffffffffffffffffffffffffffffffffffff'),
      evalsha: await redis.evalsha(sha, 0),
      missing: await settle(redis.evalsha('ffffffffffffffffffffffffffffffffffffffff', 0)),
    };
  });

  // ---- Hashes ---------------------------------------------------------------------

  await check('hashes.basic', async () => ({
    hset: await redis.hset('h:user:42', { name: 'Ada', plan: 'pro', logins: '1' }),
    hset_pairs: await redis.hset('h:user:42', 'plan', 'team', 'country', 'UK'),
    hincrby: await redis.hincrby('h:user:42', 'logins', 4),
    hincrbyfloat: await redis.hincrbyfloat('h:user:42', 'spent', '1.25'),
    hget: await redis.hget('h:user:42', 'name'),
    hmget: await redis.hmget('h:user:42', 'name', 'nope', 'plan'),
    hgetall: await redis.hgetall('h:user:42'),
    hdel: await redis.hdel('h:user:42', 'country', 'nope'),
    hlen: await redis.hlen('h:user:42'),
    hexists: [await redis.hexists('h:user:42', 'name'), await redis.hexists('h:user:42', 'nope')],
    hsetnx: [await redis.hsetnx('h:user:42', 'name', 'Bob'), await redis.hsetnx('h:user:42', 'team', 'core')],
    wrongtype: await settle(redis.get('h:user:42')),
    hincrby_text: await settle(redis.hincrby('h:user:42', 'name', 1)),
  }));

  // ---- Sorted sets: a leaderboard ------------------------------------------------------

  await check('zsets.leaderboard', async () => ({
    zadd: await redis.zadd('z:board', 10, 'alice', 20, 'bob', 15, 'carol'),
    zadd_update: await redis.zadd('z:board', 12, 'alice', 1, 'dave'),
    zincrby: await redis.zincrby('z:board', 5, 'alice'),
    zincrby_fraction: await redis.zincrby('z:board', '0.5', 'dave'),
    top3: await redis.zrevrange('z:board', 0, 2, 'WITHSCORES'),
    all: await redis.zrange('z:board', 0, -1),
    zrank: [await redis.zrank('z:board', 'alice'), await redis.zrank('z:board', 'nobody')],
    zrevrank: await redis.zrevrank('z:board', 'alice'),
    zscore: [await redis.zscore('z:board', 'alice'), await redis.zscore('z:board', 'nobody')],
    zcard: await redis.zcard('z:board'),
    zcount: await redis.zcount('z:board', 10, '+inf'),
    zrangebyscore: await redis.zrangebyscore('z:board', '(12', 20, 'WITHSCORES'),
    zrem: await redis.zrem('z:board', 'dave', 'nobody'),
    zadd_bad_score: await settle(redis.zadd('z:board', 'high', 'eve')),
  }));

  // ---- mset / msetnx -------------------------------------------------------------------

  await check('strings.mset', async () => ({
    mset: await redis.mset({ 's:a': '1', 's:b': '2' }),
    mset_pairs: await redis.mset('s:c', '3', 's:d', '4'),
    msetnx_taken: await redis.msetnx('s:d', 'x', 's:e', '5'),
    msetnx_free: await redis.msetnx('s:e', '5', 's:f', '6'),
    mget: await redis.mget('s:a', 's:b', 's:c', 's:d', 's:e', 's:f', 's:g'),
    mset_odd: await settle(redis.call('MSET', 's:a', '1', 's:b')),
  }));

  // ---- tally's own commands (against tallyd only) --------------------------------------

  if (tally) {
    await check('tally.ctr_incrby_morph_owner', async () => [
      await redis.call('CTR.INCRBY', 'App\\Models\\Post:1', 'downloads', '2'),
      await redis.call('CTR.GET', 'App\\Models\\Post:1', 'downloads'),
    ]);
  }

  await check('server.flushdb', async () => ({
    flushdb: await redis.flushdb(),
    dbsize: await redis.dbsize(),
  }));

  redis.disconnect();
  other.disconnect();
}

main().catch((error) => {
  console.error('FAIL', error);
  process.exit(1);
});
