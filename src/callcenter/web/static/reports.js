// The reports page: GET /api/reports/kpi for the chosen range, shown as a table; the
// same query with format=csv is the download link.
"use strict";
(() => {
  const form = document.getElementById("kpi-form");
  const body = document.querySelector("#kpi-table tbody");
  const err = document.getElementById("kpi-error");
  const summary = document.getElementById("kpi-summary");
  const csv = document.getElementById("kpi-csv");
  const pad = (n) => String(n).padStart(2, "0");
  // datetime-local values are read and written as UTC (the report's clock).
  const toInput = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const pct = (v) => v == null ? "—" : (100 * v).toFixed(1) + "%";
  const dur = (s) => s == null ? "—" : cc.duration(s);
  const num = (v) => v == null ? "—" : String(v);

  const midnight = new Date(); midnight.setUTCHours(0, 0, 0, 0);
  form.elements.from.value = toInput(midnight);
  form.elements.to.value = toInput(new Date(midnight.getTime() + 86400000));

  function query(format) {
    const p = new URLSearchParams({interval: form.elements.interval.value, format});
    if (form.elements.from.value) p.set("from", form.elements.from.value + ":00Z");
    if (form.elements.to.value) p.set("to", form.elements.to.value + ":00Z");
    if (form.elements.queue.value) p.set("queue", form.elements.queue.value);
    return "/api/reports/kpi?" + p.toString();
  }

  function line(r, cls, label) {
    const v = r.visits || {}, h = r.handling || {}, a = r.agent_time || {};
    const when = label || (r.interval_start ? r.interval_start.replace("T", " ").replace(":00Z", "") : "");
    return `<tr class="${cls}"><td>${cc.esc(when)}</td><td>${cc.esc(r.queue || "all")}</td>
      <td class="num">${num(v.offered)}</td><td class="num">${num(v.answered)}</td>
      <td class="num">${num(v.abandoned)}</td><td class="num">${pct(v.service_level)}</td>
      <td class="num">${pct(v.abandon_rate)}</td><td class="num">${dur(v.asa_s)}</td>
      <td class="num">${dur(v.max_wait_s)}</td><td class="num">${dur(h.aht_s)}</td>
      <td class="num">${pct(a.occupancy)}</td></tr>`;
  }

  async function run() {
    err.textContent = "";
    csv.href = query("csv");
    try {
      const rep = await cc.api("GET", query("json"));
      const rows = rep.rows.map((r) => line(r, r.queue == null ? "all" : ""));
      if (rep.total) rows.push(line(rep.total, "total", "Total"));
      body.innerHTML = rows.join("") || '<tr><td colspan="11" class="muted">No contacts in this range.</td></tr>';
      const s = rep.settings;
      summary.textContent = `${rep.period ? rep.period.events + " events" : "no events"} · ` +
        `interval ${s.interval_s / 60} min · SL ${s.sl_mode} at ${s.sl_threshold_s} s (${s.sl_definition})`;
    } catch (e) {
      err.textContent = e.message;
      body.innerHTML = "";
    }
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  run();
})();
