// Alerts (GET /v1/alerts, kept live by the shared stream of alerts_feed.js)
// and the audit trail (GET /v1/audit): newest first, filtered by the daemon
// (a field equals the value, or starts with it when it ends in *), with an
// "Older" button for the next page.

import * as api from '../api.js';
import { h, num, time, field, select, wrap, dataTable, errorBox } from '../ui.js';
import { link } from '../router.js';
import { alerts } from '../alerts_feed.js';

const PAGE = 100;

function textFilter(name, label, value, onInput) {
  const input = h('input', { name, value, type: 'search', placeholder: 'exact, or prefix*' });
  let timer = null;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(onInput, 250); });
  return { input, el: field(label, input) };
}

// The daemon's rule, for alerts that arrive live: equal, or a prefix when the
// filter ends in *.
function fieldMatches(pattern, value) {
  if (!pattern) return true;
  const v = String(value ?? '');
  return pattern.endsWith('*') ? v.startsWith(pattern.slice(0, -1)) : v === pattern;
}

// A newest-first list read page by page: `load(before)` gives
// { records, before }. Each new filter starts a new list; the answer of an
// older filter that comes late is dropped.
function pagedList({ path, field, holder, status, render, noun }) {
  let records = [];
  let before = 0;
  let generation = 0;
  let filters = {};
  const older = h('button', { type: 'button', class: 'older', hidden: true, onclick: () => more() }, `Older ${noun}s`);

  function draw(extra) {
    status.textContent = `${num(records.length)} ${records.length === 1 ? noun : `${noun}s`}, newest first${before ? '' : ' (all there are)'}${extra || ''}`;
    holder.replaceChildren(render(records), older);
    older.hidden = !before;
  }
  async function fetchPage(reset) {
    const mine = reset ? ++generation : generation;
    status.textContent = 'Loading…';
    try {
      const page = await api.feedNewest(path, field, filters, PAGE, reset ? 0 : before);
      if (mine !== generation) return;
      records = reset ? page.records : records.concat(page.records);
      before = page.before;
      draw();
    } catch (e) {
      if (mine !== generation) return;
      holder.replaceChildren(errorBox(e));
    }
  }
  async function more() { older.disabled = true; await fetchPage(false); older.disabled = false; }
  return {
    setFilters(f) { filters = f; return fetchPage(true); },
    prepend(record) { records.unshift(record); draw(); },
    get records() { return records; },
    draw,
  };
}

