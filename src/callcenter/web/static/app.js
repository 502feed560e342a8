// Shared page helpers: API calls with the CSRF header, WebSocket with reconnect, formatting.
"use strict";
const cc = (() => {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  async function api(method, url, body) {
    const opts = {method, headers: {"X-CSRF-Token": csrf()}, credentials: "same-origin"};
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(url, opts);
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { const e = new Error((data.error && data.error.message) || r.statusText); e.status = r.status; throw e; }
    return data;
  }
  // A one-use ticket for a WebSocket handshake (POST /api/ws-ticket): no credential ever
  // goes in a socket's URL. Without one (e.g. signed out) the cookie session is tried.
  async function ticketed(path) {
    try {
      const t = await api("POST", "/api/ws-ticket");
      return path + (path.includes("?") ? "&" : "?") + "ticket=" + encodeURIComponent(t.ticket);
    } catch (e) { return path; }
  }
  // A WebSocket to `path` that reconnects after a drop; onMessage gets parsed JSON.
  function socket(path, onMessage, onOpen) {
    let ws, closed = false, delay = 250;
    const open = async () => {
      const url = await ticketed(path);
      if (closed) return;
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + url);
      ws.onopen = () => { delay = 250; if (onOpen) onOpen(ws); };
      ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
      ws.onclose = () => { if (!closed) setTimeout(open, delay = Math.min(delay * 2, 5000)); };
    };
    open();
    return {send: (m) => ws && ws.readyState === 1 && ws.send(JSON.stringify(m)), close: () => { closed = true; ws && ws.close(); }};
  }
  const pad = (n) => String(n).padStart(2, "0");
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  }
  const time = (t) => t == null ? "" : new Date(t * 1000).toLocaleString();
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));
  const out = document.getElementById("logout");
  if (out) out.addEventListener("click", async () => { await api("POST", "/api/auth/logout"); location.href = "/login"; });
  return {api, socket, duration, time, esc, csrf};
})();
