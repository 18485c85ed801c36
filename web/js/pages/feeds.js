// Alerts (the shared live feed of alerts_feed.js: GET /v1/alerts, then the
// SSE stream) and the audit trail (GET /v1/audit), both filterable.

import * as api from '../api.js';
import { h, num, time, field, select, wrap, dataTable, errorBox } from '../ui.js';
import { link } from '../router.js';
import { alerts } from '../alerts_feed.js';

function textFilter(name, label, value, onInput) {
  const input = h('input', { name, value, type: 'search' });
  input.addEventListener('input', onInput);
  return { input, el: field(label, input) };
}

export async function alertsPage(main) {
  alerts.unseen = 0;
  document.getElementById('alert-badge').hidden = true;
  main.append(h('h1', {}, 'Alerts'));
  const live = h('p', { id: 'alerts-live', class: 'muted' });
  const owner = textFilter('owner', 'Owner contains', '', () => draw());
  const feature = textFilter('feature', 'Feature', '', () => draw());
  const kind = select('kind', [['', 'any'], 'threshold', 'credit_depleted', 'hold_expired'], '');
  kind.addEventListener('change', () => draw());
  main.append(h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter alerts', onsubmit: (e) => e.preventDefault() },
    owner.el, feature.el, field('Kind', kind)), live);
  const announcer = h('p', { class: 'muted', 'aria-live': 'polite', id: 'alerts-announce' });
  const holder = h('div');
  main.append(announcer, holder);
  let newest = alerts.list.length ? alerts.list[alerts.list.length - 1].seq : 0;

  function draw(added) {
    live.replaceChildren(h('span', { class: `live-dot${alerts.live ? '' : ' off'}` }),
      alerts.live ? 'Live: new alerts appear here as they are raised.' : 'Connecting to the alert stream…',
      alerts.lastError ? ` (the stream said: ${alerts.lastError}; reconnecting)` : '');
    const o = owner.input.value.trim();
    const f = feature.input.value.trim();
    const k = kind.value;
    const rows = alerts.list.filter((a) => (!o || String(a.owner).includes(o)) && (!f || a.feature === f) && (!k || a.kind === k)).reverse();
    const table = dataTable({
      caption: `${num(rows.length)} ${rows.length === 1 ? 'alert' : 'alerts'}, newest first (of the last ${num(alerts.list.length)} raised)`,
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
      if (added && seq > newest) tr.classList.add('new');
    }
    holder.replaceChildren(wrap('Alerts', table));
  }
  draw();
  const unsubscribe = alerts.subscribe((alert) => {
    if (alert) {
      announcer.textContent = `New alert: ${alert.owner} ${alert.feature} ${alert.kind}${alert.threshold ? ` at ${alert.threshold} %` : ''}`;
      alerts.unseen = 0;
    }
    draw(Boolean(alert));
    if (alert) newest = alert.seq;
  });
  return unsubscribe;
}

export async function auditPage(main, route) {
  main.append(h('h1', {}, 'Audit trail'));
  const p = route.params;
  const actor = textFilter('actor', 'Actor contains', p.get('actor') || '', () => draw());
  const command = textFilter('command', 'Command', p.get('command') || '', () => draw());
  const owner = textFilter('owner', 'Owner contains', p.get('owner') || '', () => draw());
  const key = textFilter('key', 'Key', p.get('key') || '', () => draw());
  main.append(h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail', onsubmit: (e) => e.preventDefault() },
    actor.el, command.el, owner.el, key.el));
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
  const holder = h('div');
  main.append(status, holder);
  let records;
  try {
    records = (await api.feedTail('/v1/audit', 'audit', 2000)).records;
  } catch (e) { status.replaceWith(errorBox(e)); return null; }

  function draw() {
    const a = actor.input.value.trim().toLowerCase();
    const c = command.input.value.trim().toUpperCase();
    const o = owner.input.value.trim();
    const k = key.input.value.trim();
    const rows = records.filter((r) => (!a || r.actor.toLowerCase().includes(a)) && (!c || r.command.includes(c)) &&
      (!o || r.owner.includes(o)) && (!k || r.key === k)).reverse();
    status.textContent = `${num(rows.length)} of the last ${num(records.length)} records (changes appear after the next compaction, within seconds)`;
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
    holder.replaceChildren(wrap('Audit trail', table));
  }
  draw();
  return null;
}
