// The desk's calls (contacts of channel "voice"), used by agent.js:
//
//   const calls = CallcenterDeskCall.create({h, fail, act, path, panes, clearError, end,
//                                           ringing, answered});
//   calls.device()          // "webrtc" (the softphone is mounted), "sip", "none" or ""
//   calls.callerNumber(c)   // the caller's number of a desk contact
//   calls.act(id, "answer" | "decline")   // on the softphone's ringing call for `id`
//   calls.tools(c)          // the call's pane tools; calls.render(pane) updates them
//
// With the softphone (phone.js mounts it into #phone, then fires "phone:ready"), the
// offer's Accept answers the ringing WebRTC call whose X-Callcenter-Contact header (put in
// the INVITE by our call controller) is the offer's contact — the router's connect then
// comes from Asterisk — and Decline sends 603. A call's pane has mute and the DTMF pad
// (the softphone's own call only), Hold / Resume (music to the caller, nothing to the
// agent; the pane's data-held says which, from the desk's held_since), pause/resume
// recording and End (the desk's "end": Asterisk hangs up both legs).
"use strict";
window.CallcenterDeskCall = (() => {
  const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
  const RING_WAIT_MS = 5000; // the INVITE may reach the browser a moment after the offer's push

  function create(d) {
    const {h} = d;
    const phoneEl = document.getElementById("phone");
    let softphone = null;
    let ringingContact = null; // the contact whose call rings (or is up) in the softphone
    const device = () => (phoneEl ? phoneEl.dataset.device || "" : "");
    const callerNumber = (c) => (c.claim && c.claim.phone) || c.customer_phone || "unknown number";

    if (phoneEl) {
      phoneEl.addEventListener("phone:ready", (ev) => { softphone = ev.detail; d.ringing(); });
      phoneEl.addEventListener("phone:incoming", (ev) => {
        ringingContact = ev.detail.header("X-Callcenter-Contact") || null;
        d.ringing();
      });
      phoneEl.addEventListener("phone:state", (ev) => {
        if (ev.detail.call === "idle" || ev.detail.call === "ended") {
          // a caller who gives up while it rings sends the desk no push (the router's
          // abandon names no agent): the phone's CANCEL is the news, so read the desk again
          if (ringingContact !== null) d.ringing();
          ringingContact = null;
        }
        d.panes.forEach((p) => p.call && render(p));
      });
    }

    async function act(id, what) {
      d.clearError();
      const until = Date.now() + RING_WAIT_MS;
      while (!(softphone && softphone.state.call === "ringing" && ringingContact === id)) {
        if (Date.now() > until) {
          d.fail(softphone ? "the call has not reached your phone (" + softphone.state.registration + ")"
            : "your phone is not connected");
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      try { if (what === "answer") softphone.answer(); else softphone.decline(); } catch (e) { d.fail(e); return; }
      if (what === "answer") d.answered(id);
    }

    function tools(c) {
      const t = {recPaused: false};
      const guard = (fn) => () => { d.clearError(); try { fn(); } catch (e) { d.fail(e); } };
      t.number = h("p", {class: "call-number", "data-field": "call-number"}, "Caller ", h("bdi", {text: callerNumber(c)}));
      t.mute = h("button", {type: "button", "data-action": "mute", "aria-pressed": "false", text: "Mute",
        onclick: guard(() => softphone.mute(!softphone.state.muted))});
      t.hold = h("button", {type: "button", "data-action": "hold", "aria-pressed": "false", text: "Hold",
        onclick: () => toggleHold(c.id)});
      t.rec = h("button", {type: "button", "data-action": "recording", "aria-pressed": "false", text: "Pause recording",
        onclick: () => toggleRecording(c.id, t)});
      t.pad = h("div", {class: "call-pad", role: "group", "aria-label": "Dial pad"}, ...KEYS.map((k) =>
        h("button", {type: "button", "data-action": "dtmf", "data-key": k, "aria-label": "Dial pad " + k, text: k,
          onclick: guard(() => softphone.sendDtmf(k))})));
      t.end = h("button", {type: "button", class: "danger", "data-action": "end", text: "End call",
        onclick: () => d.end(c.id)});
      t.onPhone = h("p", {class: "muted", "data-field": "on-desk-phone", text: "On your desk phone", hidden: true});
      t.el = h("div", {class: "call-tools", "data-testid": "call-tools"}, t.number, t.onPhone,
        h("div", {class: "call-buttons"}, t.mute, t.hold, t.rec, t.end), t.pad);
      return t;
    }

    function render(p) {
      const t = p.call, active = p.el.dataset.status === "active";
      const mine = softphone && ringingContact === p.el.dataset.contact && softphone.state.call === "in call";
      t.el.hidden = !active;
      t.mute.hidden = t.pad.hidden = !mine;
      t.onPhone.hidden = !active || device() === "webrtc";
      const muted = Boolean(softphone && softphone.state.muted);
      t.mute.textContent = muted ? "Unmute" : "Mute";
      t.mute.setAttribute("aria-pressed", String(muted));
      const held = p.el.dataset.held === "1";
      t.hold.textContent = held ? "Resume call" : "Hold";
      t.hold.setAttribute("aria-pressed", String(held));
      t.rec.textContent = t.recPaused ? "Resume recording" : "Pause recording";
      t.rec.setAttribute("aria-pressed", String(t.recPaused));
    }

    async function toggleRecording(id, t) {
      const paused = !t.recPaused;
      const done = await d.act(async () => { await cc.api("POST", d.path(id) + "/recording", {paused}); return true; });
      if (!done) return;
      t.recPaused = paused;
      const p = d.panes.get(id);
      if (p) render(p);
    }

    async function toggleHold(id) {
      const p = d.panes.get(id);
      if (!p) return;
      const held = p.el.dataset.held !== "1";
      const done = await d.act(async () => { await cc.api("POST", d.path(id) + "/hold", {held}); return true; });
      if (!done) return;
      p.el.dataset.held = held ? "1" : "";  // the desk's push says so too, a moment later
      render(p);
    }

    return {device, callerNumber, act, tools, render};
  }

  return {create};
})();
