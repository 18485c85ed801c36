// The dashboard's addresses: "#/<page>/<arg>/<arg>?<query>", so every view
// (a filter, a page of the table, a counter) can be bookmarked and the back
// button works.

import { query } from './api.js';

// "#/counter/user%3A1/downloads?x=1" -> {page: "counter", args: ["user:1", "downloads"], params}
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', args: parts.slice(1), params: new URLSearchParams(q || '') };
}

export function link(page, args, params) {
  const path = [page, ...(args || []).map(encodeURIComponent)].join('/');
  return `#/${path}${params ? query(params) : ''}`;
}

export function go(page, args, params) { location.hash = link(page, args, params); }
