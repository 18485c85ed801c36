// Overview: GET /v1/stats every 2 s. Commands per second is the change of
// the daemon's own processed-commands counter between two samples.

import * as api from '../api.js';
import { h, num, bytes, duration, time, wrap, errorBox } from '../ui.js';
import { sparkline } from '../chart.js';

const INTERVALS = ['total', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

function card(title, big, ...sub) {
  return h('section', { class: 'card', 'aria-label': title }, h('h2', {}, title), h('div', { class: 'big' }, big),
    sub.filter(Boolean).map((s) => h('div', { class: 'sub' }, s)));
}

function meter(label, used, limit) {
  const pct = limit ? Math.min(100, (used / limit) * 100) : 0;
  const bar = h('div', { class: 'bar', role: 'meter', 'aria-label': label, 'aria-valuemin': 0,
    'aria-valuemax': limit, 'aria-valuenow': used, 'aria-valuetext': `${bytes(used)} of ${bytes(limit)}` },
  h('span', { class: 'plan' }));
  bar.firstChild.style.width = `${pct.toFixed(1)}%`;
  return bar;
}

export async function overviewPage(main) {
  main.append(h('h1', {}, 'Overview'));
  const status = h('p', { class: 'muted', 'aria-live': 'off' });
  const body = h('div');
  main.append(status, body);
  let previous = null;
  const rates = [];
  let timer = null;
  let stopped = false;

  async function refresh() {
    let stats;
    try {
      stats = await api.get('/v1/stats');
    } catch (e) {
      body.replaceChildren(errorBox(e));
      return;
    }
    const now = performance.now();
    const processed = stats.command_totals.processed;
    let rate = null;
    if (previous && now > previous.at) {
      rate = Math.max(0, ((processed - previous.processed) * 1000) / (now - previous.at));
      rates.push(rate);
      if (rates.length > 60) rates.shift();
    }
    previous = { at: now, processed };
    status.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshed every 2 s`;
    const s = stats.server;
    const c = stats.connections;
    const log = stats.log;
    const comp = stats.compaction;
    const mem = stats.memory;
    const cells = stats.cells;
    const budgetUsed = mem.rocksdb_cache_bytes;
    const sinceCompaction = comp.last_success_ms ? duration((Date.now() - comp.last_success_ms) / 1000) : 'never';
    // Stored cells are counted by tallyd in the background after
    // compactions; the changed ones since the last compaction are live.
    const counted = cells.stored_cells_counted_ms
      ? `stored as counted at ${new Date(cells.stored_cells_counted_ms).toLocaleTimeString()} (recounted after compactions, at most every 10 s)`
      : 'stored cells: not counted yet (the first count runs after start)';
    const byInterval = h('table', {}, h('caption', { class: 'muted' }, `Cells ${counted}, and changed since the last compaction`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'cells'), INTERVALS.map((i) => h('th', { scope: 'col', class: 'num' }, i)))),
      h('tbody', {},
        h('tr', {}, h('th', { scope: 'row' }, 'stored'),
          INTERVALS.map((i) => h('td', { class: 'num' }, cells.stored_cells_counted_ms ? num(cells.stored_cells[i]) : '…'))),
        h('tr', {}, h('th', { scope: 'row' }, 'changed, not compacted yet'),
          INTERVALS.map((i) => h('td', { class: 'num' }, num(cells.pending_cells[i]))))));
    const rateCard = card('Commands / s', rate === null ? '…' : num(Math.round(rate)),
      `${num(processed)} since start`);
    rateCard.append(sparkline('Commands per second, last 2 minutes', rates));
    body.replaceChildren(
      h('div', { class: 'cards' },
        card('Version', s.version, `pid ${s.pid}`, s.ready ? 'ready' : 'not ready'),
        card('Uptime', duration(s.uptime_seconds), `since ${time(s.started_at)}`),
        rateCard,
        card('Connections', num(c.resp.open + c.http.open), `line protocol ${num(c.resp.open)} · HTTP ${num(c.http.open)}`,
          `${num(c.http.requests)} HTTP requests`),
        card('Log', log.write_state === 'ok' ? 'healthy' : log.write_state,
          `${num(log.uncompacted_entries)} entries waiting for compaction`, `${bytes(log.bytes)} written`),
        card('Compaction', `${num(comp.runs)} runs`, `last ${sinceCompaction} ago, ${num(comp.last_duration_us)} µs`,
          comp.failures ? `${num(comp.failures)} failures` : 'no failures'),
        (() => {
          const m = card('Memory', bytes(mem.rss_bytes), `budget ${bytes(mem.limit_bytes)}: cache and memtables use ${bytes(budgetUsed)}`,
            `${bytes(mem.outside_budget_bytes)} outside the budget`);
          m.append(meter('RocksDB cache and memtables against memory_limit', budgetUsed, mem.limit_bytes));
          return m;
        })(),
        card('Owners', num(cells.owners), `${num(cells.counters_in_memory)} counters in memory`,
          `${num(stats.keyspace.keys)} plain keys`),
      ),
      h('h2', {}, 'Cells by interval'),
      wrap('Cells by interval', byInterval),
    );
  }

  async function loop() {
    if (stopped) return;
    if (!document.hidden) await refresh();
    if (!stopped) timer = setTimeout(loop, 2000);
  }
  await loop();
  return () => { stopped = true; clearTimeout(timer); };
}
