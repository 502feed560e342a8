// The agent's WebRTC softphone: a small layer over JsSIP (static/vendor/jssip.min.js,
// bundled from npm by scripts/build_js.sh) used by the desk's phone widget (phone.js).
//
//   const phone = CallcenterSoftphone.create({audio: audioElement});
//   phone.on("state", (s) => ...);        // {registration, call, reason}
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

  function create(options = {}) {
    const JsSIP = window.JsSIP;
    if (!JsSIP) throw new Error("softphone: JsSIP is not loaded (static/vendor/jssip.min.js)");
    const audio = options.audio || null;
    const handlers = {state: [], incoming: []};
    const status = {registration: "stopped", call: "idle", reason: "", muted: false};
    let ua = null;
    let session = null;
    let remoteStream = null;
    // The microphone's constraints: the browser's echo cancellation, noise suppression
    // and gain control by default; start({audio: {...}}) may turn them off (a steady
    // test tone is "noise" to the suppressor, which fades it out within seconds).
    let micConstraints = true;
    let cspWatch = null;

    function emit(kind, data) {
      for (const fn of handlers[kind]) {
        try { fn(data); } catch (e) { console.error("softphone: a handler failed", e); }
      }
    }
    function set(changes) {
      Object.assign(status, changes);
      emit("state", {...status});
    }

    function on(kind, fn) {
      if (!handlers[kind]) throw new Error(`softphone: unknown event "${kind}" (expected state or incoming)`);
      handlers[kind].push(fn);
      return () => { handlers[kind] = handlers[kind].filter((f) => f !== fn); };
    }

    function start(cfg) {
      for (const key of ["wsUrl", "uri", "password"]) {
        if (!cfg || !cfg[key]) throw new Error(`softphone: start() needs ${key}`);
      }
      stop();
      micConstraints = cfg.audio || true;
      const socket = new JsSIP.WebSocketInterface(cfg.wsUrl);
      ua = new JsSIP.UA({
        sockets: [socket],
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
      ua.on("connecting", () => set({registration: "registering", reason: ""}));
      ua.on("registered", () => set({registration: "registered", reason: ""}));
      ua.on("unregistered", () => {
        if (status.registration !== "failed") set({registration: "stopped", reason: ""});
      });
      ua.on("registrationFailed", (e) => set({registration: "failed", reason: failure(e)}));
      // A lost socket: JsSIP reconnects and registers again; until then we are not reachable.
      ua.on("disconnected", () => {
        if (!ua || status.registration === "stopped") return;
        const was = status.registration === "registered" || status.reason === "connection lost";
        set({registration: "failed", reason: was ? "connection lost" : "cannot connect"});
      });
      ua.on("newRTCSession", (e) => { if (e.originator === "remote") incoming(e.session, e.request); });
      // A WebSocket the page's CSP refuses fails silently in JsSIP (it only logs):
      // say so, it is a server configuration error (api/http_guard.py voice_csp).
      cspWatch = (e) => {
        if (ua && e.blockedURI && cfg.wsUrl.startsWith(e.blockedURI)) {
          set({registration: "failed", reason: "blocked by the page's Content-Security-Policy (connect-src)"});
          const blocked = ua; ua = null; blocked.stop();  // retrying cannot help until a reload
        }
      };
      document.addEventListener("securitypolicyviolation", cspWatch);
      set({registration: "registering", reason: ""});
      ua.start();
    }

    function failure(e) {
      const r = e && e.response;
      if (r && r.status_code) return `${e.cause || "rejected"} (${r.status_code} ${r.reason_phrase || ""})`.trim();
      return (e && e.cause) || "registration failed";
    }

    function incoming(s, request) {
      if (session) { s.terminate({status_code: 486, reason_phrase: "Busy Here"}); return; }
      session = s;
      const headers = {};
      for (const [name, values] of Object.entries(request.headers || {})) {
        headers[name.toLowerCase()] = values.map((v) => v.raw);
      }
      s.on("peerconnection", (ev) => watchTracks(ev.peerconnection));
      s.on("accepted", () => set({call: "in call", reason: ""}));
      s.on("confirmed", () => { if (status.call !== "in call") set({call: "in call", reason: ""}); });
      s.on("ended", (ev) => finish(s, ev.cause || "ended"));
      s.on("failed", (ev) => finish(s, ev.cause || "failed"));
      set({call: "ringing", reason: "", muted: false});
      emit("incoming", {
        number: request.from.uri.user || "",
        displayName: request.from.display_name || "",
        headers,
        header: (name) => { const v = headers[String(name).toLowerCase()]; return v ? v[0] : null; },
      });
    }

    function watchTracks(pc) {
      pc.addEventListener("track", (ev) => {
        remoteStream = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
        if (audio) {
          audio.srcObject = remoteStream;
          const played = audio.play();
          if (played && played.catch) played.catch((err) => console.warn("softphone: audio", err));
        }
      });
    }

    function finish(s, cause) {
      if (session !== s) return;
      session = null;
      remoteStream = null;
      if (audio) audio.srcObject = null;
      set({call: "ended", reason: cause, muted: false});
    }

    function need(what) {
      if (!session) throw new Error(`softphone: no call to ${what}`);
      return session;
    }

    function answer() {
      need("answer").answer({
        mediaConstraints: {audio: micConstraints, video: false},
        pcConfig: {iceServers: []},
      });
    }
    function decline() { need("decline").terminate({status_code: 603, reason_phrase: "Decline"}); }
    function hangup() { need("hang up").terminate(); }

    function mute(on) {
      const s = need("mute");
      if (on) s.mute({audio: true}); else s.unmute({audio: true});
      set({muted: Boolean(on)});
    }

    function sendDtmf(digit) {
      const d = String(digit);
      if (!DTMF.test(d)) throw new Error(`softphone: DTMF digit "${d}" is not one of 0-9 * # A-D`);
      need("send DTMF to").sendDTMF(d, {transportType: "RFC2833", duration: 160, interToneGap: 100});
    }

    function stop() {
      if (session) { try { session.terminate(); } catch (_) { /* already ended */ } }
      if (cspWatch) { document.removeEventListener("securitypolicyviolation", cspWatch); cspWatch = null; }
      if (ua) { const old = ua; ua = null; old.stop(); }
      if (status.registration !== "stopped") set({registration: "stopped", reason: ""});
    }

    return {
      on, start, stop, answer, decline, hangup, mute, sendDtmf,
      get state() { return {...status}; },
      get remoteStream() { return remoteStream; },
      /** The call's RTCPeerConnection (for getStats), or null. */
      get connection() { return session ? session.connection || null : null; },
      get inCall() { return session !== null; },
    };
  }

  window.CallcenterSoftphone = {create, REGISTRATION, CALL};
})();
