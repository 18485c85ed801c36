// Top owners of a key (GET /v1/top, CTR.TOP): one period or a range of
// periods (summed), an owner prefix, paged by offset.

import * as api from '../api.js';
import { h, num, field, select, wrap, dataTable, errorBox } from '../ui.js';
import { link, go } from '../router.js';

const INTERVALS = ['total', 'hour', 'day', 'week', 'month', 'quarter', 'year'];

export async function topPage(main, route) {
  const p = route.params;
  const f = {
    key: p.get('key') || '', interval: p.get('interval') || 'day', period: p.get('period') || '',
    from: p.get('from') || '', to: p.get('to') || '', prefix: p.get('prefix') || '', limit: p.get('limit') || '25',
  };
  const offset = Number(p.get('offset') || 0);
  main.append(h('h1', {}, 'Top owners'));
  const inputs = {
    key: h('input', { name: 'key', value: f.key, required: true, placeholder: 'downloads' }),
    interval: select('interval', INTERVALS, f.interval),
    period: h('input', { name: 'period', value: f.period, placeholder: 'current' }),
    from: h('input', { name: 'from', value: f.from, placeholder: '2026-12-01' }),
    to: h('input', { name: 'to', value: f.to, placeholder: 'current' }),
    prefix: h('input', { name: 'prefix', value: f.prefix, placeholder: 'user:' }),
    limit: select('limit', ['10', '25', '50', '100'], f.limit),
  };
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Which ranking' },
    field('Key', inputs.key), field('Interval', inputs.interval), field('Period (one)', inputs.period),
    field('From (range)', inputs.from), field('To (range)', inputs.to), field('Owner prefix', inputs.prefix),
    field('Owners per page', inputs.limit), h('button', { type: 'submit', class: 'primary' }, 'Rank'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = {};
    for (const [name, input] of Object.entries(inputs)) next[name] = input.value.trim();
    go('top', [], next);
  });
  main.append(form);
  if (!f.key) {
    main.append(h('p', { class: 'muted' }, 'Name a key to rank its owners. A range (from and to) ranks by the sum of its periods.'));
    return null;
  }
  const query = { key: f.key, interval: f.interval, prefix: f.prefix, offset, limit: f.limit };
  if (f.from || f.to) { query.from = f.from; query.to = f.to || 'current'; } else if (f.period) query.period = f.period;
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
  main.append(status);
  let page;
  const started = performance.now();
  try {
    page = await api.get(`/v1/top${api.query(query)}`);
  } catch (e) {
    status.replaceWith(errorBox(e));
    return null;
  }
  const ms = Math.round(performance.now() - started);
  const span = page.from ? `${page.from} to ${page.to}` : page.period;
  status.textContent = `${f.key}, ${page.interval} ${span}: ranks ${offset + 1}–${offset + page.owners.length} (answered in ${ms} ms)`;
  const rows = page.owners.map((o, i) => ({ rank: offset + i + 1, ...o }));
  main.append(wrap('Top owners', dataTable({
    caption: `Owners of ${f.key} by value, highest first`,
    columns: [
      { key: 'rank', label: 'Rank', num: true },
      { key: 'owner', label: 'Owner', render: (r) => h('a', { href: link('counter', [r.owner, f.key]) }, r.owner) },
      { key: 'value', label: 'Value', num: true, render: (r) => num(r.value) },
    ],
    rows,
    onOpen: (r) => go('counter', [r.owner, f.key]),
  })));
  const limit = Number(f.limit);
  const state = { ...f };
  main.append(h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' },
    h('button', { type: 'button', disabled: offset === 0, onclick: () => go('top', [], { ...state, offset: Math.max(0, offset - limit) }) }, '← Previous'),
    h('span', {}, `Page ${Math.floor(offset / limit) + 1}`),
    h('button', { type: 'button', disabled: page.owners.length < limit, onclick: () => go('top', [], { ...state, offset: offset + limit }) }, 'Next →')));
  return null;
}
