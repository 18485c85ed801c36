// Small DOM helpers: elements, numbers, tables, dialogs. No framework.

// h('a', {href: '#/x', class: 'y'}, 'text', child...) — attributes starting
// with "on" become listeners; text children are escaped by construction.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const integer = new Intl.NumberFormat('en-US');
export const num = (n) => (n === null || n === undefined ? '—' : integer.format(n));

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function duration(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${mm}m`;
  if (mm) return `${mm}m ${s % 60}s`;
  return `${s}s`;
}

export function time(iso) {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace('Z', ' UTC');
}

export function field(label, input) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

export function select(name, options, value, attrs) {
  return h('select', { name, ...attrs }, options.map((o) => {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, text);
  }));
}

export function toast(message, bad) {
  const box = document.getElementById('toast');
  const p = h('p', { class: bad ? 'bad' : '' }, message);
  box.append(p);
  setTimeout(() => p.remove(), bad ? 8000 : 4000);
}

// A modal confirmation (the <dialog id="confirm"> of index.html); resolves true on Confirm.
export function confirm(title, text, okLabel) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel || 'Confirm';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    document.getElementById('confirm-ok').focus();
  });
}

// A horizontally scrollable region around a table, reachable by keyboard.
export const wrap = (label, table) => h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: 0 }, table);

// A table whose rows are one tab stop: the arrow keys, Home and End move
// between rows, Enter runs `onOpen(row)`. Columns: {key, label, num, sort,
// render(row)}; header buttons sort the rows shown (client side).
export function dataTable({ caption, columns, rows, onOpen, sort, onSort, rowLabel }) {
  const thead = h('thead', {}, h('tr', {}, columns.map((c) => {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : '' });
    if (c.sort) {
      const state = sort && sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none';
      th.setAttribute('aria-sort', state);
      th.append(h('button', { type: 'button', class: 'sort', onclick: () => onSort(c.key) }, c.label));
    } else {
      th.textContent = c.label;
    }
    return th;
  })));
  const trs = rows.map((row, i) => h('tr', {
    tabindex: i === 0 ? 0 : -1,
    'aria-label': rowLabel ? rowLabel(row) : undefined,
  }, columns.map((c) => h('td', { class: c.num ? 'num' : '' }, c.render ? c.render(row) : row[c.key]))));
  const tbody = h('tbody', {}, trs);
  tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr');
    if (!tr || e.target !== tr) return;
    const i = trs.indexOf(tr);
    let next = -1;
    if (e.key === 'ArrowDown') next = Math.min(trs.length - 1, i + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, i - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = trs.length - 1;
    else if (e.key === 'Enter' && onOpen) { e.preventDefault(); onOpen(rows[i]); return; }
    if (next >= 0) {
      e.preventDefault();
      tr.tabIndex = -1;
      trs[next].tabIndex = 0;
      trs[next].focus();
    }
  });
  tbody.addEventListener('focusin', (e) => {
    const tr = e.target.closest('tr');
    if (!tr) return;
    for (const other of trs) other.tabIndex = other === tr ? 0 : -1;
  });
  if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'Nothing matches.')));
  return h('table', {}, h('caption', { class: 'muted' }, caption), thead, tbody);
}

export function sortRows(rows, sort) {
  if (!sort) return rows;
  const { key, dir } = sort;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
    return String(x).localeCompare(String(y)) * dir;
  });
}

export function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, `Error: ${e.message}${e.code ? ` (${e.code})` : ''}`);
}

// A modal form built on the fly; resolves with {name: value} on submit, null on cancel.
// fields: [{name, label, type, value, required, min, options}]
export function formDialog(title, fields, submitLabel, danger) {
  const inputs = fields.map((f) => {
    const input = f.options
      ? select(f.name, f.options, f.value)
      : h('input', { name: f.name, type: f.type || 'text', value: f.value ?? '', required: f.required, min: f.min, step: f.type === 'number' ? 1 : undefined, inputmode: f.type === 'number' ? 'numeric' : undefined });
    return { f, input };
  });
  const titleId = `d-${Math.random().toString(36).slice(2, 9)}`;
  const form = h('form', { method: 'dialog' },
    h('h2', { id: titleId }, title),
    inputs.map(({ f, input }) => [h('label', { for: (input.id = `${titleId}-${f.name}`) }, f.label), input]),
    h('div', { class: 'actions' },
      h('button', { type: 'button', value: 'cancel', class: 'cancel' }, 'Cancel'),
      h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, submitLabel || 'Save')));
  const dialog = h('dialog', { 'aria-labelledby': titleId }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    let result = null;
    form.querySelector('.cancel').addEventListener('click', () => dialog.close());
    form.addEventListener('submit', () => {
      result = {};
      for (const { f, input } of inputs) result[f.name] = input.value;
    });
    dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
    dialog.showModal();
    inputs[0]?.input.focus();
  });
}
