// The dashboard's only way to the daemon: the JSON API (docs/http.md) with the
// signed-in token. The token lives in sessionStorage (gone when the tab closes).

const TOKEN_KEY = 'tally.token';

// Who the token is, as the daemon says (GET /dashboard/session). The audit
// trail records `name` as the actor of every change made with it: the
// daemon sets it from the token, so the page sends no X-Actor of its own.
export const session = {
  authRequired: false,
  identity: 'none',   // the role: "admin", "reader" or "none"
  name: '',           // a named token's name, "admin-token", "read-token", or "local" without authentication
  canWrite: false,
};

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(value) { sessionStorage.setItem(TOKEN_KEY, value); }
export function signOut() { sessionStorage.removeItem(TOKEN_KEY); }

// What the audit trail records as the actor of this page's changes.
export function actor() { return session.name || 'this token'; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

// Called when a request answers 401: the page asks for a token again.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// One path segment (owner and key names may hold ':' '@' '\').
export const seg = (name) => encodeURIComponent(name);

export async function request(method, path, body) {
  const init = { method, headers: headers({}) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, err.code, err.message || text.slice(0, 200));
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body === undefined ? {} : body);
export const put = (path, body) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);

export async function loadSession() {
  const response = await fetch('/dashboard/session', { headers: headers({}), cache: 'no-store' });
  const data = await response.json();
  session.authRequired = data.auth_required;
  session.identity = data.identity;
  session.name = data.name || '';
  session.canWrite = data.can_write;
  return session;
}

// A streamed export of the current filter, saved as a file. fetch rather than
// a plain link: the request must carry the token.
export async function download(path, filename) {
  const response = await fetch(path, { headers: headers({}) });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch { /* not JSON */ }
    throw new ApiError(response.status, '', message);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob.size;
}

// Up to `want` records of GET /v1/audit or /v1/alerts, newest first, that
// match `filters` (applied by the daemon), older than `before` (0: from the
// newest). The daemon looks at a bounded number of records per request
// (a rare filter over a long trail takes several), so this asks again from
// its `next` until it has `want` or the trail's start is reached, giving up
// after `maxRequests`. Returns { records, before } where before is the next
// older page's cursor (0: nothing older).
export async function feedNewest(path, field, filters, want, before = 0, maxRequests = 20) {
  let records = [];
  let cursor = before;
  for (let i = 0; i < maxRequests; i++) {
    const page = await get(`${path}${query({ ...filters, order: 'desc', limit: want - records.length, before: cursor || undefined })}`);
    records = records.concat(page[field]);
    cursor = page.next;
    if (!cursor || records.length >= want) break;
  }
  return { records, before: cursor };
}

// Server-sent events over fetch (EventSource cannot send the token):
// calls onEvent({id, event, data}) for each event, reconnects with
// Last-Event-ID after a drop. Returns a function that stops it.
export function stream(path, { onEvent, onState, lastId }) {
  let stopped = false;
  let controller = null;
  let last = lastId;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const h = headers({ Accept: 'text/event-stream' });
        if (last !== undefined && last !== null) h['Last-Event-ID'] = String(last);
        const response = await fetch(path, { headers: h, signal: controller.signal });
        if (response.status === 401) { onUnauthorized(); return; }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState(true);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const ev = { id: null, event: 'message', data: '' };
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const name = colon < 0 ? line : line.slice(0, colon);
              const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (name === 'id') ev.id = val;
              else if (name === 'event') ev.event = val;
              else if (name === 'data') ev.data += (ev.data ? '\n' : '') + val;
            }
            if (ev.data) {
              if (ev.id !== null) last = ev.id;
              onEvent(ev);
            }
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onState(false);
      if (!stopped) await new Promise((r) => setTimeout(r, 2000));
    }
  }
  run();
  return () => { stopped = true; if (controller) controller.abort(); };
}
