// The audit log page: GET /api/audit with the form's filters, newest first, paged by
// the id cursor ("Older entries"); the same filters make the CSV link.  Times are the
// browser's own time zone; user-written text is escaped and shown with dir="auto".
"use strict";
(() => {
  const form = document.getElementById("audit-form");
  const body = document.querySelector("#audit-table tbody");
  const err = document.getElementById("audit-error");
  const csv = document.getElementById("audit-csv");
  const more = document.getElementById("audit-more");
  let cursor = null;

  // datetime-local is read in the browser's time zone (Date parses it as local time)
  const seconds = (v) => v ? String(new Date(v).getTime() / 1000) : "";

  function params() {
    const p = new URLSearchParams();
    for (const name of ["actor", "entity", "entity_id", "action"]) {
      const v = form.elements[name].value.trim();
      if (v) p.set(name, v);
    }
    for (const name of ["since", "until"]) {
      const v = seconds(form.elements[name].value);
      if (v) p.set(name, v);
    }
    return p;
  }

  const value = (v) => v == null ? "—" : (typeof v === "string" ? v : JSON.stringify(v));
  const auto = (v, cls) => `<bdi dir="auto"${cls ? ` class="${cls}"` : ""}>${cc.esc(value(v))}</bdi>`;

  function row(e) {
    const changes = Object.entries(e.changes || {}).map(([field, pair]) =>
      `<li><span class="field">${cc.esc(field)}</span>: ${auto(pair[0], "before")} → ${auto(pair[1], "after")}</li>`).join("");
    return `<tr data-id="${e.id}"><td class="when">${cc.esc(cc.time(e.at))}</td>
      <td>${auto(e.username)} <span class="muted">${cc.esc(e.role || "")}</span></td>
      <td>${cc.esc(e.address || "")}</td><td>${cc.esc(e.action)}</td>
      <td>${cc.esc(e.entity)} ${auto(e.entity_id)}</td><td><ul class="changes">${changes}</ul></td></tr>`;
  }

  async function load(append) {
    err.textContent = "";
    const p = params();
    csv.href = "/api/audit.csv?" + p.toString();
    if (append && cursor) p.set("before_id", String(cursor));
    try {
      const page = await cc.api("GET", "/api/audit?" + p.toString());
      const html = page.entries.map(row).join("");
      if (append) body.insertAdjacentHTML("beforeend", html);
      else body.innerHTML = html || '<tr><td colspan="6" class="muted">No entries.</td></tr>';
      cursor = page.next_before_id;
      more.hidden = cursor == null;
    } catch (e) {
      err.textContent = e.message;
      if (!append) body.innerHTML = "";
      more.hidden = true;
    }
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  load(false);
})();
