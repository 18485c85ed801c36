// Counters: the admin table (GET /v1/counters, CTR.CELLS) with filters,
// cursor paging, sorting of the page shown, CSV/NDJSON export of the filter
// (GET /v1/export), and one counter's page: its cells now, its history for
// hour, day, week and month (CTR.HISTORY) and the edit, reset and delete
// forms, each confirmed and recorded in the audit trail (X-Actor).

import * as api from '../api.js';
import { h, num, field, select, wrap, dataTable, sortRows, toast, confirm, formDialog, errorBox } from '../ui.js';
import { barChart } from '../chart.js';
import { link, go } from '../router.js';

const INTERVALS = ['total', 'hour', 'day', 'week', 'month', 'quarter', 'year'];
const FILTERS = ['type', 'prefix', 'key', 'interval', 'period', 'limit'];

// Cursors of the pages before the current one, per filter (for "Previous").
const trail = { filter: '', cursors: [] };

function filterOf(params) {
  const f = {};
  for (const name of FILTERS) f[name] = params.get(name) || '';
  return f;
}

export async function countersPage(main, route) {
  const params = route.params;
  const f = filterOf(params);
  const cursor = params.get('cursor') || '';
  const sort = params.get('sort') ? { key: params.get('sort'), dir: params.get('dir') === 'desc' ? -1 : 1 } : null;
  const filterKey = JSON.stringify(f);
  if (trail.filter !== filterKey) { trail.filter = filterKey; trail.cursors = []; }
  if (!cursor) trail.cursors = [];

  main.append(h('h1', {}, 'Counters'));
  const inputs = {
    type: h('input', { name: 'type', value: f.type, placeholder: 'user' }),
    prefix: h('input', { name: 'prefix', value: f.prefix, placeholder: 'user:4' }),
    key: h('input', { name: 'key', value: f.key, placeholder: 'downloads' }),
    interval: select('interval', [...INTERVALS, ['all', 'all (every cell)']], f.interval || 'total'),
    period: h('input', { name: 'period', value: f.period, placeholder: 'current' }),
    limit: select('limit', [['25', '25'], ['50', '50'], ['100', '100'], ['500', '500']], f.limit || '50'),
  };
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter counters' },
    field('Owner type', inputs.type), field('Owner prefix', inputs.prefix), field('Key', inputs.key),
    field('Interval', inputs.interval), field('Period', inputs.period), field('Owners per page', inputs.limit),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    h('button', { type: 'button', onclick: () => go('counters') }, 'Clear'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = {};
    for (const [name, input] of Object.entries(inputs)) next[name] = input.value.trim();
    if (next.interval === 'total') next.interval = '';
    if (next.limit === '50') next.limit = '';
    go('counters', [], next);
  });
  main.append(form);

  const interval = f.interval || 'total';
  const apiParams = {
    type: f.type, prefix: f.prefix, key: f.key, interval,
    period: interval === 'all' ? '' : f.period, limit: f.limit || 50, cursor,
  };
  // The table is in owner order; ranking by value over every owner is the
  // top page's (the by_value index answers it in milliseconds).
  if (f.key && interval !== 'all') {
    const ranked = { key: f.key, interval };
    const ownerPrefix = f.prefix || (f.type ? `${f.type}:` : '');
    if (ownerPrefix) ranked.prefix = ownerPrefix;
    if (f.period) ranked.period = f.period;
    main.append(h('p', {}, h('a', { href: link('top', [], ranked), id: 'rank-by-value' },
      `Rank every owner of ${f.key} by value (${interval}${f.period ? ` ${f.period}` : ''})`)));
  }
  const status = h('p', { class: 'muted', id: 'table-status', 'aria-live': 'polite' }, 'Loading…');
  main.append(status);
  let page;
  const started = performance.now();
  try {
    page = await api.get(`/v1/counters${api.query(apiParams)}`);
  } catch (e) {
    status.replaceWith(errorBox(e));
    return null;
  }
  const ms = Math.round(performance.now() - started);
  const pageNo = trail.cursors.length + 1;
  status.textContent = `Page ${pageNo}: ${num(page.rows.length)} cells (answered in ${ms} ms)` +
    (page.next_cursor ? '' : ' · last page');

  const canWrite = api.session.canWrite;
  const stateParams = () => {
    const p = {};
    for (const name of FILTERS) if (f[name]) p[name] = f[name];
    return p;
  };
  const columns = [
    { key: 'owner', label: 'Owner', sort: true, render: (r) => h('a', { href: link('owner', [r.owner]) }, r.owner) },
    { key: 'key', label: 'Key', sort: true, render: (r) => h('a', { href: link('counter', [r.owner, r.key]) }, r.key) },
    { key: 'interval', label: 'Interval', sort: true },
    { key: 'period', label: 'Period', sort: true },
    { key: 'value', label: 'Value', num: true, sort: true, render: (r) => num(r.value) },
  ];
  if (canWrite) {
    columns.push({
      key: 'actions', label: 'Actions', render: (r) => h('span', { class: 'row-actions' },
        h('button', { type: 'button', class: 'small', onclick: () => editCell(r, refresh) }, 'Edit'), ' ',
        h('button', { type: 'button', class: 'small', onclick: () => resetCell(r, refresh) }, 'Reset')),
    });
  }
  const refresh = () => countersPageRefresh(main, route);
  const table = dataTable({
    caption: 'Cells of the owners on this page. Arrow keys move between rows, Enter opens the counter; column buttons sort this page.',
    columns,
    rows: sortRows(page.rows, sort),
    sort,
    rowLabel: (r) => `${r.owner} ${r.key} ${r.interval} ${r.period}: ${r.value}`,
    onOpen: (r) => go('counter', [r.owner, r.key]),
    onSort: (key) => {
      const dir = sort && sort.key === key && sort.dir === 1 ? 'desc' : 'asc';
      go('counters', [], { ...stateParams(), cursor, sort: key, dir });
    },
  });
  table.id = 'counters-table';

  const prev = h('button', { type: 'button', disabled: pageNo === 1 }, '← Previous');
  prev.addEventListener('click', () => {
    const back = trail.cursors.pop();
    go('counters', [], { ...stateParams(), cursor: back });
  });
  const next = h('button', { type: 'button', disabled: !page.next_cursor }, 'Next →');
  next.addEventListener('click', () => {
    trail.cursors.push(cursor);
    go('counters', [], { ...stateParams(), cursor: page.next_cursor });
  });
  const exportParams = { type: f.type, prefix: f.prefix, key: f.key };
  if (interval !== 'all') { exportParams.interval = interval; exportParams.period = f.period || 'current'; }
  const exporter = (format) => async () => {
    try {
      const size = await api.download(`/v1/export${api.query({ ...exportParams, format })}`, `tally-counters.${format}`);
      toast(`Exported ${num(size)} bytes as ${format.toUpperCase()}`);
    } catch (e) { toast(`Export failed: ${e.message}`, true); }
  };
  main.append(
    h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' }, prev, h('span', {}, `Page ${pageNo}`), next,
      h('span', { class: 'muted' }, '·'),
      h('button', { type: 'button', onclick: exporter('csv') }, 'Export CSV'),
      h('button', { type: 'button', onclick: exporter('ndjson') }, 'Export NDJSON')),
    wrap('Counters table', table));
  return null;
}

