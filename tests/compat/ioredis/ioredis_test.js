// ioredis, unchanged, against a running tallyd: any Redis client library
// must work with tallyd without changes. Usage:
//   node ioredis_test.js <port> <node_modules dir>
// Prints "ok <check>" per check; exits non-zero at the first failure.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');

const port = Number(process.argv[2]);
const Redis = require(path.join(process.argv[3], 'ioredis'));

const { check } = require('./check.js');

async function main() {
  // connectionName and db make ioredis send CLIENT SETNAME and SELECT on
  // connect; its ready check reads INFO's "loading" field.
  const redis = new Redis({ host: '127.0.0.1', port, connectionName: 'compat', db: 0, maxRetriesPerRequest: 1 });

  await check('PING', async () => assert.equal(await redis.ping(), 'PONG'));

  await check('SET with EX, GET, TTL', async () => {
    assert.equal(await redis.set('greeting', 'hello', 'EX', 60), 'OK');
    assert.equal(await redis.get('greeting'), 'hello');
    const ttl = await redis.ttl('greeting');
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
    assert.equal(await redis.get('missing'), null);
  });

  await check('SET NX as a lock', async () => {
    assert.equal(await redis.set('lock', 'me', 'PX', 5000, 'NX'), 'OK');
    assert.equal(await redis.set('lock', 'you', 'PX', 5000, 'NX'), null);
  });

  await check('INCR, INCRBY, DECR, DECRBY', async () => {
    assert.equal(await redis.incr('views'), 1);
    assert.equal(await redis.incrby('views', 41), 42);
    assert.equal(await redis.decr('views'), 41);
    assert.equal(await redis.decrby('views', 40), 1);
  });

  await check('error replies reject, the connection stays usable', async () => {
    await redis.set('text', 'abc');
    await assert.rejects(redis.incr('text'), /ERR value is not an integer or out of range/);
    await assert.rejects(redis.call('NO.SUCH.COMMAND'), /ERR unknown command/);
    await assert.rejects(redis.call('INCRBY', 'views'), /ERR wrong number of arguments for 'incrby' command/);
    assert.equal(await redis.ping(), 'PONG');
  });

  await check('MGET, EXISTS, DEL', async () => {
    await redis.set('a', '1');
    await redis.set('b', '2');
    assert.deepEqual(await redis.mget('a', 'b', 'nope'), ['1', '2', null]);
    assert.equal(await redis.exists('a', 'b', 'nope'), 2);
    assert.equal(await redis.del('a', 'b', 'nope'), 2);
  });

  await check('a pipeline of 500 commands keeps reply order', async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 500; ++i) pipeline.incr('piped');
    const results = await pipeline.exec();
    results.forEach(([error, value], i) => {
      assert.equal(error, null);
      assert.equal(value, i + 1);
    });
  });

  await check('1,000 concurrent commands', async () => {
    await Promise.all(Array.from({ length: 1000 }, () => redis.incr('concurrent')));
    assert.equal(await redis.get('concurrent'), '1000');
  });

  await check('scanStream visits every key once', async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 300; ++i) pipeline.set(`scan:${i}`, 'x');
    await pipeline.exec();
    const seen = new Set();
    await new Promise((resolve, reject) => {
      const stream = redis.scanStream({ match: 'scan:*', count: 25 });
      stream.on('data', (keys) => keys.forEach((key) => seen.add(key)));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    assert.equal(seen.size, 300);
  });

  await check('owner counters through call()', async () => {
    assert.equal(await redis.call('CTR.INCRBY', 'user:42', 'downloads', '3'), 3);
    assert.equal(await redis.call('CTR.INCRBY', 'user:42', 'downloads', '4', 'ID', 'evt-1'), 7);
    // A retried event id is not applied again.
    assert.equal(await redis.call('CTR.INCRBY', 'user:42', 'downloads', '4', 'ID', 'evt-1'), 7);
    assert.equal(await redis.call('CTR.GET', 'user:42', 'downloads', 'day'), 7);
    assert.deepEqual(await redis.call('CTR.ALL', 'user:42'), ['downloads', 7]);
    assert.deepEqual(await redis.call('CTR.TOP', 'downloads', 'total'), [['user:42', 7]]);
    const history = await redis.call('CTR.HISTORY', 'user:42', 'downloads', 'day', '2');
    assert.equal(history.length, 2);
    assert.equal(history[0][1], 7);
    await assert.rejects(redis.call('CTR.INCRBY', 'user 42', 'downloads', '1'), /invalid owner/);
  });

  await check('PFADD, PFCOUNT (one key, a union), PFMERGE', async () => {
    const day1 = [], day2 = [];
    for (let i = 0; i < 1000; i++) day1.push(`visitor:${i}`);
    for (let i = 500; i < 1500; i++) day2.push(`visitor:${i}`);
    assert.equal(await redis.pfadd('uv:day1', ...day1), 1);
    assert.equal(await redis.pfadd('uv:day1', 'visitor:3'), 0);
    assert.equal(await redis.pfadd('uv:day2', ...day2), 1);
    const one = await redis.pfcount('uv:day1');
    assert.ok(Math.abs(one - 1000) <= 25, `PFCOUNT uv:day1 = ${one}`);
    const both = await redis.pfcount('uv:day1', 'uv:day2');
    assert.ok(Math.abs(both - 1500) <= 37, `PFCOUNT of the union = ${both}`);
    assert.equal(await redis.pfmerge('uv:month', 'uv:day1', 'uv:day2'), 'OK');
    assert.equal(await redis.pfcount('uv:month'), both);
    await redis.set('uv:plain', 'text');
    await assert.rejects(redis.pfadd('uv:plain', 'a'), /WRONGTYPE/);
    assert.equal(await redis.get('uv:plain'), 'text');
  });

  await check('INFO and CLIENT GETNAME', async () => {
    const info = await redis.info('persistence');
    assert.match(info, /loading:0/);
    assert.equal(await redis.client('GETNAME'), 'compat');
  });

  await check('QUIT', async () => assert.equal(await redis.quit(), 'OK'));
}

main().catch((error) => {
  console.error('FAIL', error);
  process.exit(1);
});
