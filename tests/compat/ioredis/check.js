// The step runner both ioredis scripts share: runs one named check, prints
// "ok <name>", or prints the failure and exits 1 (the C++ test reads both).
'use strict';

async function check(name, body) {
  try {
    await body();
  } catch (error) {
    console.error(`FAIL ${name}:`, error);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

module.exports = { check };