function countersPageRefresh(main, route) {
  main.replaceChildren();
  return countersPage(main, route);
}

async function editCell(row, done) {
  const values = await formDialog(`Set ${row.owner} ${row.key} (${row.interval} ${row.period})`, [
    { name: 'value', label: 'New value', type: 'number', value: row.value, required: true },
  ], 'Review');
  if (!values) return;
  const value = Number(values.value);
  if (!(await confirm('Set this cell?', `${row.owner} ${row.key}, ${row.interval} ${row.period}: ${row.value} → ${value}. The change is recorded in the audit trail as ${api.actor()}.`, 'Set value'))) return;
  try {
    const body = { value };
    if (row.interval !== 'total') { body.interval = row.interval; body.period = row.period; }
    await api.put(`/v1/owners/${api.seg(row.owner)}/counters/${api.seg(row.key)}`, body);
    toast(`Set ${row.owner} ${row.key} to ${num(value)}`);
    done();
  } catch (e) { toast(`Not changed: ${e.message}`, true); }
}

async function resetCell(row, done) {
  if (!(await confirm('Reset this cell to 0?', `${row.owner} ${row.key}, ${row.interval === 'total' ? 'total' : `${row.interval} ${row.period}`} (now ${num(row.value)}). The change is recorded in the audit trail as ${api.actor()}.`, 'Reset'))) return;
  try {
    const body = row.interval === 'total' ? {} : { interval: row.interval, period: row.period };
    await api.post(`/v1/owners/${api.seg(row.owner)}/counters/${api.seg(row.key)}/reset`, body);
    toast(`Reset ${row.owner} ${row.key} (${row.interval === 'total' ? 'total' : `${row.interval} ${row.period}`})`);
    done();
  } catch (e) { toast(`Not reset: ${e.message}`, true); }
}

