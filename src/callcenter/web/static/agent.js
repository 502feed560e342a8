// The agent desktop: state, offers, conversations, after-contact work, customer card.
// The server is the truth: GET /api/desk is reloaded on every push that changes work
// (offer, contact, state); chat messages are appended as they are pushed. Panes are kept
// between reloads so typed text and scroll positions survive.
// Calls (channel "voice") ring in the same offer list; their phone side (answer and
// decline on the softphone, the call's pane tools) is in desk_call.js.
"use strict";
(() => {
  const $ = (sel, el = document) => el.querySelector(sel);
  const esc = cc.esc;
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids) if (kid != null) el.append(kid);
    return el;
  }

  const ui = {
    bar: $("#state-bar"), state: $("#agent-state"), reason: $("#state-reason"), time: $("#state-time"),
    load: $("#load"), pending: $("#state-pending"), error: $("#desk-error"), offers: $("#offers"),
    panes: $("#panes"), noPanes: $("#no-panes"), card: $("#customer-card"), tools: $("#work-tools"),
    pauseBox: $("#pause-box"), pauseReason: $("#pause-reason"), cardMsg: $("#card-msg"),
  };
  const STATUS = {logged_out: "Logged out", available: "Available", paused: "Paused"};
  const ACTIVITY = {ringing: "ringing", on_contact: "on a contact", wrap_up: "after-contact work"};
  let desk = null;
  let selected = null; // contact id
  let cardCustomer = null; // customer id shown on the card
  let dir = {queues: [], agents: [], pause_reasons: [], dispositions: []};
  let reasons = [], dispositions = [];
  const panes = new Map(); // contact id -> {el, shown: Set<message id>}

  function fail(e) { ui.error.textContent = e && e.message ? e.message : String(e); }
  async function act(fn) {
    ui.error.textContent = "";
    try { return await fn(); } catch (e) { fail(e); return null; }
  }

  // ---------------------------------------------------------------- loading
  async function load() {
    const d = await act(() => cc.api("GET", "/api/desk"));
    if (d) show(d);
  }
  let loadTimer = null;
  function reloadSoon() { clearTimeout(loadTimer); loadTimer = setTimeout(load, 60); }

  // The admin lists if this role may read them (H1's API), else the desk's own copy.
  async function list(url, fallback) {
    try {
      const data = await cc.api("GET", url);
      const rows = Array.isArray(data) ? data : (Object.values(data || {}).find(Array.isArray) || null);
      if (rows) return rows.filter((r) => r.active !== false);
    } catch (_) { /* 403 / 404: use the directory */ }
    return fallback;
  }

  async function loadDirectory() {
    dir = (await act(() => cc.api("GET", "/api/desk/directory"))) || dir;
    reasons = (await list("/api/admin/pause-reasons", dir.pause_reasons.map((name) => ({name}))))
      .map((r) => r.name);
    dispositions = await list("/api/admin/dispositions", dir.dispositions);
    ui.pauseReason.replaceChildren(...reasons.map((r) => h("option", {value: r, text: r})));
    panes.forEach((p) => fillSelects(p));
  }

  // ---------------------------------------------------------------- rendering
  function show(d) {
    desk = d;
    renderState();
    renderOffers();
    renderPanes();
    refreshCard();
    tick();
  }

  function renderState() {
    const d = desk;
    ui.bar.dataset.status = d.status;
    ui.state.textContent = STATUS[d.status] || d.status;
    ui.state.dataset.status = d.status;
    ui.state.dataset.activity = d.activity;
    const doing = ACTIVITY[d.activity];
    ui.reason.textContent = d.status === "paused" ? "(" + (d.reason || "") + ")" : doing ? "· " + doing : "";
    ui.time.dataset.since = d.since == null ? "" : d.since;
    const busy = d.contacts.filter((c) => c.status !== "ringing").length;
    ui.load.textContent = d.status === "logged_out" ? "" : "· " + busy + " of " + d.capacity + " chats";
    ui.pending.textContent = d.pending_logout ? "logging out after the current contacts"
      : d.pending_pause ? "pause (" + d.pending_pause + ") after the current contacts" : "";
    const out = d.status === "logged_out";
    $("#btn-login").hidden = !out;
    $("#btn-logout").hidden = out || d.pending_logout;
    $("#btn-available").hidden = out || (d.status !== "paused" && !d.pending_pause);
    const canPause = !out && d.status !== "paused" && !d.pending_pause;
    $("#btn-pause").hidden = !canPause;
    ui.pauseBox.hidden = !canPause;
  }

  function renderOffers() {
    const offers = desk.contacts.filter((c) => c.status === "ringing");
    ui.offers.replaceChildren(...offers.map((c) => {
      const first = c.messages.find((m) => m.sender === "customer");
      const voice = c.channel === "voice";
      const onPhone = voice && calls.device() !== "webrtc";
      return h("div", {class: "card offer", "data-testid": "offer", "data-contact": c.id, "data-channel": c.channel},
        h("div", {class: "what"},
          h("strong", {class: "offer-customer", text: who(c)}),
          h("span", {class: "muted", text: " · " + (voice ? "call" : c.channel) + " · queue " + c.queue}),
          voice ? h("div", {class: "preview", "data-field": "caller-number"}, "From ", h("bdi", {text: calls.callerNumber(c)}))
            : h("div", {class: "preview", text: first ? first.body : ""}),
          ivrPairs(c).length ? h("div", {class: "muted", "data-field": "offer-ivr",
            text: ivrPairs(c).map(([k, v]) => k + ": " + v).join(" · ")}) : null),
        h("span", {class: "countdown", "data-field": "countdown", "data-deadline": c.ring_deadline}),
        onPhone ? h("strong", {class: "answer-on-phone", "data-field": "answer-on-phone", text: "Answer on your phone"}) : null,
        onPhone ? null : h("button", {class: "primary", type: "button", "data-action": "accept", text: "Accept",
          onclick: () => (voice ? calls.act(c.id, "answer") : contactAction(c.id, "accept"))}),
        onPhone ? null : h("button", {type: "button", "data-action": "decline", text: "Decline",
          onclick: () => (voice ? calls.act(c.id, "decline") : contactAction(c.id, "decline"))}));
    }));
    document.title = (offers.length ? "(" + offers.length + ") Incoming · " : "") + "Desktop · callcenter";
  }

  function renderPanes() {
    const work = desk.contacts.filter((c) => c.status !== "ringing");
    const ids = new Set(work.map((c) => c.id));
    for (const [id, p] of panes) if (!ids.has(id)) { p.el.remove(); panes.delete(id); }
    for (const c of work) {
      let p = panes.get(c.id);
      if (!p) { p = makePane(c); panes.set(c.id, p); ui.panes.append(p.el); }
      updatePane(p, c);
    }
    ui.noPanes.hidden = work.length > 0;
    if (!selected || !ids.has(selected)) {
      if (work.length) select(work[0].id);
      else { selected = null; ui.tools.hidden = true; markSelected(); }
    }
  }

  function makePane(c) {
    const el = h("article", {class: "card pane", "data-testid": "chat-pane", "data-contact": c.id,
      onclick: () => select(c.id)});
    const p = {el, shown: new Set()};
    p.name = h("span", {class: "name", "data-field": "customer"});
    p.status = h("span", {class: "muted", "data-field": "status"});
    p.timer = h("span", {class: "countdown", "data-field": "timer"});
    p.transcript = h("div", {class: "transcript", "data-testid": "transcript", "aria-live": "polite"});
    p.more = h("button", {type: "button", class: "earlier", "data-action": "earlier", hidden: true,
      text: "Show earlier messages", onclick: (ev) => { ev.stopPropagation(); showEarlier(c.id, p); }});
    p.transcript.append(p.more);
    p.input = h("textarea", {"data-field": "compose", maxlength: "4000", placeholder: "Write to the customer…",
      "aria-label": "Message"});
    p.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(c.id, p); }
    });
    p.target = h("select", {"data-field": "transfer-target", "aria-label": "Transfer to"});
    p.compose = h("div", {class: "compose"}, p.input,
      h("button", {class: "primary", type: "button", "data-action": "send", text: "Send", onclick: () => send(c.id, p)}));
    p.endChat = h("button", {type: "button", "data-action": "end", text: "End chat", onclick: () => contactAction(c.id, "end")});
    p.tools = h("div", {class: "tools"}, p.endChat,
      h("span", {class: "muted", text: "Transfer to"}), p.target,
      h("button", {type: "button", "data-action": "transfer", text: "Transfer", onclick: () => transfer(c.id, p)}));
    p.disposition = h("select", {"data-field": "disposition", "aria-label": "Disposition"});
    p.wrapNotes = h("textarea", {"data-field": "wrap-notes", maxlength: "10000", placeholder: "Notes", "aria-label": "Wrap-up notes"});
    p.acwTimer = h("span", {class: "countdown", "data-field": "acw-timer"});
    p.acw = h("div", {class: "acw", "data-testid": "acw"},
      h("div", {}, h("strong", {text: "After-contact work "}), p.acwTimer),
      h("label", {}, "Disposition ", p.disposition), p.wrapNotes,
      h("button", {class: "primary", type: "button", "data-action": "done", text: "Done", onclick: () => wrapup(c.id, p)}));
    p.call = c.channel === "voice" ? calls.tools(c) : null;
    if (p.call) {  // a call: its own End and Hold (desk_call.js); the transfer row below them
      p.transcript.hidden = true;
      p.compose.hidden = true;
      p.endChat.hidden = true;
    }
    el.append(h("header", {}, p.name, p.status, p.timer), p.transcript, p.compose,
      p.call && p.call.el, p.tools, p.acw);
    fillSelects(p);
    return p;
  }

  // ---------------------------------------------------------------- calls (desk_call.js)
  const calls = CallcenterDeskCall.create({
    h, fail, act, path: (id) => path(id), panes,
    clearError: () => { ui.error.textContent = ""; },
    end: (id) => contactAction(id, "end"),
    ringing: () => { if (desk) renderOffers(); reloadSoon(); },
    answered: (id) => { selected = id; reloadSoon(); },
  });

  function fillSelects(p) {
    const keepT = p.target.value, keepD = p.disposition.value;
    const queues = h("optgroup", {label: "Queues"}, ...dir.queues.map((q) =>
      h("option", {value: "queue:" + q.name, text: q.name + (q.waiting ? " (" + q.waiting + " waiting)" : "")})));
    const agents = h("optgroup", {label: "Agents"}, ...dir.agents.map((a) =>
      h("option", {value: "agent:" + a.name, disabled: !a.logged_in,
        text: a.display_name + (a.logged_in ? "" : " (logged out)")})));
    p.target.replaceChildren(queues, agents);
    if (keepT) p.target.value = keepT;
    p.disposition.replaceChildren(h("option", {value: "", text: "— choose —"}),
      ...dispositions.map((d) => h("option", {value: d.code, text: d.label || d.code})));
    if (keepD) p.disposition.value = keepD;
  }

  function updatePane(p, c) {
    const wasWrap = p.el.dataset.status === "wrapup";
    p.el.dataset.status = c.status;
    p.name.textContent = who(c);
    p.el.dataset.held = c.held_since ? "1" : "";
    p.status.textContent = c.status !== "active" ? "· wrap-up"
      : !p.call ? "· chatting" : c.held_since ? "· on hold" : "· on the call";
    p.timer.dataset.since = c.status === "active" ? (c.answered_at || "") : (c.acw_since || "");
    p.acwTimer.dataset.since = c.acw_since || "";
    addMessages(p, c.messages, c.earlier);
    const active = c.status === "active";
    p.compose.hidden = !active || Boolean(p.call);
    p.tools.hidden = !active;
    p.acw.hidden = active;
    if (p.call) calls.render(p);
    if (!active && !wasWrap) p.wrapNotes.value = ownNote(c);
  }

  // Notes are per author (docs/agent-desktop.md): this agent edits its own; all are listed.
  function ownNote(c) {
    const mine = (c.note_list || []).filter((n) => n.author === desk.agent);
    return mine.length ? mine[mine.length - 1].body : "";
  }

  function renderNotes(c) {
    $("#notes-list").replaceChildren(...(c.note_list || []).map((n) => {
      const li = h("li", {"data-author": n.author}, h("span", {class: "muted"}, n.author + " · " + cc.time(n.updated_at) + ": "));
      li.append(h("bdi", {dir: "auto"}, n.body));
      return li;
    }));
  }

  // Transcripts: the desk (GET /api/desk) brings a contact's newest lines; a pane draws at
  // most WINDOW of them while following the end, "Show earlier" fetches older ones. Lines
  // are drawn in batches — one fragment, one layout read before and one scroll after —
  // and pushed lines are gathered for BATCH_MS first: never a layout per line (a flooded
  // chat of 10,000 lines froze the desk for 99 s when each append read scrollHeight).
  const WINDOW = 300, BATCH_MS = 50;

  function line(m) {
    const who = m.sender === "agent" ? (m.agent_name || "Agent") : m.sender === "customer" ? "Customer" : null;
    const el = h("div", {class: "msg " + m.sender, "data-sender": m.sender, "data-id": m.id, title: cc.time(m.t)});
    el.textContent = (who ? who + ": " : "") + m.body;
    return el;
  }

  function addMessages(p, list, earlier) {
    const t = p.transcript, first = t.querySelector(".msg");
    const after = first ? Number(first.dataset.id) : -Infinity; // older lines come by "Show earlier"
    const fresh = list.filter((m) => !p.shown.has(m.id) && m.id > after);
    if (earlier != null && !first) p.more.hidden = !earlier;
    if (!fresh.length) return;
    const atEnd = !first || t.scrollHeight - t.scrollTop - t.clientHeight < 40;
    const frag = document.createDocumentFragment();
    for (const m of fresh) { p.shown.add(m.id); frag.append(line(m)); }
    t.append(frag);
    if (!atEnd) return; // the agent reads back: keep everything drawn, do not move
    for (let n = t.childElementCount - 1 - WINDOW; n > 0; n--) { // beyond the window: undraw
      const old = p.more.nextElementSibling;
      p.shown.delete(Number(old.dataset.id));
      old.remove();
      p.more.hidden = false;
    }
    t.scrollTop = t.scrollHeight;
  }

  async function showEarlier(id, p) {
    const first = p.transcript.querySelector(".msg");
    if (!first) return;
    const got = await act(() => cc.api("GET", path(id) + "/messages?limit=" + WINDOW + "&before=" + first.dataset.id));
    if (!got) return;
    const t = p.transcript, height = t.scrollHeight, frag = document.createDocumentFragment();
    for (const m of got.messages) if (!p.shown.has(m.id)) { p.shown.add(m.id); frag.append(line(m)); }
    p.more.after(frag);
    p.more.hidden = !got.earlier;
    t.scrollTop += t.scrollHeight - height; // the line read before stays in place
  }

  function onMessage(contactId, m) {
    const c = desk && desk.contacts.find((x) => x.id === contactId);
    if (c && !c.messages.some((x) => x.id === m.id)) {
      c.messages.push(m);
      if (c.messages.length > WINDOW) c.messages.splice(0, c.messages.length - WINDOW);
    }
    const p = panes.get(contactId);
    if (p) {
      (p.pending = p.pending || []).push(m);
      if (!p.flush) p.flush = setTimeout(() => { p.flush = 0; addMessages(p, p.pending.splice(0)); }, BATCH_MS);
    } else if (c && c.status === "ringing") renderOffers();
  }

  function markSelected() {
    panes.forEach((p, id) => p.el.classList.toggle("selected", id === selected));
  }

  function select(id) {
    const c = desk.contacts.find((x) => x.id === id);
    if (!c) return;
    if (selected !== id) $("#contact-notes").value = ownNote(c);
    renderNotes(c);
    selected = id;
    ui.tools.hidden = false;
    markSelected();
    refreshCard();
  }

  // ---------------------------------------------------------------- timers
  function tick() {
    const now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach((el) => {
      const s = parseFloat(el.dataset.since);
      el.textContent = Number.isFinite(s) ? cc.duration(now - s) : "";
    });
    document.querySelectorAll("[data-deadline]").forEach((el) => {
      const d = parseFloat(el.dataset.deadline);
      el.textContent = Number.isFinite(d) ? Math.max(0, Math.ceil(d - now)) + " s" : "";
    });
  }

  // ---------------------------------------------------------------- actions
  async function state(what, body) {
    const d = await act(() => cc.api("POST", "/api/desk/" + what, body));
    if (d) show(d);
  }
  $("#btn-login").addEventListener("click", () => state("login"));
  $("#btn-logout").addEventListener("click", () => state("logout"));
  $("#btn-available").addEventListener("click", () => state("unpause"));
  $("#btn-pause").addEventListener("click", () => state("pause", {reason: ui.pauseReason.value}));

  const path = (id) => "/api/desk/contacts/" + encodeURIComponent(id);

  async function contactAction(id, what) {
    const d = await act(() => cc.api("POST", path(id) + "/" + what));
    if (!d) return;
    show(d);
    if (what === "accept") select(id);
  }

  async function send(id, p) {
    const text = p.input.value.trim();
    if (!text) return;
    const m = await act(() => cc.api("POST", path(id) + "/messages", {body: text}));
    if (m) { p.input.value = ""; onMessage(id, m); }
  }

  async function transfer(id, p) {
    const [kind, target] = (p.target.value || "").split(/:(.*)/s);
    if (!target) { fail("choose a queue or an agent to transfer to"); return; }
    const d = await act(() => cc.api("POST", path(id) + "/transfer", {[kind]: target}));
    if (d) show(d);
  }

  async function wrapup(id, p) {
    if (!p.disposition.value) { fail("choose a disposition first"); return; }
    const d = await act(() => cc.api("POST", path(id) + "/wrapup",
      {disposition: p.disposition.value, notes: p.wrapNotes.value}));
    if (!d) return;
    show(d);
    if (cardCustomer != null) loadCard(cardCustomer); // the finished contact is now history
  }

  $("#notes-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!selected) return;
    const r = await act(() => cc.api("PATCH", path(selected), {notes: $("#contact-notes").value}));
    if (r) {
      ui.cardMsg.textContent = "Notes saved.";
      const c = desk.contacts.find((x) => x.id === r.id);
      if (c && r.note) {
        c.note_list = (c.note_list || []).filter((n) => n.id !== r.note.id).concat([r.note]).sort((a, b) => a.id - b.id);
        renderNotes(c);
      }
    }
  });

  $("#ticket-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (cardCustomer == null) { fail("link the chat to a customer first"); return; }
    const t = await act(() => cc.api("POST", "/api/tickets", {customer_id: cardCustomer, contact_id: selected,
      subject: $("#ticket-subject").value, description: $("#ticket-description").value,
      priority: $("#ticket-priority").value}));
    if (t) { ev.target.reset(); ui.cardMsg.textContent = "Ticket #" + t.id + " created."; loadCard(cardCustomer); }
  });

  $("#followup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (cardCustomer == null) { fail("link the chat to a customer first"); return; }
    const due = new Date($("#followup-due").value).getTime() / 1000;
    if (!Number.isFinite(due)) { fail("give the follow-up a due time"); return; }
    const f = await act(() => cc.api("POST", "/api/follow-ups", {customer_id: cardCustomer, contact_id: selected,
      due_at: due, note: $("#followup-note").value}));
    if (f) { ev.target.reset(); ui.cardMsg.textContent = "Follow-up added."; loadCard(cardCustomer); }
  });

  // ---------------------------------------------------------------- customer card
  async function loadCard(customerId) {
    cardCustomer = customerId;
    cardClaim = null;
    let card;
    try { card = await cc.api("GET", "/api/customers/" + encodeURIComponent(customerId) + "/card"); }
    catch (e) { ui.card.innerHTML = "<h2>Customer</h2><p class=\"error\">" + esc(e.message) + "</p>"; return; }
    if (cardCustomer !== customerId) return; // another card was asked for meanwhile
    const cu = card.customer;
    const history = card.history.map((x) => "<tr data-testid=\"history-row\" data-contact=\"" + esc(x.id || "") + "\">" +
      "<td>" + esc(cc.time(x.arrived_at)) + "</td><td>" + esc(x.channel) + "</td><td>" + esc(x.queue || "") + "</td>" +
      "<td data-field=\"outcome\">" + esc(x.disposition || x.status) + "</td>" +
      "<td>" + (x.mine ? "you" : esc(x.agent || "")) + "</td></tr>").join("");
    const tickets = card.tickets.map((t) => "<li data-testid=\"ticket\" data-ticket=\"" + esc(t.id) + "\">#" + esc(t.id) +
      " " + esc(t.subject) + " <span class=\"muted\">" + esc(t.priority) + (t.overdue ? ", overdue" : "") + "</span> " +
      "<select data-field=\"ticket-status\" aria-label=\"Ticket status\">" +
      ["open", "pending", "solved", "closed"].map((s) => "<option" + (s === t.status ? " selected" : "") + ">" + s + "</option>").join("") +
      "</select></li>").join("");
    const follow = card.follow_ups.map((f) => "<li data-testid=\"follow-up\" data-follow-up=\"" + esc(f.id) + "\">" +
      "<label><input type=\"checkbox\" data-field=\"follow-up-done\"> " + esc(cc.time(f.due_at)) + "</label> " +
      esc(f.note) + (f.overdue ? " <span class=\"bad\">overdue</span>" : "") + "</li>").join("");
    ui.card.innerHTML =
      "<h2 data-testid=\"customer-name\">" + esc(cu.name || "Customer") + "</h2>" +
      "<p class=\"muted\">" + [cu.email, cu.phone, cu.company].filter(Boolean).map(esc).join(" · ") + "</p>" +
      (cu.notes ? "<p>" + esc(cu.notes) + "</p>" : "") +
      "<h3>History</h3>" + (history ? "<table id=\"history\"><thead><tr><th>When</th><th>Channel</th><th>Queue</th>" +
        "<th>Outcome</th><th>Agent</th></tr></thead><tbody>" + history + "</tbody></table>" : "<p class=\"empty\">No past contacts.</p>") +
      "<h3>Open tickets</h3>" + (tickets ? "<ul id=\"tickets\">" + tickets + "</ul>" : "<p class=\"empty\">None.</p>") +
      "<h3>Follow-ups</h3>" + (follow ? "<ul id=\"follow-ups\">" + follow + "</ul>" : "<p class=\"empty\">None.</p>");
    ui.card.querySelectorAll("[data-field=ticket-status]").forEach((sel) => sel.addEventListener("change", async () => {
      const id = sel.closest("[data-ticket]").dataset.ticket;
      if (await act(() => cc.api("PATCH", "/api/tickets/" + encodeURIComponent(id), {status: sel.value}))) loadCard(customerId);
    }));
    ui.card.querySelectorAll("[data-field=follow-up-done]").forEach((box) => box.addEventListener("change", async () => {
      const id = box.closest("[data-follow-up]").dataset.followUp;
      if (await act(() => cc.api("PATCH", "/api/follow-ups/" + encodeURIComponent(id), {done: box.checked}))) loadCard(customerId);
    }));
  }

  // ---------------------------------------------------------------- claims
  // A chat starts with what the customer typed: a claim, linked to no customer. Until the
  // agent links it (or the customer proves the e-mail), the card shows the claim and the
  // customers it may be (the directory's view: no history, no tickets).
  let cardClaim = null; // contact id whose claim is on the card
  function who(c) {
    if (c.customer_name) return c.customer_name;
    if (c.channel === "voice") return calls.callerNumber(c);
    return c.claim && c.claim.name ? c.claim.name + " (unverified)" : "Customer";
  }

  // What the caller gave the IVR (contacts.ivr_data: label -> value, from key presses):
  // shown as text, never as HTML; each label and value in its own direction (dir=auto:
  // a Persian label beside an account number reads right).
  function ivrPairs(c) { return Object.entries(c.ivr_data || {}); }
  function renderIvr(c) {
    const pairs = c ? ivrPairs(c) : [];
    $("#ivr-data").hidden = pairs.length === 0;
    $("#ivr-data-list").replaceChildren(...pairs.flatMap(([label, value]) => [
      h("dt", {"data-field": "ivr-label", dir: "auto", text: label}),
      h("dd", {"data-field": "ivr-value", dir: "auto", text: value})]));
  }

  function refreshCard() {
    const c = selected && desk && desk.contacts.find((x) => x.id === selected);
    renderIvr(c);
    if (!c) return;
    if (c.customer_id != null) { if (c.customer_id !== cardCustomer) loadCard(c.customer_id); }
    else if (cardClaim !== c.id || cardCustomer != null) claimCard(c);
  }

  async function link(id, body) {
    const d = await act(() => cc.api("POST", path(id) + "/link", body));
    if (d) { ui.cardMsg.textContent = "Linked."; show(d); }
  }

  function claimCard(c) {
    cardCustomer = null;
    cardClaim = c.id;
    const cl = c.claim || {};
    const matches = (c.matches || []).map((m) => h("li", {"data-testid": "match", "data-customer": m.customer.id},
      h("strong", {text: m.customer.name || "(no name)"}), " ",
      h("span", {class: "muted", text: [m.customer.email, m.customer.phone, m.customer.company].filter(Boolean).join(" · ") +
        " — same " + m.by.join(" and ")}), " ",
      h("button", {type: "button", "data-action": "link", text: "Link to this customer",
        onclick: () => link(c.id, {customer_id: m.customer.id})})));
    ui.card.replaceChildren(
      h("h2", {"data-testid": "claim-name", text: (cl.name || "Customer") + (cl.email_verified ? "" : " (unverified)")}),
      c.channel === "voice" ? h("p", {"data-field": "card-caller"}, "Caller's number ", h("bdi", {text: calls.callerNumber(c)}))
        : h("p", {class: "muted", text: [cl.email, cl.phone].filter(Boolean).join(" · ")}),
      h("p", {class: "muted", text: c.channel === "voice" ? "The number the call came from; not linked to a customer record yet."
        : "What the customer typed; not linked to a customer record yet."}),
      h("h3", {text: "Possible match"}),
      matches.length ? h("ul", {id: "matches"}, ...matches)
        : h("p", {class: "empty", text: "No customer has this e-mail or phone."}),
      h("button", {type: "button", "data-action": "link-new", text: "New customer from this claim",
        onclick: () => link(c.id, {new_customer: true})}));
  }

  // ---------------------------------------------------------------- pushes
  function onPush(m) {
    if (m.type === "message") onMessage(m.contact_id, m.message);
    else if (m.type === "offer" || m.type === "contact" || m.type === "state") reloadSoon();
  }

  setInterval(tick, 1000);
  loadDirectory().then(load);
  cc.socket("/ws/desk", onPush, () => reloadSoon());
})();
