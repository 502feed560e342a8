// The agent's WebRTC softphone: a small layer over JsSIP (static/vendor/jssip.min.js,
// bundled from npm by scripts/build_js.sh) used by the desk's phone widget (phone.js).
//
//   const phone = CallcenterSoftphone.create({audio: audioElement});
//   phone.on("state", (s) => ...);        // {registration, call, reason, muted}
//   phone.on("incoming", (c) => ...);     // {number, displayName, headers, header(name)}
//   phone.start({wsUrl, uri, authorizationUser, password, displayName, audio});
//   phone.answer(); phone.decline(); phone.hangup(); phone.mute(true); phone.sendDtmf("5");
//
// One standing registration over SIP-over-WebSocket (Asterisk's /ws); JsSIP reconnects a
// lost socket by itself (backing off from 1 s to 10 s) and registers again once it is
// back. One call at a time: a second INVITE while one is ringing or up is answered 486.
// Audio is G.711 (the Asterisk build has no opus; its offer lists PCMU/PCMA only), DTMF
// is RFC 4733 (JsSIP's transportType "RFC2833": RTP events through RTCDTMFSender).
"use strict";
(() => {
  const REGISTRATION = ["stopped", "registering", "registered", "failed"];
  const CALL = ["idle", "ringing", "in call", "ended"];
  const DTMF = /^[0-9*#A-Da-d]$/;
  const CSP_BLOCKED = "blocked by the page's Content-Security-Policy (connect-src)";

  class Softphone {
    constructor(options = {}) {
      if (!window.JsSIP) throw new Error("softphone: JsSIP is not loaded (static/vendor/jssip.min.js)");
      this.audio = options.audio || null;
      this.handlers = {state: [], incoming: []};
      this.status = {registration: "stopped", call: "idle", reason: "", muted: false};
      this.ua = null;
      this.session = null;
      this.remote = null;
      // The microphone's constraints: the browser's echo cancellation, noise suppression
      // and gain control by default; start({audio: {...}}) may turn them off (a steady
      // test tone is "noise" to the suppressor, which fades it out within seconds).
      this.micConstraints = true;
      this.cspWatch = null;
    }

    // ------------------------------------------------------------ events
    on(kind, fn) {
      if (!this.handlers[kind]) throw new Error(`softphone: unknown event "${kind}" (expected state or incoming)`);
      this.handlers[kind].push(fn);
      return () => { this.handlers[kind] = this.handlers[kind].filter((f) => f !== fn); };
    }

    emit(kind, data) {
      for (const fn of this.handlers[kind]) {
        try { fn(data); } catch (e) { console.error("softphone: a handler failed", e); }
      }
    }

    set(changes) {
      Object.assign(this.status, changes);
      this.emit("state", {...this.status});
    }

    // ------------------------------------------------------------ registration
    start(cfg) {
      for (const key of ["wsUrl", "uri", "password"]) {
        if (!cfg || !cfg[key]) throw new Error(`softphone: start() needs ${key}`);
      }
      this.stop();
      this.micConstraints = cfg.audio || true;
      this.ua = new window.JsSIP.UA({
        sockets: [new window.JsSIP.WebSocketInterface(cfg.wsUrl)],
        uri: cfg.uri,
        authorization_user: cfg.authorizationUser || undefined,
        password: cfg.password,
        display_name: cfg.displayName || undefined,
        register: true,
        register_expires: 300,
        session_timers: false,
        connection_recovery_min_interval: 1,
        connection_recovery_max_interval: 10,
        user_agent: "callcenter-softphone",
      });
      this.watchUa(this.ua);
      this.watchCsp(cfg.wsUrl);
      this.set({registration: "registering", reason: ""});
      this.ua.start();
    }

    watchUa(ua) {
      const mine = () => this.ua === ua;
      ua.on("connecting", () => { if (mine()) this.set({registration: "registering", reason: ""}); });
      ua.on("registered", () => { if (mine()) this.set({registration: "registered", reason: ""}); });
      ua.on("registrationFailed", (e) => {
        if (mine()) this.set({registration: "failed", reason: failure(e)});
      });
      // A lost socket: JsSIP reconnects and registers again; until then we are not reachable.
      ua.on("disconnected", () => {
        if (!mine()) return;
        const was = this.status.registration === "registered" || this.status.reason === "connection lost";
        this.set({registration: "failed", reason: was ? "connection lost" : "cannot connect"});
      });
      ua.on("newRTCSession", (e) => {
        if (mine() && e.originator === "remote") this.incoming(e.session, e.request);
      });
    }

    // A WebSocket the page's CSP refuses fails silently in JsSIP (it only logs, then
    // retries): say so, it is a server configuration error (api/http_guard.py voice_csp).
    watchCsp(wsUrl) {
      this.cspWatch = (e) => {
        if (!this.ua || !e.blockedURI || !wsUrl.startsWith(e.blockedURI)) return;
        this.set({registration: "failed", reason: CSP_BLOCKED});
        const blocked = this.ua;
        this.ua = null;
        blocked.stop(); // retrying cannot help until the page is reloaded
      };
      document.addEventListener("securitypolicyviolation", this.cspWatch);
    }

    stop() {
      if (this.session) { try { this.session.terminate(); } catch (_) { /* already ended */ } }
      if (this.cspWatch) document.removeEventListener("securitypolicyviolation", this.cspWatch);
      this.cspWatch = null;
      if (this.ua) { const old = this.ua; this.ua = null; old.stop(); }
      if (this.status.registration !== "stopped") this.set({registration: "stopped", reason: ""});
    }

    // ------------------------------------------------------------ calls
    incoming(s, request) {
      if (this.session) { s.terminate({status_code: 486, reason_phrase: "Busy Here"}); return; }
      this.session = s;
      const headers = {};
      for (const [name, values] of Object.entries(request.headers || {})) {
        headers[name.toLowerCase()] = values.map((v) => v.raw);
      }
      s.on("peerconnection", (ev) => this.watchTracks(ev.peerconnection));
      s.on("accepted", () => this.set({call: "in call", reason: ""}));
      s.on("confirmed", () => { if (this.status.call !== "in call") this.set({call: "in call", reason: ""}); });
      s.on("ended", (ev) => this.finish(s, ev.cause || "ended"));
      s.on("failed", (ev) => this.finish(s, ev.cause || "failed"));
      this.set({call: "ringing", reason: "", muted: false});
      this.emit("incoming", {
        number: request.from.uri.user || "",
        displayName: request.from.display_name || "",
        headers,
        header: (name) => { const v = headers[String(name).toLowerCase()]; return v ? v[0] : null; },
      });
    }

    watchTracks(pc) {
      pc.addEventListener("track", (ev) => {
        this.remote = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
        if (!this.audio) return;
        this.audio.srcObject = this.remote;
        const played = this.audio.play();
        if (played && played.catch) played.catch((err) => console.warn("softphone: audio", err));
      });
    }

    finish(s, cause) {
      if (this.session !== s) return;
      this.session = null;
      this.remote = null;
      if (this.audio) this.audio.srcObject = null;
      this.set({call: "ended", reason: cause, muted: false});
    }

    need(what) {
      if (!this.session) throw new Error(`softphone: no call to ${what}`);
      return this.session;
    }

    answer() {
      this.need("answer").answer({
        mediaConstraints: {audio: this.micConstraints, video: false},
        pcConfig: {iceServers: []},
      });
    }

    decline() { this.need("decline").terminate({status_code: 603, reason_phrase: "Decline"}); }

    hangup() { this.need("hang up").terminate(); }

    mute(on) {
      const s = this.need("mute");
      if (on) s.mute({audio: true}); else s.unmute({audio: true});
      this.set({muted: Boolean(on)});
    }

    sendDtmf(digit) {
      const d = String(digit);
      if (!DTMF.test(d)) throw new Error(`softphone: DTMF digit "${d}" is not one of 0-9 * # A-D`);
      this.need("send DTMF to").sendDTMF(d, {transportType: "RFC2833", duration: 160, interToneGap: 100});
    }

    // ------------------------------------------------------------ read-only views
    get state() { return {...this.status}; }
    get remoteStream() { return this.remote; }
    /** The call's RTCPeerConnection (for getStats), or null. */
    get connection() { return this.session ? this.session.connection || null : null; }
    get inCall() { return this.session !== null; }
  }

  function failure(e) {
    const r = e && e.response;
    if (r && r.status_code) return `${e.cause || "rejected"} (${r.status_code} ${r.reason_phrase || ""})`.trim();
    return (e && e.cause) || "registration failed";
  }

  window.CallcenterSoftphone = {create: (options) => new Softphone(options), Softphone, REGISTRATION, CALL};
})();