// ---- one counter ---------------------------------------------------------------

const HISTORY = [['hour', 48, 'Last 48 hours'], ['day', 30, 'Last 30 days'], ['week', 26, 'Last 26 weeks'], ['month', 12, 'Last 12 months']];

export async function counterPage(main, route) {
  const [owner, key] = route.args;
  if (!owner || !key) { go('counters'); return null; }
  const base = `/v1/owners/${api.seg(owner)}/counters/${api.seg(key)}`;
  document.title = `${owner} ${key} · tally`;
  main.append(h('p', {}, h('a', { href: '#/counters' }, '← Counters')),
    h('h1', {}, `${key} of `, h('a', { href: link('owner', [owner]) }, owner)));
  let cells;
  let histories;
  try {
    [cells, histories] = await Promise.all([
      Promise.all(INTERVALS.map((interval) => api.get(`${base}${api.query({ interval })}`))),
      Promise.all(HISTORY.map(([interval, count]) => api.get(`${base}/history${api.query({ interval, count })}`))),
    ]);
  } catch (e) {
    main.append(errorBox(e));
    return null;
  }
  const refresh = () => { main.replaceChildren(); counterPage(main, route); };
  const canWrite = api.session.canWrite;
  const columns = [
    { key: 'interval', label: 'Interval' },
    { key: 'period', label: 'Current period' },
    { key: 'value', label: 'Value', num: true, render: (r) => h('span', { class: 'cell-value', dataset: { interval: r.interval } }, num(r.value)) },
  ];
  if (canWrite) {
    columns.push({
      key: 'actions', label: 'Actions', render: (r) => h('span', {},
        h('button', { type: 'button', class: 'small', onclick: () => editCell({ owner, key, ...r }, refresh) }, 'Edit'), ' ',
        h('button', { type: 'button', class: 'small', onclick: () => resetCell({ owner, key, ...r }, refresh) }, 'Reset')),
    });
  }
  main.append(h('h2', {}, 'Totals'), wrap('Current cells', dataTable({
    caption: `${owner} ${key}: the total and the current period of each interval`,
    columns,
    rows: cells.map((c) => ({ interval: c.interval, period: c.period, value: c.value })),
  })));
  if (canWrite) {
    main.append(h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!(await confirm('Delete this counter?', `Every cell of ${owner} ${key} (every interval and period) is removed. The change is recorded in the audit trail as ${api.actor()}.`, 'Delete counter'))) return;
        try {
          const r = await api.del(base);
          toast(`Deleted ${num(r.deleted)} cells of ${owner} ${key}`);
          refresh();
        } catch (e) { toast(`Not deleted: ${e.message}`, true); }
      } }, 'Delete counter…')));
  }
  main.append(h('h2', {}, 'History'));
  const charts = h('div', { class: 'charts' });
  HISTORY.forEach(([interval, , title], i) => {
    const points = [...histories[i].history].reverse().map((p) => ({ label: p.period, value: p.value }));
    const total = points.reduce((s, p) => s + p.value, 0);
    charts.append(h('figure', { class: 'chart', dataset: { interval } },
      h('figcaption', {}, `${title} (sum ${num(total)})`),
      barChart(`${key} of ${owner} by ${interval}, ${title.toLowerCase()}`, points),
      h('details', {}, h('summary', {}, 'Show as a table'),
        wrap(`${interval} history`, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Period'), h('th', { scope: 'col', class: 'num' }, 'Value'))),
          h('tbody', {}, points.filter((p) => p.value).map((p) => h('tr', {}, h('td', {}, p.label), h('td', { class: 'num' }, num(p.value))))))))));
  });
  main.append(charts);
  return null;
}
