// The dashboard's shell: signing in, the hash router (#/page/args?query),
// the navigation and the live alert stream shared by every page.

import * as api from './api.js';
import { h, toast } from './ui.js';
import { alerts } from './alerts_feed.js';
import { parseHash } from './router.js';
import { overviewPage } from './pages/overview.js';
import { countersPage, counterPage } from './pages/counters.js';
import { topPage } from './pages/top.js';
import { plansPage, ownerPage } from './pages/plans.js';
import { alertsPage, auditPage } from './pages/feeds.js';

const pages = {
  overview: overviewPage,
  counters: countersPage,
  counter: counterPage,
  top: topPage,
  plans: plansPage,
  owner: ownerPage,
  alerts: alertsPage,
  audit: auditPage,
};
// Pages reached from another section's page keep that section lit.
const section = { counter: 'counters', owner: 'plans' };

const main = document.getElementById('main');
let cleanup = null;
let visits = 0;
let started = false;

async function render() {
  if (cleanup) { try { cleanup(); } catch { /* a page's own */ } cleanup = null; }
  const route = parseHash();
  const page = pages[route.page] ? route.page : 'overview';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === (section[page] || page)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // A fresh container per visit: a page still loading when the user moves on
  // fills its own detached container, never the next page's.
  const view = h('div', { class: 'view' });
  main.replaceChildren(view);
  document.title = 'tally dashboard';
  const token = ++visits;
  try {
    const stop = (await pages[page](view, route)) || null;
    if (token === visits) cleanup = stop; else if (stop) stop();
  } catch (e) {
    view.append(h('p', { class: 'error', role: 'alert' }, `Error: ${e.message}`));
  }
}

function showWho() {
  const who = document.getElementById('who');
  who.replaceChildren();
  if (!api.session.authRequired) {
    who.append(h('span', { id: 'identity', title: 'Changes are recorded in the audit trail as "local"' }, 'No authentication configured'));
    return;
  }
  who.append(h('span', { id: 'identity' }, `Signed in as ${api.session.name} (${api.session.canWrite ? 'admin' : 'read-only'})`));
  who.append(h('button', {
    type: 'button', class: 'small', onclick: () => { api.signOut(); location.reload(); },
  }, 'Sign out'));
}

function askForToken(message) {
  const dialog = document.getElementById('signin');
  const error = document.getElementById('signin-error');
  error.hidden = !message;
  error.textContent = message || '';
  if (!dialog.open) dialog.showModal();
  document.getElementById('signin-token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const tokenInput = document.getElementById('signin-token');
  api.setToken(tokenInput.value);
  await api.loadSession();
  if (api.session.identity === 'none') {
    api.signOut();
    askForToken('That token is not valid here.');
    tokenInput.select();
    return;
  }
  tokenInput.value = '';
  document.getElementById('signin').close();
  start();
}

function start() {
  document.body.dataset.canWrite = String(api.session.canWrite);
  showWho();
  if (!started) {
    started = true;
    // After moving to another page, keyboard and screen reader users start at its content.
    window.addEventListener('hashchange', async () => {
      const inMain = main.contains(document.activeElement) && document.activeElement !== main;
      await render();
      if (!inMain || !main.contains(document.activeElement)) main.focus({ preventScroll: true });
    });
    alerts.start((alert) => {
      const badge = document.getElementById('alert-badge');
      if (parseHash().page !== 'alerts') {
        alerts.unseen += 1;
        badge.textContent = String(alerts.unseen);
        badge.hidden = false;
        toast(`Alert: ${alert.owner} ${alert.feature} ${alert.kind}${alert.threshold ? ` ${alert.threshold}%` : ''}`);
      }
    });
  }
  render();
}

async function boot() {
  // The skip link must not change the hash (the router's address).
  document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  document.getElementById('signin-form').addEventListener('submit', signIn);
  document.getElementById('signin').addEventListener('cancel', (e) => e.preventDefault());
  api.setUnauthorizedHandler(() => { api.signOut(); askForToken('Your token was refused: sign in again.'); });
  await api.loadSession();
  if (api.session.authRequired && api.session.identity === 'none') {
    askForToken(api.token() ? 'That token is not valid here.' : '');
    return;
  }
  start();
}

boot().catch((e) => {
  main.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Cannot reach tallyd: ${e.message}`));
});
