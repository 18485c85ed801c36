// End-to-end tests of tallyd's dashboard in headless Chromium (Debian's
// chromium, driven by playwright-core), against a real tallyd started by
// dashboard_e2e_test.cc with a named admin token (e2e-ops: the audit trail
// must record that name for the page's changes) and the shared read-only
// token.
//
//   node dashboard_test.js <base-url> <admin-token> <reader-token> <screenshot-dir> <chromium> <node_modules>
//
// Prints "ok <check>" per passed check and "FAIL <check>: <why>" per failed
// one; exits 1 if any failed. Every page must load with no console error, no
// uncaught exception and no failed request (checked at the end).

'use strict';

const path = require('path');
const fs = require('fs');

const [base, adminToken, readerToken, shots, chromiumPath, modules] = process.argv.slice(2);
const adminName = 'e2e-ops';  // the named token's name (dashboard_e2e_test.cc)
const { chromium } = require(path.join(modules, 'playwright-core'));

let failures = 0;
const problems = [];  // console errors, page errors, failed requests

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

function assert(cond, message) { if (!cond) throw new Error(message); }
function equal(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// The API directly (seeding, and checking what the page did).
async function call(method, route, body, token = adminToken) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: response.status, data };
}
async function ok(method, route, body) {
  const r = await call(method, route, body);
  if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

async function until(what, fn, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function seed() {
  const now = Date.now();
  const owners = [];
  for (let i = 1; i <= 120; i++) owners.push(`user:${String(i).padStart(3, '0')}`);
  // 120 users with downloads = their number; every third also has views.
  await Promise.all(owners.map((owner, i) => ok('POST', `/v1/owners/${owner}/counters/downloads/increment`, { by: i + 1 })));
  await Promise.all(owners.filter((_, i) => i % 3 === 0).map((owner) => ok('POST', `/v1/owners/${owner}/counters/views/increment`, { by: 7 })));
  // History for the charts: user:001's downloads on 20 past days.
  for (let d = 1; d <= 20; d++) {
    await ok('POST', '/v1/owners/user:001/counters/downloads/increment', { by: d, at: now - d * 86400000 });
  }
  await ok('PUT', '/v1/plans/pro', { features: { api_calls: { limit: 1000, period: 'month', alerts: [80, 95, 100] }, tokens: { limit: 50000, period: 'day' } } });
  await ok('PUT', '/v1/plans/free', { features: { api_calls: { limit: 100, period: 'month' } } });
  await ok('PUT', '/v1/owners/team:7/plan', { plan: 'pro' });
  await ok('POST', '/v1/owners/team:7/quotas/api_calls/consume', { amount: 700, id: 'seed-1' });
  await ok('POST', '/v1/owners/team:7/quotas/tokens/consume', { amount: 12000 });
  // 105 audited changes of owners audit:NNN: more than one page of the audit trail.
  for (let i = 1; i <= 105; i++) await ok('PUT', `/v1/owners/audit:${String(i).padStart(3, '0')}/counters/seeded`, { value: i });
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  await seed();
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });

  async function newPage(viewport) {
    const context = await browser.newContext({ viewport: viewport || { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
    page.on('requestfailed', (r) => {
      // The alert stream is cut when a page closes: not a failure.
      if (r.url().includes('/v1/alerts/stream') && r.failure()?.errorText === 'net::ERR_ABORTED') return;
      problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    return page;
  }
  // In-page navigation (the router), as a click on a link does.
  async function nav(page, hash, ready) {
    await page.evaluate((h) => { location.hash = h; }, hash);
    if (ready) await page.waitForSelector(ready);
  }
  // Without the notices of the last actions (they fade on their own).
  async function shot(page, name, fullPage = true) {
    await page.evaluate(() => document.getElementById('toast').replaceChildren());
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
  }
  async function signIn(page, token) {
    await page.goto(`${base}/`);
    await page.waitForSelector('#signin[open]');
    await page.fill('#signin-token', token);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#identity');
  }

  const page = await newPage();

  await check('the dashboard asks for a token and refuses a wrong one', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#signin[open]');
    await shot(page, 'signin');
    await page.fill('#signin-token', 'not-the-token');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#signin-error:not([hidden])');
    equal(await page.$('#signin-name'), null, 'no free-text name to type: the token names its holder');
    await page.fill('#signin-token', adminToken);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#identity');
    equal(await page.textContent('#identity'), `Signed in as ${adminName} (admin)`, 'identity');
  });

  await check('overview shows the daemon\'s figures, live', async () => {
    const stats = (await call('GET', '/v1/stats')).data;
    await page.waitForSelector('.cards');
    const text = await page.textContent('main');
    assert(text.includes(stats.server.version), `version ${stats.server.version} not shown`);
    for (const title of ['Uptime', 'Commands / s', 'Connections', 'Log', 'Compaction', 'Memory', 'Owners']) {
      assert(await page.$(`section[aria-label="${title}"]`), `no ${title} card`);
    }
    // Refreshed without a reload: the commands/s figure appears after the second sample.
    await page.waitForFunction(() => !document.querySelector('section[aria-label="Commands / s"] .big').textContent.includes('…'), null, { timeout: 6000 });
    await shot(page, 'overview');
  });

  const rowsOf = (p) => p.$$eval('#counters-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));

  await check('counters table: filters by owner type, key and interval', async () => {
    await nav(page, '#/counters', '#counters-table');
    await page.fill('input[name=type]', 'user');
    await page.fill('input[name=key]', 'downloads');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('key=downloads'));
    await page.waitForSelector('#counters-table');
    let rows = await rowsOf(page);
    equal(rows.length, 50, 'rows on the first page (50 owners)');
    assert(rows.every((r) => r[0].startsWith('user:') && r[1] === 'downloads' && r[2] === 'total'), `unexpected rows ${JSON.stringify(rows.slice(0, 3))}`);
    equal(rows[0][0], 'user:001', 'first owner');
    await page.fill('input[name=prefix]', 'user:01');
    await page.selectOption('select[name=interval]', 'day');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.hash.includes('interval=day'));
    await page.waitForSelector('#counters-table');
    rows = await rowsOf(page);
    equal(rows.length, 10, 'user:010..user:019 with a day cell');
    assert(rows.every((r) => r[0].startsWith('user:01') && r[2] === 'day'), `unexpected rows ${JSON.stringify(rows.slice(0, 3))}`);
  });

  await check('counters table: pagination by cursor, forward and back', async () => {
    await nav(page, '#/counters?type=user&key=downloads', '#counters-table');
    const first = await rowsOf(page);
    await page.click('button:has-text("Next →")');
    await page.waitForFunction(() => document.querySelector('#table-status')?.textContent.startsWith('Page 2'));
    const second = await rowsOf(page);
    equal(second.length, 50, 'rows on page 2');
    equal(second[0][0], 'user:051', 'first owner of page 2');
    await page.click('button:has-text("Next →")');
    await page.waitForFunction(() => document.querySelector('#table-status')?.textContent.startsWith('Page 3'));
    const third = await rowsOf(page);
    equal(third.length, 20, 'rows on the last page');
    assert(await page.isDisabled('button:has-text("Next →")'), 'Next is disabled on the last page');
    await page.click('button:has-text("← Previous")');
    await page.waitForFunction(() => document.querySelector('#table-status')?.textContent.startsWith('Page 2'));
    equal((await rowsOf(page))[0][0], 'user:051', 'back on page 2');
    await page.click('button:has-text("← Previous")');
    await page.waitForFunction(() => document.querySelector('#table-status')?.textContent.startsWith('Page 1'));
    equal(JSON.stringify(await rowsOf(page)), JSON.stringify(first), 'back on page 1');
    await shot(page, 'counters', false);
  });

  await check('counters table: sorting by value, both ways', async () => {
    await page.click('th button.sort:has-text("Value")');
    await page.waitForSelector('th[aria-sort="ascending"]');
    let values = (await rowsOf(page)).map((r) => Number(r[4].replace(/,/g, '')));
    assert(values.every((v, i) => i === 0 || values[i - 1] <= v), `not ascending: ${values.slice(0, 8)}`);
    await page.click('th button.sort:has-text("Value")');
    await page.waitForSelector('th[aria-sort="descending"]');
    values = (await rowsOf(page)).map((r) => Number(r[4].replace(/,/g, '')));
    assert(values.every((v, i) => i === 0 || values[i - 1] >= v), `not descending: ${values.slice(0, 8)}`);
    equal(values[0], 211, 'largest on page 1 (user:001: 1 now and 1 + ... + 20 on past days)');
  });

  await check('counters table: keyboard only', async () => {
    await nav(page, '#/counters?type=user&key=downloads', '#counters-table');
    await page.evaluate(() => document.activeElement.blur());
    // Tab from the top of the page to the table's first row.
    let where = '';
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      where = await page.evaluate(() => {
        const el = document.activeElement;
        if (el.tagName === 'TR' && el.closest('#counters-table')) return 'row';
        if (el.matches('th button.sort') && el.textContent === 'Value') return 'sort-value';
        return '';
      });
      if (where === 'sort-value') {
        await page.keyboard.press('Enter');  // sort by value with the keyboard
        await page.waitForSelector('th[aria-sort="ascending"]');
        await page.evaluate(() => document.activeElement.blur());
        await page.focus('th[aria-sort="ascending"] button');
      }
      if (where === 'row') break;
    }
    equal(where, 'row', 'Tab reaches the table rows');
    const label = () => page.evaluate(() => document.activeElement.getAttribute('aria-label'));
    const firstLabel = await label();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const third = await label();
    assert(third !== firstLabel, 'ArrowDown moves');
    await page.keyboard.press('End');
    const last = await label();
    await page.keyboard.press('Home');
    equal(await label(), firstLabel, 'Home: first row');
    assert(last !== firstLabel, 'End moves to the last row');
    await page.keyboard.press('ArrowDown');
    const [owner, key] = (await label()).split(' ');
    await page.keyboard.press('Enter');
    await page.waitForFunction((o) => location.hash.startsWith(`#/counter/${encodeURIComponent(o)}/`), owner);
    await page.waitForSelector('.charts');
    assert((await page.textContent('h1')).includes(`${key} of ${owner}`), 'Enter opens the counter');
  });

  await check('counter page: totals and history charts for hour, day, week and month', async () => {
    await nav(page, `#/counter/${encodeURIComponent('user:001')}/downloads`, '.charts');
    for (const interval of ['hour', 'day', 'week', 'month']) {
      assert(await page.$(`figure[data-interval="${interval}"] svg rect`), `no ${interval} bars`);
    }
    const api = (await call('GET', '/v1/owners/user:001/counters/downloads/history?interval=day&count=30')).data;
    const sum = api.history.reduce((s, p) => s + p.value, 0);
    assert((await page.textContent('figure[data-interval="day"] figcaption')).includes(`sum ${sum.toLocaleString('en-US')}`), 'day chart sum');
    await shot(page, 'counter');
  });

  await check('reset through the page changes the value and is in the audit trail', async () => {
    await nav(page, `#/counter/${encodeURIComponent('user:005')}/downloads`, '.charts');
    equal(await page.textContent('.cell-value[data-interval="total"]'), '5', 'total before');
    await page.click('tr:has(.cell-value[data-interval="total"]) button:has-text("Reset")');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => document.querySelector('.cell-value[data-interval="total"]')?.textContent === '0');
    equal((await call('GET', '/v1/owners/user:005/counters/downloads')).data.value, 0, 'the API reads 0');
    await nav(page, '#/audit', '#audit-table');
    await until('the reset in the audit trail', async () => {
      await nav(page, '#/overview', '.cards');
      await nav(page, '#/audit', '#audit-table');
      const rows = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
      // Newest first: the reset is the first row, recorded under the token's name.
      const first = rows[0] || [];
      return first[3] === 'CTR.RESET' && first[4] === 'user:005' && first[5] === 'downloads' && first[2] === adminName;
    });
    // Filters go to the daemon (any case for the command): only resets come back.
    await page.fill('input[name=command]', 'ctr.reset');
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll('#audit-table tbody tr')];
      return trs.length >= 1 && trs.every((tr) => tr.cells[3]?.textContent === 'CTR.RESET');
    });
    await page.fill('input[name=command]', '');
    await page.fill('input[name=owner]', 'audit:*');
    // 105 seeded records: a page of 100, then the 5 older ones.
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll('#audit-table tbody tr')];
      return trs.length === 100 && trs.every((tr) => tr.cells[4]?.textContent.startsWith('audit:')) &&
        !document.querySelector('button.older')?.hidden;
    });
    await page.click('button.older');
    await page.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length === 105 &&
      document.querySelector('button.older')?.hidden);
    const seqs = await page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => Number(tr.cells[0].textContent.replace(/,/g, ''))));
    assert(seqs.every((s, i) => i === 0 || s < seqs[i - 1]), 'newest first across pages');
    await page.fill('input[name=owner]', '');
    await page.waitForFunction(() => document.querySelector('#audit-table tbody tr td:nth-child(4)')?.textContent === 'CTR.RESET');
    await shot(page, 'audit');
  });

  await check('edit through the page sets the value', async () => {
    await nav(page, '#/counters?type=user&key=downloads', '#counters-table');
    await page.click('#counters-table tbody tr:nth-child(3) button:has-text("Edit")');
    await page.fill('dialog[open] input[name=value]', '4242');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await until('the new value', async () => (await call('GET', '/v1/owners/user:003/counters/downloads')).data.value === 4242);
    await page.waitForFunction(() => document.querySelector('#counters-table tbody tr:nth-child(3) td:nth-child(5)')?.textContent === '4,242');
  });

  await check('delete through the page removes every cell, after a confirmation', async () => {
    await nav(page, `#/counter/${encodeURIComponent('user:009')}/downloads`, '.charts');
    await page.click('button:has-text("Delete counter")');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm button[value=cancel]');  // cancelled: nothing changes
    equal((await call('GET', '/v1/owners/user:009/counters/downloads')).data.value, 9, 'kept after Cancel');
    await page.click('button:has-text("Delete counter")');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => [...document.querySelectorAll('.cell-value')].every((c) => c.textContent === '0'));
    equal((await call('GET', '/v1/owners/user:009/counters/downloads?interval=day')).data.value, 0, 'day cell gone');
    await until('the delete in the audit trail', async () =>
      (await call('GET', '/v1/audit?since=0&limit=1000')).data.audit.find((r) => r.command === 'CTR.DEL' && r.owner === 'user:009' && r.actor === adminName));
  });

  await check('CSV and NDJSON export of the current filter', async () => {
    await nav(page, '#/counters?type=user&key=views', '#counters-table');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Export CSV")')]);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    equal(csv[0], 'owner,key,interval,period,value', 'CSV header');
    equal(csv.length, 41, 'header + 40 owners with views');
    assert(csv.slice(1).every((line) => /^user:\d+,views,total,total,7$/.test(line)), `CSV rows ${csv.slice(1, 3)}`);
    const [nd] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Export NDJSON")')]);
    const lines = fs.readFileSync(await nd.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    equal(lines.length, 40, 'NDJSON lines');
  });

  await check('top owners for a key, a period and a range, paged', async () => {
    await nav(page, '#/top?key=downloads&interval=day&limit=25', '#main table');
    const rows = () => page.$$eval('main table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    let r = await rows();
    equal(r.length, 25, 'ranks on page 1');
    equal(r[0][1], 'user:120', 'first');
    equal(r[1][1], 'user:119', 'second');
    await page.click('button:has-text("Next →")');
    await page.waitForFunction(() => location.hash.includes('offset=25'));
    await page.waitForSelector('main table');
    r = await rows();
    equal(r[0][0], '26', 'rank 26 starts page 2');
    await shot(page, 'top');
    const from = new Date(Date.now() - 6 * 86400000).toISOString().slice(0, 10);
    await nav(page, `#/top?key=downloads&interval=day&from=${from}&to=current&prefix=user:00`, '#main table');
    r = await rows();
    equal(r[0][1], 'user:001', 'user:001 leads the last 7 days (its history)');
    // From the counters table filtered by a key: the link to the ranking by value.
    await nav(page, '#/counters?type=user&key=downloads&interval=day', '#counters-table');
    await page.click('#rank-by-value');
    await page.waitForFunction(() => location.hash.startsWith('#/top') && location.hash.includes('key=downloads') &&
      location.hash.includes('interval=day'));
    await page.waitForSelector('main table');
    r = await rows();
    equal(r[0][1], 'user:120', 'the ranking the counters table links to');
  });

  await check('plans with their limits', async () => {
    await nav(page, '#/plans', '#main table');
    const text = await page.textContent('main');
    assert(text.includes('pro') && text.includes('free') && text.includes('1,000') && text.includes('50,000'), 'plans and limits shown');
    await shot(page, 'plans');
  });

  const figures = (p, feature) => p.textContent(`section[data-feature="${feature}"] .usage-figures`);

  await check('a grant through the page changes the usage bars', async () => {
    await nav(page, `#/owner/${encodeURIComponent('team:7')}`, 'section[data-feature="api_calls"]');
    equal(await figures(page, 'api_calls'), '700 used', 'used before');
    const before = await page.$$eval('section[data-feature="api_calls"] .bar span', (s) => s.map((x) => x.className));
    assert(!before.includes('free-credit'), 'no credits before');
    await page.fill('#grant-form input[name=amount]', '500');
    await page.fill('#grant-form input[name=in]', '30d');
    await page.fill('#grant-form input[name=reason]', 'e2e top-up');
    await page.click('#grant-form button[type=submit]');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForSelector('section[data-feature="api_calls"] .bar span.free-credit[data-amount="500"]');
    assert((await page.textContent('section[data-feature="api_calls"]')).includes('500 in credits'), 'credits in the figures');
    const credits = (await call('GET', '/v1/owners/team:7/credits')).data.credits;
    equal(credits.length, 1, 'one grant');
    equal(credits[0].reason, 'e2e top-up', 'its reason');
    equal(credits[0].by, adminName, 'its actor');
    assert((await page.textContent('main')).includes('e2e top-up'), 'the grant is listed');
    await shot(page, 'owner');
  });

  await check('an alert raised by a consume appears without a reload', async () => {
    await nav(page, '#/alerts', '#alerts-table');
    await page.waitForFunction(() => document.querySelector('#alerts-live')?.textContent.startsWith('Live'));
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    // 700 + 150 = 850 of 1,000: the 80 % threshold.
    await ok('POST', '/v1/owners/team:7/quotas/api_calls/consume', { amount: 150 });
    await page.waitForSelector('#alerts-table tbody tr:has-text("team:7"):has-text("80 %")', { timeout: 5000 })
      .catch(async (e) => { throw new Error(`${e.message}\nthe page says: ${await page.textContent('#alerts-live')}`); });
    equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), loads, 'no reload');
    await shot(page, 'alerts');
    // On another page the badge counts it: 96 % crosses 95.
    await nav(page, '#/overview', '.cards');
    await ok('POST', '/v1/owners/team:7/quotas/api_calls/consume', { amount: 110 });
    await page.waitForSelector('#alert-badge:not([hidden])', { timeout: 5000 });
    await nav(page, '#/alerts', '#alerts-table');
    await page.fill('input[name=owner]', 'team:7');
    await page.selectOption('select[name=kind]', 'threshold');
    // Filtered by the daemon, newest first.
    await page.waitForFunction(() => [...document.querySelectorAll('#alerts-table tbody tr')].map((tr) => tr.cells[5].textContent).join() === '95 %,80 %')
      .catch(async (e) => { throw new Error(`${e.message}\nrows: ${await page.textContent('#alerts-table tbody')}`); });
    await page.fill('input[name=owner]', 'nobody*');
    await page.waitForFunction(() => document.querySelector('#alerts-table tbody')?.textContent === 'Nothing matches.');
  });

  await check('the read-only token shows no edit controls', async () => {
    const reader = await newPage();
    await signIn(reader, readerToken);
    equal(await reader.textContent('#identity'), 'Signed in as read-token (read-only)', 'identity');
    await nav(reader, '#/counters?type=user&key=downloads', '#counters-table');
    assert((await rowsOf(reader)).length >= 49, 'reads the table');
    equal(await reader.$$eval('#counters-table button:not(.sort)', (b) => b.length), 0, 'no edit buttons in the table');
    await nav(reader, `#/counter/${encodeURIComponent('user:001')}/downloads`, '.charts');
    assert(!(await reader.$('button:has-text("Reset")')) && !(await reader.$('button:has-text("Delete")')), 'no reset or delete');
    await nav(reader, `#/owner/${encodeURIComponent('team:7')}`, 'section[data-feature="api_calls"]');
    assert(!(await reader.$('#grant-form')) && !(await reader.$('button:has-text("Revoke")')), 'no grant or revoke');
    await shot(reader, 'owner-readonly');
    await reader.context().close();
  });

  await check('the API refuses the read-only token\'s edits anyway', async () => {
    const reset = await call('POST', '/v1/owners/user:007/counters/downloads/reset', {}, readerToken);
    equal(reset.status, 403, 'reset with the read token');
    const grant = await call('POST', '/v1/owners/team:7/credits', { feature: 'api_calls', amount: 5 }, readerToken);
    equal(grant.status, 403, 'grant with the read token');
    equal((await call('GET', '/v1/owners/user:007/counters/downloads')).data.value, 7, 'unchanged');
  });

  await check('a narrow screen (390 px) keeps every page usable', async () => {
    const phone = await newPage({ width: 390, height: 844 });
    await signIn(phone, adminToken);
    await nav(phone, '#/counters?type=user&key=downloads', '#counters-table');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `the page scrolls sideways by ${overflow} px (only tables may)`);
    await shot(phone, 'counters-narrow');
    await nav(phone, `#/owner/${encodeURIComponent('team:7')}`, 'section[data-feature="api_calls"]');
    await shot(phone, 'owner-narrow');
    await phone.context().close();
  });

  await check('every page loaded with no console error and no failed request', async () => {
    if (problems.length) throw new Error(problems.join('\n'));
  });

  await browser.close();
  console.log(failures ? `${failures} checks failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL setup: ${e.stack || e}`); process.exit(1); });
