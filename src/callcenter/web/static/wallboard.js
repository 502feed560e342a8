// The wallboard page: channel cards, queue tiles and the agents table, live from /ws/wallboard.
// Every push carries the whole (scoped) snapshot; times in state and the longest wait
// tick here every second from the snapshot's `t` (server clock) and each `since`.
// Supervisors and managers (data-supervise) coach from an agent's row while it is on a
// call: Listen / Whisper / Barge ring their own phone (PUT /api/supervision/agents/{a}),
// Stop leaves (DELETE); the row shows who is on the call and how (the snapshot's
// supervised_by / supervision, from the log's supervise events).
"use strict";
(() => {
  const tiles = document.getElementById("wb-queues");
  const channels = document.getElementById("wb-channels");
  const rows = document.querySelector("#wb-agents tbody");
  const status = document.getElementById("wb-status");
  const errorEl = document.getElementById("wb-error");
  const section = document.getElementById("wallboard");
  const me = section.dataset.me || "";
  const canSupervise = section.dataset.supervise === "yes";
  const MODES = [["listen", "Listen"], ["whisper", "Whisper"], ["barge", "Barge"]];
  let skew = 0;  // server clock - browser clock, seconds
  let board = null;
  const serverNow = () => Date.now() / 1000 + skew;
  const pct = (v) => v == null ? "—" : (100 * v).toFixed(1) + "%";
  const dur = (s) => s == null ? "—" : cc.duration(s);

  function tile(q) {
    const bad = q.service_level_today != null && q.service_level_today < q.sl_target;
    const slClass = bad ? "bad" : (q.service_level_today == null ? "muted" : "ok");
    const e = cc.esc;
    return `<article class="card wb-tile${bad ? " sl-bad" : ""}" data-queue="${e(q.name)}" data-channel="${e(q.channel)}">
      <h2>${e(q.name)} <span class="wb-chan" data-field="channel">${e(q.channel)}</span></h2>
      <div class="wb-big">
        <div><span class="num" data-field="waiting">${q.waiting}</span><span class="muted">waiting</span></div>
        <div><span class="num" data-field="longest_wait" data-oldest="${q.longest_wait_s == null ? "" : q.t0 - q.longest_wait_s}"
          data-threshold="${q.sl_threshold_s}">${dur(q.longest_wait_s)}</span><span class="muted">longest wait</span></div>
      </div>
      <dl class="wb-figs">
        <dt>Offered today</dt><dd data-field="offered_today">${q.offered_today}</dd>
        <dt>Answered</dt><dd data-field="answered_today">${q.answered_today}</dd>
        <dt>Abandoned</dt><dd data-field="abandoned_today">${q.abandoned_today}</dd>
        <dt>Service level (${Math.round(q.sl_threshold_s)} s, target ${Math.round(100 * q.sl_target)}%)</dt>
        <dd data-field="service_level_today" class="${slClass}">${pct(q.service_level_today)}</dd>
        <dt>Agents available</dt><dd data-field="agents_available">${q.agents_available}</dd>
      </dl></article>`;
  }

  // One card per channel: the queues of that channel added up (calls next to chats).
  function channelCard(c) {
    const e = cc.esc;
    return `<article class="card wb-channel" data-channel="${e(c.channel)}">
      <h2>${e(c.channel)}</h2>
      <dl class="wb-figs">
        <dt>Waiting</dt><dd data-field="waiting">${c.waiting}</dd>
        <dt>In progress</dt><dd data-field="in_progress">${c.in_progress}</dd>
        <dt>Offered today</dt><dd data-field="offered_today">${c.offered_today}</dd>
        <dt>Answered</dt><dd data-field="answered_today">${c.answered_today}</dd>
        <dt>Abandoned</dt><dd data-field="abandoned_today">${c.abandoned_today}</dd>
        <dt>Service level</dt><dd data-field="service_level_today">${pct(c.service_level_today)}</dd>
      </dl></article>`;
  }

  const STATE = {logged_out: "Logged out", available: "Available", paused: "Paused",
    ringing: "Ringing", on_contact: "On contact", wrap_up: "Wrap-up"};

  function row(a) {
    const e = cc.esc;
    return `<tr data-agent="${e(a.name)}">
      <td>${e(a.display_name)}</td><td>${e(a.team || "")}</td>
      <td><span class="st st-${e(a.status)}" data-field="status" data-status="${e(a.status)}">${e(STATE[a.status] || a.status)}</span></td>
      <td data-field="reason">${e(a.reason || "")}</td>
      <td class="num" data-field="time_in_state" data-since="${a.since == null ? "" : a.since}">${dur(a.time_in_state_s)}</td>
      <td class="num" data-field="contacts">${a.contacts}</td>
      <td data-field="coaching">${coaching(a)}</td></tr>`;
  }

  function coaching(a) {
    const e = cc.esc;
    const now = a.supervised_by ? `<span data-field="supervision" data-mode="${e(a.supervision)}">${
      e(a.supervised_by)}: ${e(a.supervision)}</span> ` : "";
    if (!canSupervise || a.status !== "on_contact" || (a.supervised_by && a.supervised_by !== me)) return now;
    const buttons = MODES.filter(([m]) => !(a.supervised_by === me && a.supervision === m)).map(([m, label]) =>
      `<button type="button" data-action="supervise" data-mode="${m}">${label}</button>`).join("");
    const stop = a.supervised_by === me ? `<button type="button" data-action="stop-supervising">Stop</button>` : "";
    return now + buttons + stop;
  }

  // A supervisor's browser phone (phone.js, when the page carries one): the call our
  // server places to listen on (X-Callcenter-Supervise: the agent) is answered at once —
  // the supervisor asked for it a moment ago by clicking Listen / Whisper / Barge.
  const phoneEl = document.getElementById("phone");
  let softphone = null;
  if (phoneEl) {
    phoneEl.addEventListener("phone:ready", (ev) => { softphone = ev.detail; });
    phoneEl.addEventListener("phone:incoming", (ev) => {
      if (softphone && ev.detail.header("X-Callcenter-Supervise")) {
        try { softphone.answer(); } catch (e) { errorEl.textContent = String(e.message || e); }
      }
    });
  }

  rows.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const agent = button.closest("tr").dataset.agent;
    const url = "/api/supervision/agents/" + encodeURIComponent(agent);
    errorEl.textContent = "";
    button.disabled = true;
    try {
      if (button.dataset.action === "supervise") await cc.api("PUT", url, {mode: button.dataset.mode});
      else await cc.api("DELETE", url);
    } catch (e) {
      errorEl.textContent = String(e.message || e);
      button.disabled = false;
    }
  });

  function render(m) {
    board = m;
    skew = m.t - Date.now() / 1000;
    channels.innerHTML = (m.channels || []).map(channelCard).join("");
    tiles.innerHTML = m.queues.map((q) => tile({...q, t0: m.t})).join("");
    rows.innerHTML = m.agents.map(row).join("");
    status.textContent = "live · updated " + new Date(m.t * 1000).toLocaleTimeString();
    tick();
  }

  // Move the clocks between pushes (a push comes at least once a second anyway).
  function tick() {
    const now = serverNow();
    for (const cell of rows.querySelectorAll('[data-field="time_in_state"]')) {
      const since = cell.dataset.since;
      cell.textContent = since === "" ? "—" : cc.duration(now - Number(since));
    }
    for (const cell of tiles.querySelectorAll('[data-field="longest_wait"]')) {
      const oldest = cell.dataset.oldest;
      const wait = oldest === "" ? null : now - Number(oldest);
      cell.textContent = dur(wait);
      cell.classList.toggle("bad", wait != null && wait > Number(cell.dataset.threshold));
    }
  }

  cc.socket("/ws/wallboard", (m) => { if (m.type === "wallboard") render(m); },
    () => { status.textContent = "live"; });
  setInterval(() => { if (board) tick(); }, 1000);
  setInterval(() => {
    if (board && serverNow() - board.t > 5) status.textContent = "reconnecting… (last update " +
      new Date(board.t * 1000).toLocaleTimeString() + ")";
  }, 1000);
})();
