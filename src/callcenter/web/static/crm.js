// The CRM page: search, customer card (history, open tickets with SLA, follow-ups),
// contact detail with transcript, and the forms that create / change records.
// Every text from the server goes through cc.esc before it reaches innerHTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const esc = cc.esc;
  const me = ($("who") || {dataset: {}}).dataset.username || "";
  let customerId = null;
  let canWrite = false;

  function showError(e) { $("crm-error").textContent = e ? (e.message || String(e)) : ""; }
  async function run(fn) {
    showError(null);
    try { await fn(); } catch (e) { showError(e); }
  }
  const formJson = (form) => Object.fromEntries(new FormData(form).entries());
  const opt = (v) => (v === undefined || v === null || String(v).trim() === "" ? null : String(v).trim());

  function slaCell(t) {
    if (t.sla_due_at == null) return "";
    return esc(cc.time(t.sla_due_at)) + (t.overdue ? ' <span class="tag bad">overdue</span>' : "");
  }

  function customerLink(c) {
    return `<a class="open" data-customer="${esc(c.id)}">${esc(c.name || c.email || c.phone || "#" + c.id)}</a>`;
  }

  function contactLink(id) {
    return id == null ? "" : `<a class="open" data-contact="${esc(id)}">${esc(id)}</a>`;
  }

  function ticketTable(tickets, withCustomer) {
    if (!tickets.length) return '<p class="muted">None.</p>';
    const rows = tickets.map((t) => `<tr class="${t.overdue ? "overdue" : ""}">
      <td>${esc(t.id)}</td>${withCustomer ? `<td>${customerLink({id: t.customer_id, name: t.customer_name})}</td>` : ""}
      <td>${esc(t.subject)}</td><td>${esc(t.priority)}</td><td>${esc(t.status)}</td>
      <td>${slaCell(t)}</td><td>${esc(t.assignee || "")}</td></tr>`).join("");
    return `<table><thead><tr><th>#</th>${withCustomer ? "<th>Customer</th>" : ""}<th>Subject</th>
      <th>Priority</th><th>Status</th><th>SLA due</th><th>Assignee</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  // ------------------------------------------------------------------ search
  async function search(q) {
    const r = await cc.api("GET", "/api/search?q=" + encodeURIComponent(q));
    const parts = [];
    parts.push("<h3>Customers</h3>" + (r.customers.length ? "<ul>" + r.customers.map((c) =>
      `<li>${customerLink(c)} <span class="muted">${esc(c.email || "")} ${esc(c.phone || "")} ${esc(c.company || "")}</span></li>`
    ).join("") + "</ul>" : '<p class="muted">None.</p>'));
    parts.push("<h3>Tickets</h3>" + ticketTable(r.tickets, true));
    parts.push("<h3>Contacts</h3>" + (r.contacts.length ? "<ul>" + r.contacts.map((c) =>
      `<li>${contactLink(c.id)} ${esc(cc.time(c.arrived_at))} · ${esc(c.queue || "")} · ${esc(c.status)} · ${esc(c.customer_name || "")}</li>`
    ).join("") + "</ul>" : '<p class="muted">None.</p>'));
    $("results").innerHTML = parts.join("");
  }

  // ------------------------------------------------------------------ customer card
  async function openCustomer(id) {
    const card = await cc.api("GET", `/api/customers/${encodeURIComponent(id)}/card`);
    customerId = card.customer.id;
    const c = card.customer;
    $("card-panel").hidden = false;
    $("cust-name").textContent = c.name || c.email || c.phone || "Customer " + c.id;
    $("cust-fields").innerHTML = [["E-mail", c.email], ["Phone", c.phone], ["Company", c.company],
      ["Notes", c.notes], ["Customer since", cc.time(c.created_at)]]
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v || "—")}</dd>`).join("");
    const f = $("customer-form");
    for (const k of ["name", "email", "phone", "company", "notes"]) f.elements[k].value = c[k] || "";
    $("tickets").tBodies[0].innerHTML = card.tickets.map((t) => `<tr class="${t.overdue ? "overdue" : ""}" data-ticket="${esc(t.id)}">
      <td>${esc(t.id)}</td><td>${esc(t.subject)}${t.contact_id ? " · " + contactLink(t.contact_id) : ""}</td>
      <td>${esc(t.priority)}</td>
      <td>${canWrite ? `<select class="ticket-status">${["open", "pending", "solved", "closed"].map((s) =>
        `<option${s === t.status ? " selected" : ""}>${esc(s)}</option>`).join("")}</select>` : esc(t.status)}</td>
      <td>${slaCell(t)}</td><td>${esc(t.assignee || "")}</td></tr>`).join("") ||
      '<tr><td colspan="6" class="muted">No open tickets.</td></tr>';
    $("follow-ups").tBodies[0].innerHTML = card.follow_ups.map((u) => `<tr class="${u.overdue ? "overdue" : ""}">
      <td>${esc(cc.time(u.due_at))}${u.overdue ? ' <span class="tag bad">overdue</span>' : ""}</td>
      <td>${esc(u.note)}</td><td>${esc(u.assignee)}</td>
      <td>${canWrite ? `<button type="button" class="follow-up-done" data-follow-up="${esc(u.id)}">Done</button>` : ""}</td></tr>`).join("") ||
      '<tr><td colspan="4" class="muted">No open follow-ups.</td></tr>';
    $("history").tBodies[0].innerHTML = card.history.map((h) => `<tr class="${h.visible ? "" : "hidden-row"}">
      <td>${esc(cc.time(h.arrived_at))}</td><td>${esc(h.channel)}</td><td>${esc(h.queue || "")}</td>
      <td>${esc(h.status)}</td><td>${esc(h.disposition || "")}</td><td>${esc(h.csat == null ? "" : h.csat)}</td>
      <td>${h.visible ? esc(h.agent || "") : "another agent"}${h.mine ? ' <span class="tag">mine</span>' : ""}</td>
      <td>${h.visible ? contactLink(h.id) : ""}</td></tr>`).join("") ||
      '<tr><td colspan="8" class="muted">No contacts yet.</td></tr>';
    history.replaceState(null, "", "#customer=" + encodeURIComponent(customerId));
  }

  // ------------------------------------------------------------------ contact detail
  async function openContact(id) {
    const c = await cc.api("GET", "/api/contacts/" + encodeURIComponent(id));
    $("contact-panel").hidden = false;
    $("contact-id").textContent = c.id;
    const claim = c.claim ? [c.claim.name, c.claim.email, c.claim.phone].filter(Boolean).map(esc).join(" · ") +
      (c.claim.email_verified ? " (e-mail verified)" : " (claimed, unverified)") : "";
    const rows = [["Customer", c.customer ? customerLink(c.customer) : "—"], ["Claimed", claim || "—"],
      ["Channel", esc(c.channel)],
      ["Queue", esc(c.queue || "")], ["Status", esc(c.status)], ["Arrived", esc(cc.time(c.arrived_at))],
      ["Answered", esc(cc.time(c.answered_at))], ["Ended", esc(cc.time(c.ended_at))],
      ["Agents", esc(c.agents.join(", "))], ["Disposition", esc(c.disposition || "")],
      ["CSAT", esc(c.csat == null ? "" : c.csat + (c.csat_comment ? " — " + c.csat_comment : ""))],
      ["Notes", (c.note_list || []).map((n) => `<div class="note" data-author="${esc(n.author)}"><span class="muted">${esc(n.author)} · ${esc(cc.time(n.updated_at))}:</span> <bdi dir="auto">${esc(n.body)}</bdi></div>`).join("")]];
    $("contact-fields").innerHTML = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("");
    $("transcript").innerHTML = c.messages.map((m) => `<div class="msg ${esc(m.sender)}">
      <div class="meta">${esc(m.sender === "agent" ? m.agent || "agent" : m.sender)} · ${esc(cc.time(m.t))}</div>
      <div>${esc(m.body)}</div></div>`).join("") || '<p class="muted">No messages.</p>';
    await showRecording(c);
  }

  // A call's recording (stereo WAV served by the API with the contact's visibility) and
  // its automatic analysis: status, then the headline figures once done.
  async function showRecording(c) {
    const player = $("recording-player");
    $("recording").hidden = !c.recording_url;
    if (!c.recording_url) { player.removeAttribute("src"); return; }
    player.src = "/api/contacts/" + encodeURIComponent(c.id) + "/recording";
    const a = await cc.api("GET", "/api/contacts/" + encodeURIComponent(c.id) + "/analysis");
    const box = $("analysis");
    if (a.status !== "done") {
      box.innerHTML = `<p class="muted" data-status="${esc(a.status)}">Analysis: ${esc(a.status)}${a.reason ? " — " + esc(a.reason) : ""}</p>`;
      return;
    }
    const m = a.result.metrics || {};
    const s = (v) => (v == null ? "—" : Number(v).toFixed(1) + " s");
    const rows = [["Duration", s(m.duration_s)], ["Agent talk", s(m.agent_talk_s)],
      ["Caller talk", s(m.caller_talk_s)], ["Dead air", s(m.dead_air_s)], ["Overtalk", s(m.overtalk_s)],
      ["Hold", s(m.hold_s)], ["Topic", esc((a.result.topic || {}).topic || "—")],
      ["Resolved", esc(String((a.result.resolution || {}).resolved ?? "—"))],
      ["Caller wanted", esc((a.result.summary || {}).caller_wanted || "—")]];
    box.innerHTML = `<dl data-status="done">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("")}</dl>`;
  }

  // ------------------------------------------------------------------ my work
  async function loadMyWork() {
    const q = "assignee=" + encodeURIComponent(me);
    const [fu, tk] = await Promise.all([cc.api("GET", "/api/follow-ups?" + q),
      cc.api("GET", "/api/tickets?open=true&" + q)]);
    $("my-follow-ups").innerHTML = fu.follow_ups.length ? "<ul>" + fu.follow_ups.map((u) =>
      `<li class="${u.overdue ? "bad" : ""}">${esc(cc.time(u.due_at))} · ${customerLink({id: u.customer_id, name: u.customer_name})} · ${esc(u.note)}</li>`
    ).join("") + "</ul>" : '<p class="muted">None.</p>';
    $("my-tickets").innerHTML = ticketTable(tk.tickets, true);
  }

  // ------------------------------------------------------------------ events
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("[data-customer],[data-contact]");
    if (a && a.dataset.customer) run(() => openCustomer(a.dataset.customer));
    else if (a && a.dataset.contact) run(() => openContact(a.dataset.contact));
    const done = ev.target.closest(".follow-up-done");
    if (done) run(async () => {
      await cc.api("PATCH", "/api/follow-ups/" + done.dataset.followUp, {done: true});
      await Promise.all([openCustomer(customerId), loadMyWork()]);
    });
  });
  document.addEventListener("change", (ev) => {
    const sel = ev.target.closest(".ticket-status");
    if (!sel) return;
    const id = sel.closest("tr").dataset.ticket;
    run(async () => {
      await cc.api("PATCH", "/api/tickets/" + id, {status: sel.value});
      await Promise.all([openCustomer(customerId), loadMyWork()]);
    });
  });
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("q").value.trim();
    if (q) run(() => search(q));
  });
  $("new-customer-toggle").addEventListener("click", () => { $("new-customer-form").hidden = !$("new-customer-form").hidden; });
  $("new-customer-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = formJson(ev.target);
    run(async () => {
      const c = await cc.api("POST", "/api/customers", {name: d.name.trim(), email: opt(d.email),
        phone: opt(d.phone), company: opt(d.company), region: d.region.trim() || "US"});
      ev.target.reset();
      ev.target.hidden = true;
      await openCustomer(c.id);
    });
  });
  $("customer-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = formJson(ev.target);
    run(async () => {
      await cc.api("PATCH", "/api/customers/" + customerId, {name: d.name.trim(), email: opt(d.email),
        phone: opt(d.phone), company: opt(d.company), notes: d.notes});
      await openCustomer(customerId);
    });
  });
  $("ticket-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = formJson(ev.target);
    run(async () => {
      await cc.api("POST", "/api/tickets", {customer_id: customerId, subject: d.subject,
        priority: d.priority, description: d.description, assignee: opt(d.assignee)});
      ev.target.reset();
      await Promise.all([openCustomer(customerId), loadMyWork()]);
    });
  });
  $("follow-up-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const d = formJson(ev.target);
    run(async () => {
      const due = new Date(d.due).getTime() / 1000;
      if (!Number.isFinite(due)) throw new Error("due: pick a date and time");
      await cc.api("POST", "/api/follow-ups", {customer_id: customerId, due_at: due,
        note: d.note, assignee: opt(d.assignee)});
      ev.target.reset();
      await Promise.all([openCustomer(customerId), loadMyWork()]);
    });
  });

  // ------------------------------------------------------------------ start
  // #customer=ID or #contact=ID opens that record: on load, and whenever the hash
  // changes on an open page (a link to another contact, the back button)
  async function route() {
    const m = /^#(customer|contact)=(.+)$/.exec(location.hash);
    if (m && m[1] === "customer") await openCustomer(decodeURIComponent(m[2]));
    else if (m) await openContact(decodeURIComponent(m[2]));
  }
  let started = false;
  window.addEventListener("hashchange", () => { if (started) run(route); });
  run(async () => {
    const who = await cc.api("GET", "/api/me");
    canWrite = who.permissions.includes("crm.write");
    document.querySelectorAll("[data-write]").forEach((el) => { el.hidden = !canWrite; });
    await loadMyWork();
    started = true;  // (a change before this point is read just below)
    await route();
  });
})();
