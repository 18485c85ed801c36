// ioredis, unchanged, against a tallyd started with a password and a reader
// password: the `password` option (AUTH <password>), `username` + `password`
// (AUTH reader <password>), a wrong password, and a reader's write refused.
// Usage:
//   node ioredis_auth_test.js <port> <node_modules dir> <password> <reader password>
// Prints "ok <check>" per check; exits non-zero at the first failure.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');

const port = Number(process.argv[2]);
const Redis = require(path.join(process.argv[3], 'ioredis'));
const password = process.argv[4];
const readerPassword = process.argv[5];

const { check } = require('./check.js');

function connect(options) {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => null,
                     lazyConnect: true, ...options });
}

async function main() {
  await check('without a password: NOAUTH', async () => {
    // No ready check: its INFO would be refused the same way, and close the connection.
    const redis = connect({ enableReadyCheck: false });
    redis.on('error', () => {});
    await redis.connect();
    await assert.rejects(redis.call('CTR.GET', 'user:1', 'views'), /NOAUTH Authentication required/);
    redis.disconnect();
  });

  await check('a wrong password is refused', async () => {
    const redis = connect({ password: 'not-it', enableReadyCheck: false });
    const errors = [];
    redis.on('error', (error) => errors.push(String(error)));
    await redis.connect().catch((error) => errors.push(String(error)));
    await assert.rejects(redis.call('CTR.GET', 'user:1', 'views'));
    assert.ok(errors.some((e) => /WRONGPASS/.test(e)), `errors: ${errors}`);
    redis.disconnect();
  });

  const admin = connect({ password });
  await check('the password option: the default user writes', async () => {
    await admin.connect();
    assert.equal(await admin.call('CTR.INCRBY', 'user:1', 'views', '3'), 3);
    assert.equal(await admin.set('k', 'v'), 'OK');
  });

  const reader = connect({ username: 'reader', password: readerPassword });
  await check('username reader: reads', async () => {
    await reader.connect();
    assert.equal(await reader.call('CTR.GET', 'user:1', 'views'), 3);
    assert.equal(await reader.get('k'), 'v');
  });

  await check('the reader cannot write, and nothing changes', async () => {
    await assert.rejects(reader.call('CTR.INCRBY', 'user:1', 'views', '1'),
                         /NOPERM User reader has no permissions to run the 'ctr.incrby' command/);
    await assert.rejects(reader.set('k', 'w'), /NOPERM/);
    assert.equal(await admin.call('CTR.GET', 'user:1', 'views'), 3);
    assert.equal(await admin.get('k'), 'v');
  });

  admin.disconnect();
  reader.disconnect();
}

main().catch((error) => {
  console.error('FAIL', error);
  process.exit(1);
});
