// The sign-in form (templates/login.html). After signing in, go to `next` only when it is
// a path on this server: the server renders a checked `data-next` (web/pages.py
// safe_next); this check repeats it, so a page that bypassed the server is still safe.
"use strict";
(() => {
  // A same-origin path: one leading "/", then no "/" or "\" (browsers read "/\host" and
  // "//host" as another host), no whitespace or control character (browsers drop tabs and
  // newlines, so "/\t/host" becomes "//host"), and it must resolve to this origin.
  function safeNext(next) {
    if (typeof next !== "string" || !/^\/(?![\/\\])[^\\\s\x00-\x1f\x7f-\x9f]*$/.test(next)) return "/";
    try { return new URL(next, location.origin).origin === location.origin ? next : "/"; }
    catch (e) { return "/"; }
  }
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {username: form.username.value, password: form.password.value};
    const r = await fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!r.ok) {
      const data = await r.json().catch(() => ({}));
      document.getElementById("login-error").textContent = (data.error && data.error.message) || r.statusText;
      return;
    }
    const fromUrl = new URLSearchParams(location.search).get("next");
    location.href = safeNext(form.dataset.next || fromUrl || "/");
  });
  window.ccSafeNext = safeNext;  // for the tests, which call it with hostile values
})();
