// The customer chat widget: embed it on any page with
//   <script src="https://center.example/static/widget.js" data-queue="support"></script>
// Options (data- attributes of the script tag): data-queue (the chat queue, default
// "support"), data-title (the panel's heading), data-mode="page" (draw the panel in place,
// open, without the floating button — what /chat uses).
// No dependencies; everything lives in a shadow root so the host page's styles and ours
// never mix. All text from the network is set with textContent (never parsed as HTML).
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const base = new URL(script.src, location.href);
  const origin = base.origin;
  const queue = script.dataset.queue || "support";
  const pageMode = script.dataset.mode === "page";
  const title = script.dataset.title || "Chat with us";
  const storeKey = "cc-chat:" + origin + ":" + queue;

  const CSS = `
    :host { all: initial; font: 14px/1.45 system-ui, sans-serif; color: #1d2430; }
    * { box-sizing: border-box; font: inherit; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0;
      border-radius: 24px; padding: 12px 18px; background: #1f6feb; color: #fff; cursor: pointer;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    .panel { display: flex; flex-direction: column; background: #fff; border: 1px solid #dde2ea;
      border-radius: 10px; overflow: hidden; box-shadow: 0 8px 28px rgba(0,0,0,.18); }
    .panel.float { position: fixed; right: 20px; bottom: 76px; width: 340px; height: 480px;
      z-index: 2147483000; }
    .panel.page { width: 100%; height: 70vh; min-height: 420px; }
    .panel[hidden] { display: none; }
    header { background: #1d2430; color: #fff; padding: 10px 12px; display: flex; gap: 8px;
      align-items: center; }
    header h2 { margin: 0; font-size: 15px; font-weight: 600; flex: 1; }
    header button { background: none; border: 0; color: #fff; cursor: pointer; font-size: 18px; }
    .status { padding: 6px 12px; background: #f4f6f9; color: #5b6575; border-bottom: 1px solid #dde2ea; }
    .body { flex: 1; overflow: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
    form { display: flex; flex-direction: column; gap: 8px; }
    label { display: flex; flex-direction: column; gap: 2px; color: #5b6575; }
    input, textarea { border: 1px solid #dde2ea; border-radius: 6px; padding: 6px 8px; color: #1d2430; }
    textarea { resize: vertical; min-height: 48px; }
    button.primary { background: #1f6feb; color: #fff; border: 0; border-radius: 6px; padding: 8px 12px;
      cursor: pointer; }
    button.plain { background: #fff; border: 1px solid #dde2ea; border-radius: 6px; padding: 6px 10px;
      cursor: pointer; }
    button:disabled { opacity: .6; cursor: default; }
    .msg { max-width: 85%; padding: 6px 10px; border-radius: 10px; white-space: pre-wrap;
      word-wrap: break-word; }
    .msg.customer { align-self: flex-end; background: #1f6feb; color: #fff; }
    .msg.agent { align-self: flex-start; background: #eef1f6; }
    .msg.system { align-self: center; background: none; color: #5b6575; font-size: 12px; }
    .who { display: block; font-size: 11px; opacity: .75; }
    .compose { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #dde2ea; }
    .compose textarea { flex: 1; min-height: 38px; }
    .error { color: #cf222e; min-height: 1em; }
    .stars { display: flex; gap: 6px; }
    .stars button { flex: 1; padding: 8px 0; border: 1px solid #dde2ea; border-radius: 6px;
      background: #fff; cursor: pointer; }
    .stars button[aria-pressed="true"] { background: #1f6feb; color: #fff; border-color: #1f6feb; }
    .muted { color: #5b6575; }
  `;

  // ------------------------------------------------------------------ DOM helpers
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

  const host = h("div", {id: "cc-chat-widget"});
  if (pageMode) script.after(host); else document.body.append(host);
  const root = host.attachShadow({mode: "open"});
  root.append(h("style", {text: CSS}));

  const statusLine = h("div", {class: "status", "data-testid": "chat-status", role: "status"});
  const body = h("div", {class: "body", "data-testid": "chat-body"});
  const closeBtn = pageMode ? null : h("button", {type: "button", "aria-label": "Close", text: "×",
    onclick: () => show(false)});
  const panel = h("section", {class: "panel " + (pageMode ? "page" : "float"), "data-testid": "chat-panel",
    hidden: !pageMode, "aria-label": title},
    h("header", {}, h("h2", {text: title}), closeBtn), statusLine, body);
  const launcher = pageMode ? null : h("button", {class: "launcher", type: "button",
    "data-testid": "chat-launcher", text: title, onclick: () => show(panel.hidden)});
  if (launcher) root.append(launcher);
  root.append(panel);

  function show(open) { panel.hidden = !open; if (open) (root.querySelector("textarea, input") || {focus() {}}).focus(); }
  function setStatus(text) { statusLine.textContent = text; }

  // ------------------------------------------------------------------ network
  let chat = null; // {id, token}
  let socket = null;
  const shown = new Set(); // message ids on screen

  async function call(method, path, payload) {
    const headers = {};
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    if (chat) headers["X-Chat-Token"] = chat.token;
    const r = await fetch(origin + path, {method, headers, mode: "cors", credentials: "omit",
      body: payload === undefined ? undefined : JSON.stringify(payload)});
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error((data.error && data.error.message) || ("request failed: " + r.status));
      e.status = r.status;
      // 429: the server says how long to wait (Retry-After, whole seconds)
      e.retryAfter = Math.max(1, parseInt(r.headers.get("Retry-After") || "", 10) || 1);
      throw e;
    }
    return data;
  }

  function save() {
    try {
      if (chat) sessionStorage.setItem(storeKey, JSON.stringify(chat));
      else sessionStorage.removeItem(storeKey);
    } catch (_) { /* storage may be off: the chat then lasts as long as the page */ }
  }

  // The socket opens with a one-use ticket (the chat token never goes in a URL, where
  // access logs keep it); every reconnect gets a new one. Closed 4429 (too many sockets
  // on this chat or address: other tabs) or refused a ticket (429): wait and try again.
  function connect() {
    if (!chat) return;
    const current = chat;
    let delay = 500;
    const retry = (ms) => { if (chat === current) setTimeout(open, ms); };
    const open = async () => {
      if (chat !== current) return;
      let ticket;
      try {
        ticket = (await call("POST", "/api/chat/" + encodeURIComponent(current.id) + "/socket")).ticket;
      } catch (e) {
        if (e.status === 404 || e.status === 401) { refresh(); return; } // the chat is gone
        retry(e.status === 429 ? e.retryAfter * 1000 : (delay = Math.min(delay * 2, 8000)));
        return;
      }
      if (chat !== current) return;
      const url = origin.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(current.id) +
        "?ticket=" + encodeURIComponent(ticket);
      const ws = new WebSocket(url);
      socket = ws;
      ws.onopen = () => { delay = 500; refresh(); };
      ws.onmessage = (ev) => onPush(JSON.parse(ev.data));
      ws.onclose = (ev) => {
        if (socket !== ws || chat !== current) return;
        if (ev.code === 4429) setStatus("This chat is open in too many windows; close one, please.");
        retry(ev.code === 4429 ? 15000 : (delay = Math.min(delay * 2, 8000)));
      };
    };
    open();
  }

  function disconnect() { const ws = socket; socket = null; if (ws) ws.close(); }

  // ------------------------------------------------------------------ views
  const STATUS = {
    queued: "Waiting for an agent…",
    ringing: "Waiting for an agent…",
    wrapup: "The chat has ended.",
    closed: "The chat has ended.",
    abandoned: "You left the chat.",
    timeout: "Sorry, nobody could answer in time.",
  };
  const ENDED = new Set(["wrapup", "closed", "abandoned", "timeout"]);
  let transcript = null, input = null, sendBtn = null, endBtn = null, rated = false, lastStatus = null;
  let notice = null; // "slow down" after a 429

  async function startView() {
    body.replaceChildren();
    setStatus("");
    const error = h("p", {class: "error", "data-testid": "chat-error", role: "alert"});
    const form = h("form", {"data-testid": "chat-start-form"},
      h("label", {}, "Your name", h("input", {name: "name", required: true, maxlength: "255", autocomplete: "name"})),
      h("label", {}, "E-mail", h("input", {name: "email", type: "email", maxlength: "254", autocomplete: "email"})),
      h("label", {}, "Phone (optional)", h("input", {name: "phone", type: "tel", maxlength: "32", autocomplete: "tel"})),
      h("label", {}, "How can we help?", h("textarea", {name: "message", maxlength: "4000", rows: "3"})),
      h("button", {class: "primary", type: "submit", "data-testid": "chat-start", text: "Start chat"}),
      error);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const f = form.elements, btn = form.querySelector("button");
      btn.disabled = true;
      error.textContent = "";
      try {
        const out = await call("POST", "/api/chat/start", {queue, name: f.name.value,
          email: f.email.value || null, phone: f.phone.value || null, message: f.message.value || null});
        chat = {id: out.contact_id, token: out.token};
        rated = false;
        save();
        chatView();
        connect();
      } catch (e) {
        if (e.status === 429) {
          error.textContent = "Too many chats were started from your network just now. Please try again in " +
            e.retryAfter + " s.";
          setTimeout(() => { btn.disabled = false; }, e.retryAfter * 1000);
          return;
        }
        error.textContent = e.message; btn.disabled = false;
      }
    });
    body.append(form);
    try {
      const av = await call("GET", "/api/chat/availability?queue=" + encodeURIComponent(queue));
      if (!av.open) {
        setStatus("We are closed now. Opening hours: " + av.hours);
        form.querySelector("button").disabled = true;
      }
    } catch (e) { setStatus(e.message); }
  }

  function chatView() {
    shown.clear();
    lastStatus = null;
    transcript = h("div", {class: "body", "data-testid": "chat-transcript", "aria-live": "polite"});
    input = h("textarea", {"data-testid": "chat-input", maxlength: "4000", placeholder: "Write a message…",
      "aria-label": "Message"});
    sendBtn = h("button", {class: "primary", type: "button", "data-testid": "chat-send", text: "Send", onclick: send});
    endBtn = h("button", {class: "plain", type: "button", "data-testid": "chat-end", text: "End chat", onclick: end});
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); send(); } });
    notice = h("p", {class: "error", "data-testid": "chat-notice", role: "alert"});
    body.replaceChildren(verifyBox(), transcript, notice, h("div", {class: "compose"}, input, sendBtn), h("div", {}, endBtn));
    setStatus("Connecting…");
  }

  // Lines are drawn in one fragment and scrolled to once (no layout per line).
  function addMessages(list) {
    if (!transcript) return;
    const frag = document.createDocumentFragment();
    for (const m of list) {
      if (shown.has(m.id)) continue;
      shown.add(m.id);
      const who = m.sender === "agent" ? (m.agent_name || "Agent") : m.sender === "customer" ? "You" : null;
      const el = h("div", {class: "msg " + m.sender, "data-testid": "chat-message", "data-sender": m.sender});
      if (who) el.append(h("span", {class: "who", text: who}));
      el.append(document.createTextNode(m.body));
      frag.append(el);
    }
    if (!frag.childNodes.length) return;
    transcript.append(frag);
    transcript.scrollTop = transcript.scrollHeight;
  }
  const addMessage = (m) => addMessages([m]);

  function applyStatus(status, agentName) {
    if (status === lastStatus && status !== "active") return;
    lastStatus = status;
    setStatus(status === "active" ? "You are chatting with " + (agentName || "an agent") + "." : (STATUS[status] || status));
    statusLine.dataset.status = status;
    if (ENDED.has(status)) {
      if (input) { input.disabled = true; sendBtn.disabled = true; endBtn.hidden = true; }
      disconnect();
      // the last words (e.g. "Ann ended the chat.") may be pushed after the status
      // change that closed the socket: read the transcript once more
      refresh();
      if (!rated) csatView();
      else (transcript ? transcript.parentNode : body).append(thanks());
    }
  }

  async function refresh() {
    if (!chat) return;
    try {
      const c = await call("GET", "/api/chat/" + encodeURIComponent(chat.id));
      addMessages(c.messages);
      if (c.csat != null) rated = true;
      showVerify(c.email_verification, c.ended);
      applyStatus(c.status, c.agent_name);
    } catch (e) {
      if (e.status === 404 || e.status === 401) { chat = null; save(); disconnect(); startView(); }
    }
  }

  function onPush(m) {
    if (m.type === "message") addMessage(m.message);
    else if (m.type === "status") applyStatus(m.status, m.agent_name);
  }

  async function send() {
    const text = input.value.trim();
    if (!text || sendBtn.disabled) return;
    sendBtn.disabled = true;
    notice.textContent = "";
    try {
      addMessage(await call("POST", "/api/chat/" + encodeURIComponent(chat.id) + "/messages", {body: text}));
      input.value = "";
    } catch (e) {
      if (e.status === 429) { slowDown(e); return; } // the text stays in the box
      addMessage({id: "err" + Date.now(), sender: "system", body: e.message});
    }
    sendBtn.disabled = ENDED.has(lastStatus);
    input.focus();
  }

  // Too many messages (429): say so, and let the customer send again after Retry-After.
  function slowDown(e) {
    notice.textContent = "Please slow down: you are sending messages too fast. You can send again in " +
      e.retryAfter + " s.";
    notice.title = e.message;
    setTimeout(() => {
      notice.textContent = "";
      sendBtn.disabled = ENDED.has(lastStatus);
    }, e.retryAfter * 1000);
  }

  async function end() {
    endBtn.disabled = true;
    try {
      const out = await call("POST", "/api/chat/" + encodeURIComponent(chat.id) + "/end");
      await refresh();
      applyStatus(out.status, null);
    } catch (e) { endBtn.disabled = false; setStatus(e.message); }
  }

  function csatView() {
    let score = 0;
    const error = h("p", {class: "error", role: "alert"});
    const stars = h("div", {class: "stars", role: "group", "aria-label": "Score from 1 to 5"});
    for (let i = 1; i <= 5; i++) {
      stars.append(h("button", {type: "button", "data-score": String(i), "aria-pressed": "false", text: String(i),
        onclick: () => {
          score = i;
          stars.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.score) === i)));
          sendBtn2.disabled = false;
        }}));
    }
    const comment = h("textarea", {"data-testid": "csat-comment", maxlength: "2000", placeholder: "Anything to add? (optional)"});
    const sendBtn2 = h("button", {class: "primary", type: "button", "data-testid": "csat-send", text: "Send rating", disabled: true});
    const box = h("form", {"data-testid": "csat"}, h("strong", {text: "How satisfied are you with this chat?"}),
      h("span", {class: "muted", text: "1 = very unhappy, 5 = very happy"}), stars, comment, sendBtn2, error);
    sendBtn2.addEventListener("click", async () => {
      sendBtn2.disabled = true;
      try {
        await call("POST", "/api/chat/" + encodeURIComponent(chat.id) + "/csat", {score, comment: comment.value || null});
        rated = true;
        box.replaceWith(thanks());
      } catch (e) { error.textContent = e.message; sendBtn2.disabled = false; }
    });
    (transcript ? transcript.parentNode : body).append(box);
  }

  function thanks() {
    return h("div", {"data-testid": "csat-thanks"}, h("p", {text: "Thank you for your feedback!"}),
      h("button", {class: "plain", type: "button", text: "Start a new chat",
        onclick: () => { chat = null; save(); startView(); }}));
  }

  // ------------------------------------------------------------------ e-mail proof
  // What the customer typed is only a claim; a one-time code mailed to the address proves
  // it (POST /api/chat/{id}/verify, then /verify/confirm {code}) and links the chat to the
  // customer with that e-mail. Offered while the chat runs and the e-mail is unverified.
  let verifyEl = null;
  function verifyBox() {
    const msg = h("span", {class: "muted", "data-testid": "verify-msg",
      text: "Confirm your e-mail so the agent can see your history."});
    const code = h("input", {"data-testid": "verify-code", inputmode: "numeric", autocomplete: "one-time-code",
      maxlength: "6", placeholder: "6-digit code", "aria-label": "Code from the e-mail", hidden: true});
    const ok = h("button", {class: "plain", type: "button", "data-testid": "verify-confirm", text: "Confirm", hidden: true});
    const ask = h("button", {class: "plain", type: "button", "data-testid": "verify-send", text: "Send me a code"});
    const path = () => "/api/chat/" + encodeURIComponent(chat.id) + "/verify";
    ask.addEventListener("click", async () => {
      ask.disabled = true;
      try {
        const out = await call("POST", path());
        msg.textContent = "We sent a code to " + out.email + ".";
        code.hidden = ok.hidden = false;
        ask.textContent = "Send a new code";
        code.focus();
      } catch (e) { msg.textContent = e.message; if (e.status === 503) ask.hidden = true; }
      ask.disabled = false;
    });
    ok.addEventListener("click", async () => {
      ok.disabled = true;
      try {
        await call("POST", path() + "/confirm", {code: code.value});
        showVerify("verified", false);
      } catch (e) { msg.textContent = e.message; }
      ok.disabled = false;
    });
    verifyEl = h("div", {class: "status", "data-testid": "verify", hidden: true}, msg, " ", ask, " ", code, " ", ok);
    return verifyEl;
  }
  function showVerify(state, ended) {
    if (!verifyEl) return;
    if (state === "verified") {
      verifyEl.replaceChildren(h("span", {"data-testid": "verify-done", text: "Your e-mail is confirmed."}));
    }
    verifyEl.hidden = state === "none" || (ended && state !== "verified");
  }

  // ------------------------------------------------------------------ start
  try { chat = JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch (_) { chat = null; }
  if (chat && chat.id && chat.token) { chatView(); connect(); if (!pageMode) show(true); }
  else { chat = null; startView(); }
})();
