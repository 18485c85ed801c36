// Plain SVG charts (no library): a bar chart of a counter's history and a
// line of a live figure. Each chart has a text title and description for
// screen readers, and the bar chart's numbers are also given as a table.

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(max) {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const short = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

// points: [{label, value}] oldest first.
export function barChart(title, points) {
  const width = 480;
  const height = 200;
  const left = 44;
  const bottom = 34;
  const top = 8;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-labelledby': '' });
  const id = `c${Math.random().toString(36).slice(2, 9)}`;
  root.setAttribute('aria-labelledby', `${id}-t ${id}-d`);
  root.append(svg('title', { id: `${id}-t` }, title));
  const total = points.reduce((s, p) => s + p.value, 0);
  const peak = points.reduce((best, p) => (p.value > best.value ? p : best), { value: -1, label: '' });
  root.append(svg('desc', { id: `${id}-d` },
    `${points.length} periods, total ${total}` + (peak.value >= 0 ? `, highest ${peak.value} in ${peak.label}` : '')));
  for (const frac of [0, 0.5, 1]) {
    const y = top + plotH - frac * plotH;
    root.append(svg('line', { x1: left, x2: width - 8, y1: y, y2: y, class: 'axis', 'stroke-dasharray': frac ? '3 3' : '' }));
    root.append(svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end' }, short.format(max * frac)));
  }
  const n = Math.max(points.length, 1);
  const slot = plotW / n;
  const barW = Math.max(1, slot * 0.75);
  // As many labels as fit without overlapping (about 6.5 px a character).
  const longest = Math.max(1, ...points.map((p) => p.label.length));
  const labelEvery = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(plotW / (longest * 6.5 + 8)))));
  points.forEach((p, i) => {
    const hgt = (p.value / max) * plotH;
    const x = left + i * slot + (slot - barW) / 2;
    const rect = svg('rect', { x, y: top + plotH - hgt, width: barW, height: Math.max(hgt, p.value > 0 ? 1 : 0), class: 'barr' });
    rect.append(svg('title', {}, `${p.label}: ${p.value}`));
    root.append(rect);
    if ((n - 1 - i) % labelEvery === 0) {  // counted from the newest period, which is always labelled
      root.append(svg('text', { x: left + i * slot + slot / 2, y: height - bottom + 14, 'text-anchor': 'middle' }, p.label));
    }
  });
  return root;
}

// values: numbers, oldest first; a small line without axes.
export function sparkline(title, values) {
  const width = 200;
  const height = 40;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
  root.append(svg('title', {}, title));
  if (values.length < 2) return root;
  const max = Math.max(1, ...values);
  const step = width / (values.length - 1);
  const d = values.map((v, i) => `${i ? 'L' : 'M'}${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  root.append(svg('path', { d, class: 'line' }));
  return root;
}
