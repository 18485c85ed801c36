// ioredis's pub/sub, unchanged, against a running tallyd (started with a
// short compaction interval): subscribe('alerts') and on('message') hear
// each quota alert raised after the subscription exactly once. Usage:
//   node ioredis_pubsub_test.js <port> <node_modules dir>
// Prints "ok <check>" per check; exits non-zero at the first failure.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');

const port = Number(process.argv[2]);
const Redis = require(path.join(process.argv[3], 'ioredis'));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { check } = require('./check.js');

// Resolves once `list` has `count` entries, or rejects after `ms`.
async function until(list, count, ms) {
  const deadline = Date.now() + ms;
  while (list.length < count) {
    if (Date.now() > deadline) throw new Error(`${list.length} of ${count} messages after ${ms} ms`);
    await sleep(10);
  }
}

async function main() {
  const options = { host: '127.0.0.1', port, maxRetriesPerRequest: 1 };
  const redis = new Redis(options);
  const sub = new Redis(options);
  const heard = [];
  sub.on('message', (channel, message) => heard.push({ channel, alert: JSON.parse(message) }));

  await check('subscribe resolves with the count', async () => {
    assert.equal(await sub.subscribe('alerts'), 1);
  });

  await check('a jump across 50 % and 80 % is heard once each', async () => {
    const plan = { features: { api_calls: { limit: 1000, period: 'month', alerts: [50, 80, 100] } } };
    assert.equal(await redis.call('PLAN.SET', 'pro', JSON.stringify(plan)), 'OK');
    assert.equal(await redis.call('PLAN.ASSIGN', 'user:1', 'pro'), 'OK');
    await redis.call('QUOTA.CONSUME', 'user:1', 'api_calls', '950', 'ID', 'big');
    await until(heard, 2, 10000);
    assert.deepEqual(heard.map((m) => m.channel), ['alerts', 'alerts']);
    assert.deepEqual(heard.map((m) => m.alert.threshold), [50, 80]);
    for (const { alert } of heard) {
      assert.equal(alert.kind, 'threshold');
      assert.equal(alert.owner, 'user:1');
      assert.equal(alert.feature, 'api_calls');
    }
    assert.ok(heard[1].alert.seq > heard[0].alert.seq);
  });

  await check('a retried ID is heard as nothing', async () => {
    await redis.call('QUOTA.CONSUME', 'user:1', 'api_calls', '950', 'ID', 'big');
    await sleep(700);  // several compactions (100 ms) and publisher ticks (50 ms)
    assert.equal(heard.length, 2);
  });

  await check('reaching 100 % is heard once', async () => {
    await redis.call('QUOTA.CONSUME', 'user:1', 'api_calls', '50');
    await until(heard, 3, 10000);
    assert.equal(heard[2].alert.threshold, 100);
    await sleep(500);
    assert.equal(heard.length, 3);
  });

  await check('unsubscribe resolves with the count, then no more messages', async () => {
    assert.equal(await sub.unsubscribe('alerts'), 0);
    assert.equal(await sub.ping(), 'PONG');  // out of the subscribed context
    await redis.call('PLAN.ASSIGN', 'user:2', 'pro');
    await redis.call('QUOTA.CONSUME', 'user:2', 'api_calls', '999');
    await sleep(700);
    assert.equal(heard.length, 3);
  });

  await check('an unknown channel is refused', async () => {
    await assert.rejects(sub.subscribe('alert'), /ERR unknown channel 'alert'/);
  });

  sub.disconnect();
  redis.disconnect();
}

main().catch((error) => {
  console.error('FAIL', error);
  process.exit(1);
});
