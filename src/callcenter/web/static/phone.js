// The desk's phone widget on top of softphone.js: status, the incoming call (caller
// number, answer / decline), mute, a DTMF pad 0-9 * #, hang-up; remote audio plays through
// its own <audio> element. Text follows the page's direction (CSS logical properties).
//
//   CallcenterPhone.mount(element, {wsUrl, uri, authorizationUser, password, displayName})
//
// or, on the agent page, an element with data-softphone-config-url: the widget POSTs to
// that same-origin URL (session cookie + X-CSRF-Token) for the JSON above and mounts itself.
// The element gets DOM events "phone:state" and "phone:incoming" (detail = the
// softphone's) so the desk can show the caller's card.
"use strict";
(() => {
  const TEXT = {
    title: "Phone", stopped: "Phone off", registering: "Connecting…", registered: "Ready",
    failed: "Not connected", ringing: "Incoming call", "in call": "In call", ended: "Call ended",
    answer: "Answer", decline: "Decline", hangup: "Hang up", mute: "Mute", unmute: "Unmute",
    pad: "Dial pad", from: "From", unknown: "unknown number",
  };
  const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

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

  // The widget's elements; each button runs its action through guard() (errors shown).
  function build(root, t, phone) {
    const ui = {root, t};
    const err = h("p", {class: "phone-error", role: "alert"});
    const guard = (fn) => {
      err.textContent = "";
      try { fn(); } catch (e) { err.textContent = e && e.message ? e.message : String(e); }
    };
    const btn = (cls, text, fn) => h("button", {type: "button", class: cls, text, onclick: () => guard(fn)});
    ui.guard = guard;
    ui.audio = h("audio", {autoplay: true, "data-testid": "phone-audio"});
    ui.status = h("span", {class: "phone-status", "data-testid": "phone-status", text: t.stopped});
    ui.reason = h("span", {class: "phone-reason muted", "data-testid": "phone-reason"});
    ui.caller = h("p", {class: "phone-caller", "data-testid": "phone-caller", hidden: true});
    ui.mute = btn("phone-mute", t.mute, () => phone.mute(!phone.state.muted));
    ui.mute.setAttribute("aria-pressed", "false");
    ui.pad = h("div", {class: "phone-pad", role: "group", "aria-label": t.pad},
      ...KEYS.map((k) => h("button", {
        type: "button", class: "phone-key", "data-key": k, "aria-label": `${t.pad} ${k}`,
        text: k, onclick: () => guard(() => phone.sendDtmf(k)),
      })));
    ui.ringing = h("div", {class: "phone-actions phone-ringing"},
      btn("primary phone-answer", t.answer, () => phone.answer()),
      btn("phone-decline", t.decline, () => phone.decline()));
    ui.talking = h("div", {class: "phone-actions phone-talking"},
      ui.mute, btn("phone-hangup", t.hangup, () => phone.hangup()));
    const dot = h("span", {class: "phone-dot", "aria-hidden": "true"});
    const live = h("div", {class: "phone-live", role: "status", "aria-live": "polite"}, dot, ui.status, ui.reason);
    root.classList.add("phone");
    root.setAttribute("aria-label", t.title);
    root.replaceChildren(h("h2", {text: t.title}), live, ui.caller, ui.ringing, ui.talking, ui.pad, err, ui.audio);
    return ui;
  }

  function render(ui, s) {
    const {root, t} = ui;
    const shown = s.call === "idle" || s.call === "ended" ? s.registration : s.call;
    root.dataset.registration = s.registration;
    root.dataset.call = s.call;
    ui.status.textContent = s.call === "ended" && s.registration === "registered"
      ? `${t.registered} · ${t.ended}` : (t[shown] || shown);
    ui.reason.textContent = s.reason ? `(${s.reason})` : "";
    const up = s.call === "in call";
    ui.ringing.hidden = s.call !== "ringing";
    ui.talking.hidden = !up;
    ui.pad.hidden = !up;
    ui.caller.hidden = !(s.call === "ringing" || up);
    ui.mute.textContent = s.muted ? t.unmute : t.mute;
    ui.mute.setAttribute("aria-pressed", String(Boolean(s.muted)));
    root.dispatchEvent(new CustomEvent("phone:state", {detail: s}));
  }

  function showCaller(ui, c) {
    // <bdi>: a name or number keeps its own direction inside a right-to-left line.
    const who = [c.displayName, c.number || ui.t.unknown].filter(Boolean);
    ui.caller.replaceChildren(`${ui.t.from}: `, ...who.flatMap((w, i) => [
      i ? " " : "", h("bdi", {class: i === who.length - 1 ? "phone-number" : "phone-name", text: w}),
    ]));
    ui.root.dispatchEvent(new CustomEvent("phone:incoming", {detail: c}));
  }

  function mount(root, config, labels) {
    const t = {...TEXT, ...(labels || {})};
    const phone = CallcenterSoftphone.create();
    const ui = build(root, t, phone);
    phone.audio = ui.audio;
    phone.on("state", (s) => render(ui, s));
    phone.on("incoming", (c) => showCaller(ui, c));
    render(ui, phone.state);
    ui.guard(() => phone.start(config));
    return phone;
  }

  // The desk: POST the config URL (a fresh credential each time; the session cookie and
  // the page's CSRF token, as static/app.js sends them). A refusal's code goes on the
  // element (data-device: "sip" — the agent answers on a desk phone — or "none") and
  // its message is shown; a mounted phone is the element's .softphone ("phone:ready").
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  async function autoMount() {
    for (const el of document.querySelectorAll("[data-softphone-config-url]")) {
      try {
        const r = await fetch(el.dataset.softphoneConfigUrl,
          {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf()}});
        if (!r.ok) {
          const err = ((await r.json().catch(() => ({}))).error) || {};
          el.dataset.device = err.code === "sip_phone" ? "sip" : "none";
          throw new Error(err.message || `phone settings: HTTP ${r.status}`);
        }
        el.hidden = false;
        el.dataset.device = "webrtc";
        el.softphone = mount(el, await r.json());
        el.dispatchEvent(new CustomEvent("phone:ready", {detail: el.softphone}));
      } catch (e) {
        el.hidden = false;
        el.textContent = e && e.message ? e.message : String(e);
        el.dispatchEvent(new CustomEvent("phone:ready", {detail: null}));
      }
    }
  }

  window.CallcenterPhone = {mount, TEXT};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoMount);
  else autoMount();
})();
