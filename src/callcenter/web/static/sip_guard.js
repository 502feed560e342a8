// The admin page's "Blocked SIP addresses" card (templates/admin.html): the addresses the
// SIP guard blocks now, from GET /api/admin/voice/blocked (administrators only; refreshed
// every 10 s). Read-only: a block ends by itself. Every value goes through cc.esc.
"use strict";
(() => {
  const card = document.getElementById("sip-blocked");
  if (!card) return;
  const body = card.querySelector("tbody");
  const note = document.getElementById("sip-blocked-none");
  async function load() {
    let rows;
    try {
      rows = await cc.api("GET", "/api/admin/voice/blocked");
    } catch (e) {
      card.hidden = true; // not an administrator (403), or signed out
      return false;
    }
    card.hidden = false;
    note.hidden = rows.length > 0;
    body.innerHTML = rows.map((r) => "<tr><td><code>" + cc.esc(r.address) + "</code></td><td>" +
      cc.esc(r.failures) + "</td><td>" + cc.esc(cc.time(r.since)) + "</td><td>" +
      cc.esc(cc.time(r.until)) + "</td></tr>").join("");
    return true;
  }
  load().then((ok) => { if (ok) setInterval(load, 10000); });
})();
