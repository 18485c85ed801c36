// Plans and usage: every plan with its limits (GET /v1/plans), and an
// owner's page: plan, per-feature usage bars (QUOTA.USAGE) split into what
// came from the plan's allowance, from credits and what is held, the reset
// date, the credit grants (with grant and revoke forms), the credit ledger
// and the owner's counters.

import * as api from '../api.js';
import { h, num, time, field, wrap, dataTable, toast, confirm, errorBox } from '../ui.js';
import { link, go } from '../router.js';

function ownerForm() {
  const input = h('input', { name: 'owner', required: true, placeholder: 'team:7' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Open an owner' },
    field('Owner', input), h('button', { type: 'submit', class: 'primary' }, 'Show usage'));
  form.addEventListener('submit', (e) => { e.preventDefault(); go('owner', [input.value.trim()]); });
  return form;
}

export async function plansPage(main) {
  main.append(h('h1', {}, 'Plans and usage'), ownerForm());
  let plans;
  try { plans = (await api.get('/v1/plans')).plans; } catch (e) { main.append(errorBox(e)); return null; }
  main.append(h('h2', {}, 'Plans'));
  if (!plans.length) main.append(h('p', { class: 'muted' }, 'No plans yet (PLAN.SET, PUT /v1/plans/{plan}, or [plans] in the config file).'));
  const rows = [];
  for (const p of plans) {
    for (const [feature, spec] of Object.entries(p.features)) {
      rows.push({ plan: p.plan, feature, limit: spec.limit, period: spec.period, overage: spec.overage, alerts: (spec.alerts || []).join(', ') });
    }
  }
  if (rows.length) {
    main.append(wrap('Plans', dataTable({
      caption: 'Each plan\'s features and limits',
      columns: [
        { key: 'plan', label: 'Plan' }, { key: 'feature', label: 'Feature' },
        { key: 'limit', label: 'Limit', num: true, render: (r) => (r.limit === null ? 'unlimited' : num(r.limit)) },
        { key: 'period', label: 'Period' }, { key: 'overage', label: 'Over the limit' }, { key: 'alerts', label: 'Alerts at %' },
      ],
      rows,
    })));
  }
  return null;
}

// The figures of QUOTA.USAGE drawn as one bar: what was used from the plan's
// allowance and from credits, what is held by reservations, and what is still
// available from each.
function usageBar(u) {
  const limit = u.limit;
  const total = u.used + u.held + u.remaining;
  const fromCredits = limit === null ? 0 : Math.max(0, Math.min(u.used, u.used + u.held - limit));
  const fromPlan = u.used - fromCredits;
  const availablePlan = limit === null ? u.remaining : Math.max(0, limit - u.used - u.held);
  const availableCredits = Math.max(0, u.remaining - availablePlan);
  const pct = limit ? (u.used / limit) * 100 : 0;
  const segments = [
    ['plan', fromPlan, 'used from the plan'], ['credit', fromCredits, 'used from credits'], ['held', u.held, 'held'],
    ['free-plan', availablePlan, 'available from the plan'], ['free-credit', availableCredits, 'available from credits'],
  ];
  const bar = h('div', {
    class: `bar${pct >= 95 ? ' over95' : pct >= 80 ? ' over80' : ''}`, role: 'img',
    'aria-label': segments.filter((s) => s[1]).map((s) => `${num(s[1])} ${s[2]}`).join(', ') || 'nothing used',
  });
  for (const [cls, value] of segments) {
    if (!value || !total) continue;
    const span = h('span', { class: cls, dataset: { amount: value } });
    span.style.width = `${((value / total) * 100).toFixed(2)}%`;
    bar.append(span);
  }
  return { bar, pct, fromPlan, fromCredits };
}

export async function ownerPage(main, route) {
  const owner = route.args[0];
  if (!owner) { go('plans'); return null; }
  const base = `/v1/owners/${api.seg(owner)}`;
  document.title = `${owner} · tally`;
  main.append(h('p', {}, h('a', { href: '#/plans' }, '← Plans and usage')), h('h1', {}, owner));
  let plan; let usage; let credits; let ledger; let counters;
  try {
    [plan, usage, credits, ledger, counters] = await Promise.all([
      api.get(`${base}/plan`), api.get(`${base}/usage`), api.get(`${base}/credits?all=true`),
      api.get(`${base}/ledger`), api.get(`${base}/counters`),
    ]);
  } catch (e) { main.append(errorBox(e)); return null; }
  const refresh = () => { main.replaceChildren(); ownerPage(main, route); };
  const canWrite = api.session.canWrite;

  main.append(h('dl', { class: 'kv' }, h('dt', {}, 'Plan'), h('dd', { id: 'owner-plan' }, plan.plan || 'none')));

  main.append(h('h2', {}, 'Usage'));
  main.append(h('div', { class: 'legend', 'aria-hidden': 'true' },
    h('span', {}, h('i', { class: 'plan' }), 'used from the plan'), h('span', {}, h('i', { class: 'credit' }), 'used from credits'),
    h('span', {}, h('i', { class: 'held' }), 'held'), h('span', {}, h('i', { class: 'free' }), 'available')));
  if (!usage.usage.length) main.append(h('p', { class: 'muted' }, 'No limited feature (no plan, or a plan without features).'));
  for (const u of usage.usage) {
    const { bar, pct, fromCredits } = usageBar(u);
    const level = pct >= 95 ? 'pct-alert' : pct >= 80 ? 'pct-warn' : '';
    const limitText = u.limit === null ? 'unlimited' : `${num(u.limit)} a ${u.period}`;
    main.append(h('section', { class: 'feature', dataset: { feature: u.feature }, 'aria-label': `Usage of ${u.feature}` },
      h('h3', {}, u.feature),
      h('p', {}, h('span', { class: `usage-figures ${level}` }, `${num(u.used)} used`),
        u.limit === null ? '' : h('span', { class: level }, ` (${pct.toFixed(1)} % of the plan's ${limitText})`),
        ` · ${num(u.remaining)} remaining · ${num(u.credits)} in credits · ${num(u.held)} held`,
        fromCredits ? ` · ${num(fromCredits)} drawn from credits` : '',
        u.overage ? ` · ${num(u.overage)} over the limit` : ''),
      bar,
      h('p', { class: 'muted' }, u.resets_at ? `Resets ${time(u.resets_at)}` : 'Never resets (a lifetime limit)')));
  }

  main.append(h('h2', {}, 'Credit grants'));
  const grantColumns = [
    { key: 'grant', label: 'Grant' }, { key: 'feature', label: 'Feature' },
    { key: 'amount', label: 'Granted', num: true, render: (g) => num(g.amount) },
    { key: 'left', label: 'Left', num: true, render: (g) => num(g.left) },
    { key: 'priority', label: 'Priority', num: true },
    { key: 'expires_at', label: 'Expires', render: (g) => (g.expires_at ? time(g.expires_at) : 'never') },
    { key: 'reason', label: 'Reason' }, { key: 'by', label: 'By' }, { key: 'state', label: 'State' },
  ];
  if (canWrite) {
    grantColumns.push({
      key: 'actions', label: 'Actions', render: (g) => (g.state !== 'live' ? '' : h('button', {
        type: 'button', class: 'small', onclick: async () => {
          if (!(await confirm('Revoke this grant?', `Grant ${g.grant} of ${owner} (${num(g.left)} ${g.feature} left) is written off. Recorded in the audit trail as ${api.actor()}.`, 'Revoke'))) return;
          try {
            const r = await api.del(`${base}/credits/${api.seg(g.grant)}`);
            toast(`Revoked ${g.grant}: ${num(r.revoked)} written off`);
            refresh();
          } catch (e) { toast(`Not revoked: ${e.message}`, true); }
        },
      }, 'Revoke')),
    });
  }
  main.append(wrap('Credit grants', dataTable({ caption: `Credits granted to ${owner}, ended ones included`, columns: grantColumns, rows: credits.credits })));

  if (canWrite) {
    const features = [...new Set([...usage.usage.map((u) => u.feature), ...credits.credits.map((g) => g.feature)])];
    const inputs = {
      feature: h('input', { name: 'feature', required: true, value: features[0] || '', list: 'features' }),
      amount: h('input', { name: 'amount', type: 'number', min: 1, step: 1, required: true, inputmode: 'numeric' }),
      in: h('input', { name: 'in', placeholder: '30d (empty: never)' }),
      priority: h('input', { name: 'priority', type: 'number', step: 1, value: 0 }),
      reason: h('input', { name: 'reason', placeholder: 'top-up' }),
    };
    const form = h('form', { class: 'inline-form', 'aria-labelledby': 'grant-title', id: 'grant-form' },
      h('h3', { id: 'grant-title' }, 'Grant credits'),
      h('datalist', { id: 'features' }, features.map((f) => h('option', { value: f }))),
      field('Feature', inputs.feature), field('Amount', inputs.amount), field('Expires in', inputs.in),
      field('Priority', inputs.priority), field('Reason', inputs.reason),
      h('button', { type: 'submit', class: 'primary' }, 'Grant…'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { feature: inputs.feature.value.trim(), amount: Number(inputs.amount.value) };
      if (inputs.in.value.trim()) body.in = inputs.in.value.trim();
      if (inputs.priority.value !== '' && Number(inputs.priority.value) !== 0) body.priority = Number(inputs.priority.value);
      if (inputs.reason.value.trim()) body.reason = inputs.reason.value.trim();
      if (!(await confirm('Grant these credits?', `${num(body.amount)} ${body.feature} to ${owner}${body.in ? `, expiring in ${body.in}` : ', never expiring'}. Recorded in the audit trail as ${api.actor()}.`, 'Grant'))) return;
      try {
        const g = await api.post(`${base}/credits`, body);
        toast(`Granted ${num(g.amount)} ${g.feature} (${g.grant})`);
        refresh();
      } catch (err) { toast(`Not granted: ${err.message}`, true); }
    });
    main.append(form);
  }

  main.append(h('h2', {}, 'Credit ledger'));
  main.append(wrap('Credit ledger', dataTable({
    caption: 'Every grant, draw, release, expiry and revocation, oldest first',
    columns: [
      { key: 'seq', label: 'Seq', num: true }, { key: 'time', label: 'Time', render: (l) => time(l.time) },
      { key: 'kind', label: 'Kind' }, { key: 'feature', label: 'Feature' }, { key: 'grant', label: 'Grant' },
      { key: 'amount', label: 'Amount', num: true, render: (l) => num(l.amount) }, { key: 'by', label: 'By' },
    ],
    rows: ledger.ledger,
  })));

  main.append(h('h2', {}, 'Counters'));
  const keys = Object.entries(counters.counters).map(([key, value]) => ({ key, value }));
  main.append(wrap('Counters of this owner', dataTable({
    caption: `Totals of ${owner}'s counters`,
    columns: [
      { key: 'key', label: 'Key', render: (r) => h('a', { href: link('counter', [owner, r.key]) }, r.key) },
      { key: 'value', label: 'Total', num: true, render: (r) => num(r.value) },
    ],
    rows: keys,
    onOpen: (r) => go('counter', [owner, r.key]),
  })));
  return null;
}