export async function alertsPage(main, route) {
  alerts.unseen = 0;
  document.getElementById('alert-badge').hidden = true;
  main.append(h('h1', {}, 'Alerts'));
  const p = route.params;
  const live = h('p', { id: 'alerts-live', class: 'muted' });
  const owner = textFilter('owner', 'Owner', p.get('owner') || '', () => reload());
  const feature = textFilter('feature', 'Feature', p.get('feature') || '', () => reload());
  const kind = select('kind', [['', 'any'], 'threshold', 'credit_depleted', 'hold_expired'], p.get('kind') || '');
  kind.addEventListener('change', () => reload());
  main.append(h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter alerts', onsubmit: (e) => e.preventDefault() },
    owner.el, feature.el, field('Kind', kind)), live);
  const announcer = h('p', { class: 'muted', 'aria-live': 'polite', id: 'alerts-announce' });
  const status = h('p', { class: 'muted', id: 'alerts-status' });
  const holder = h('div');
  main.append(announcer, status, holder);
  let fresh = new Set();

  function render(rows) {
    const table = dataTable({
      caption: 'Alerts, newest first',
      columns: [
        { key: 'seq', label: 'Seq', num: true }, { key: 'time', label: 'Time', render: (a) => time(a.time) },
        { key: 'kind', label: 'Kind' },
        { key: 'owner', label: 'Owner', render: (a) => h('a', { href: link('owner', [a.owner]) }, a.owner) },
        { key: 'feature', label: 'Feature' },
        { key: 'threshold', label: 'Threshold', num: true, render: (a) => (a.threshold ? `${a.threshold} %` : '') },
        { key: 'used', label: 'Used', num: true, render: (a) => num(a.used) },
        { key: 'limit', label: 'Limit', num: true, render: (a) => num(a.limit) },
      ],
      rows,
    });
    table.id = 'alerts-table';
    for (const tr of table.tBodies[0].rows) {
      const seq = Number(tr.cells[0]?.textContent.replace(/,/g, ''));
      if (fresh.has(seq)) tr.classList.add('new');
    }
    return wrap('Alerts', table);
  }
  const list = pagedList({ path: '/v1/alerts', field: 'alerts', holder, status, render, noun: 'alert' });
  const filters = () => ({ owner: owner.input.value.trim(), feature: feature.input.value.trim(), kind: kind.value });
  function drawLive() {
    live.replaceChildren(h('span', { class: `live-dot${alerts.live ? '' : ' off'}` }),
      alerts.live ? 'Live: new alerts appear here as they are raised.' : 'Connecting to the alert stream…',
      alerts.lastError ? ` (the stream said: ${alerts.lastError}; reconnecting)` : '');
  }
  function reload() { fresh = new Set(); return list.setFilters(filters()); }
  drawLive();
  await reload();
  const unsubscribe = alerts.subscribe((alert) => {
    drawLive();
    if (!alert) return;
    announcer.textContent = `New alert: ${alert.owner} ${alert.feature} ${alert.kind}${alert.threshold ? ` at ${alert.threshold} %` : ''}`;
    alerts.unseen = 0;
    const f = filters();
    const shown = list.records;
    if (shown.length && alert.seq <= shown[0].seq) return;  // already read from the daemon
    if (fieldMatches(f.owner, alert.owner) && fieldMatches(f.feature, alert.feature) && (!f.kind || alert.kind === f.kind)) {
      fresh.add(alert.seq);
      list.prepend(alert);
    }
  });
  return unsubscribe;
}

export async function auditPage(main, route) {
  main.append(h('h1', {}, 'Audit trail'));
  const p = route.params;
  const actor = textFilter('actor', 'Actor', p.get('actor') || '', () => reload());
  const command = textFilter('command', 'Command', p.get('command') || '', () => reload());
  const owner = textFilter('owner', 'Owner', p.get('owner') || '', () => reload());
  const key = textFilter('key', 'Key', p.get('key') || '', () => reload());
  main.append(h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail', onsubmit: (e) => e.preventDefault() },
    actor.el, command.el, owner.el, key.el));
  main.append(h('p', { class: 'muted' }, 'Changes appear after the next compaction, within seconds. The actor is the name of the token that made the change.'));
  const status = h('p', { class: 'muted', 'aria-live': 'polite', id: 'audit-status' }, 'Loading…');
  const holder = h('div');
  main.append(status, holder);

  function render(rows) {
    const table = dataTable({
      caption: 'Administrative changes, newest first',
      columns: [
        { key: 'seq', label: 'Seq', num: true }, { key: 'time', label: 'Time', render: (r) => time(r.time) },
        { key: 'actor', label: 'Actor' }, { key: 'command', label: 'Command' },
        { key: 'owner', label: 'Owner', render: (r) => (r.owner ? h('a', { href: link('owner', [r.owner]) }, r.owner) : '') },
        { key: 'key', label: 'Key', render: (r) => (r.owner && r.key ? h('a', { href: link('counter', [r.owner, r.key]) }, r.key) : r.key) },
        { key: 'details', label: 'Details', render: (r) => h('code', {}, JSON.stringify(r.details)) },
      ],
      rows,
    });
    table.id = 'audit-table';
    return wrap('Audit trail', table);
  }
  const list = pagedList({ path: '/v1/audit', field: 'audit', holder, status, render, noun: 'record' });
  function reload() {
    return list.setFilters({
      actor: actor.input.value.trim(), command: command.input.value.trim(),
      owner: owner.input.value.trim(), key: key.input.value.trim(),
    });
  }
  await reload();
  return null;
}
