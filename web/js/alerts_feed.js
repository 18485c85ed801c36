// Quota alerts for every page: the newest one from GET /v1/alerts
// (order=desc), then the live stream GET /v1/alerts/stream from it (no gap,
// no repeat). The alerts page reads older ones from the daemon itself; this
// keeps the live ones (at most KEEP) while the dashboard is open.

import * as api from './api.js';

const KEEP = 1000;

export const alerts = {
  list: [],          // oldest first
  live: false,       // the stream is connected
  lastError: null,   // what the stream's last error event said
  unseen: 0,
  listeners: new Set(),
  stop: null,

  async start(onNew) {
    const newest = await api.get(`/v1/alerts${api.query({ order: 'desc', limit: 1 })}`);
    this.list = newest.alerts;
    this.notify();
    this.stop = api.stream('/v1/alerts/stream', {
      lastId: newest.alerts.length ? newest.alerts[0].seq : 0,
      onState: (live) => { this.live = live; this.notify(); },
      onEvent: (ev) => {
        let alert;
        try { alert = JSON.parse(ev.data); } catch { return; }
        if (ev.event === 'error' || !alert || typeof alert.seq !== 'number') {
          // The daemon ends the stream after an error event; api.stream
          // reconnects from the last alert received.
          this.lastError = alert && alert.error ? alert.error.message : ev.data;
          this.notify();
          return;
        }
        this.lastError = null;
        if (this.list.length && alert.seq <= this.list[this.list.length - 1].seq) return;
        this.list.push(alert);
        if (this.list.length > KEEP) this.list.shift();
        onNew(alert);
        this.notify(alert);
      },
    });
  },
  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); },
  notify(alert) { for (const fn of this.listeners) fn(alert); },
};
