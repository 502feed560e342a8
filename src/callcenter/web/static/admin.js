// The administration page: one tab per resource (a table and a form to add, edit and
// delete), all through the /api/admin/... and /api/users endpoints with cc.api.  Every
// text from the server goes through cc.esc before it reaches innerHTML.  Without the
// config.write permission the page is read-only; the Users tab needs users.manage.
// The Telephony tabs (trunks, numbers, agents' phones: /api/admin/voice/...) need
// users.manage too; a phone's generated SIP password is shown once, in #admin-secret.
// The IVR tabs (flows as YAML, prompts and their upload: /api/admin/ivr/...) need
// users.manage; a flow that cannot work is refused with one line, shown in #admin-status.
// A queue's call options (announcements, call-back key and prompt, recording) are shown
// and sent only while its channel is voice.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const esc = cc.esc;
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const STRATEGIES = ["longest_idle", "round_robin", "fewest_contacts", "least_occupied", "best_proficiency"];
  const CHANNELS = ["chat", "voice", "email", "callback"];
  const ROLES = ["agent", "supervisor", "manager", "qa", "admin"];
  const TRUNK_KINDS = ["ip", "register"];
  const DTMF = ["rfc4733", "info", "inband", "auto"];
  const TARGETS = ["queue", "ivr"];
  const DEVICES = ["webrtc", "sip"];
  const VOICE = "/api/admin/voice";
  const deviceUrl = (agent) => VOICE + "/agents/" + encodeURIComponent(agent) + "/device";
  const FLOWS = "/api/admin/ivr/flows", PROMPTS = "/api/admin/ivr/prompts";
  const flowUrl = (name) => FLOWS + "/" + encodeURIComponent(name);
  const NEW_FLOW = "name: main\nlanguage: en\nlanguages: [en]\nnodes:\n  welcome:\n    kind: menu\n" +
    "    prompt: vm-intro\n    options: {1: queue}\n    on_invalid: bye\n  queue:\n    kind: queue\n" +
    "    queue: support\n  bye:\n    kind: hangup\n    prompt: goodbye\n";
  // a multipart upload (cc.api sends JSON): same CSRF header, same error shape
  async function upload(url, data) {
    const r = await fetch(url, {method: "POST", body: data, credentials: "same-origin", headers: {"X-CSRF-Token": cc.csrf()}});
    const out = await r.json().catch(() => ({}));
    if (!r.ok) { const e = new Error((out.error && out.error.message) || r.statusText); e.status = r.status; throw e; }
    return out;
  }
  const callOptions = (r) => (r.channel !== "voice" ? "—" :
    (r.announce_every_s ? "announce every " + r.announce_every_s + " s" : "no announcements") +
    (r.callback_digit ? ", call back: " + r.callback_digit + " (" + r.callback_prompt + ")" : "") +
    (r.record_calls ? ", recorded" : ", not recorded"));
  const promptCounts = {text: ""};

  // ---- converting between form text and API values
  const split = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const num = (text) => { const n = Number(text); return text.trim() !== "" && Number.isFinite(n) ? n : text; };
  const pairs = (text) => Object.fromEntries(split(text).map((p) => { const [k, v = ""] = p.split(":"); return [k.trim(), num(v.trim())]; }));
  const showPairs = (obj) => Object.entries(obj || {}).map(([k, v]) => k + ":" + v).join(", ");
  const reqs = (text) => split(text).map((p) => { const [skill, level = "1"] = p.split(":"); return {skill: skill.trim(), min_level: num(level.trim())}; });
  const showReqs = (list) => (list || []).map((r) => r.skill + ":" + r.min_level).join(", ");
  const spans = (text) => split(text).map((p) => p.split("-").map((t) => t.trim()));
  const showSpans = (list) => (list || []).map((iv) => iv.join("-")).join(", ");
  const yes = (b) => (b ? "yes" : "no");
  const dash = (v) => (v === null || v === undefined || v === "" ? "—" : v);

  // ---- what each tab shows and edits
  // field: {name, label, kind: text|password|int|number|bool|select|list|pairs|reqs|week,
  //         nullable (blank sends null), fixed (not editable after creation), options and
  //         cast (select), get (the row's value when it is not row[name]), default (a new row's)}
  // Optional per resource: key (the row's id in URLs, default r.id), create/update/del
  // (instead of POST/PATCH/DELETE on url), actions (more row buttons: {label, run}).
  const lookups = {teams: [], hours: []};
  const RESOURCES = [
    {id: "skills", title: "Skills", url: "/api/admin/skills", label: (r) => r.name,
     help: "Skills agents hold at a level 1-10 and queues require. A skill in use cannot be renamed or deleted.",
     cols: [["Name", (r) => r.name], ["Description", (r) => r.description]],
     fields: [{name: "name", label: "Name", kind: "text"}, {name: "description", label: "Description", kind: "text"}]},
    {id: "queues", title: "Queues", url: "/api/admin/queues", label: (r) => r.name, remove: "Deactivate", needs: ["hours"],
     help: "Deactivating a queue stops routing to it (it keeps its name for history); not while contacts are in it.",
     cols: [["Name", (r) => r.name], ["Channel", (r) => r.channel], ["Strategy", (r) => r.strategy],
            ["Requires", (r) => showReqs(r.requirements)], ["Ring timeout s", (r) => r.ring_timeout_s],
            ["Service level", (r) => Math.round(r.sl_target * 100) + " % in " + r.sl_threshold_s + " s"],
            ["Overflow", (r) => dash(r.overflow_queue)], ["Hours", (r) => hoursName(r.business_hours_id)],
            ["Calls", callOptions], ["Active", (r) => yes(r.active)]],
     fields: [{name: "name", label: "Name", kind: "text", fixed: true},
              {name: "description", label: "Description", kind: "text"},
              {name: "channel", label: "Channel", kind: "select", options: () => CHANNELS.map((c) => [c, c])},
              {name: "strategy", label: "Strategy", kind: "select", options: () => STRATEGIES.map((s) => [s, s])},
              {name: "priority", label: "Priority (-100..100)", kind: "int"},
              {name: "requirements", label: "Required skills (skill:level, ...)", kind: "reqs"},
              {name: "ring_timeout_s", label: "Ring timeout (s)", kind: "number"},
              {name: "wrapup_s", label: "Wrap-up (s, blank: agent ends it)", kind: "number", nullable: true},
              {name: "max_wait_s", label: "Maximum wait (s, blank: none)", kind: "number", nullable: true},
              {name: "overflow_queue", label: "Overflow queue", kind: "text", nullable: true},
              {name: "sl_target", label: "Service-level target (0-1)", kind: "number"},
              {name: "sl_threshold_s", label: "Service-level threshold (s)", kind: "number"},
              {name: "business_hours_id", label: "Business hours", kind: "select", nullable: true, cast: Number,
               options: () => lookups.hours.map((h) => [h.id, h.name])},
              {name: "announce_every_s", label: "Calls: tell position and wait every (s; 0: never)", kind: "number", voice: true, default: 30},
              {name: "callback_digit", label: "Calls: call-back key (0-9, *, #; blank: none)", kind: "text", nullable: true, voice: true},
              {name: "callback_prompt", label: "Calls: prompt offering the call back", kind: "text", nullable: true, voice: true},
              {name: "record_calls", label: "Calls: record", kind: "bool", voice: true},
              {name: "active", label: "Active", kind: "bool"}]},
    {id: "agents", title: "Agents", url: "/api/admin/agents", label: (r) => r.name,
     help: "Agent profiles: users with the agent role get one when created (Users tab). A profile can be removed only once its user is no longer an active agent.",
     cols: [["Agent", (r) => r.name], ["Name", (r) => r.display_name], ["State", (r) => r.status + (r.status_reason ? " (" + r.status_reason + ")" : "")],
            ["Skills", (r) => showPairs(r.skills)], ["Capacity", (r) => r.capacity], ["Queues", (r) => (r.queues ? r.queues.join(", ") : "all it qualifies for")],
            ["Max no-answer", (r) => r.max_no_answer], ["Routes", (r) => yes(r.active)]],
     fields: [{name: "username", label: "Username (new profile)", kind: "text", fixed: true, get: (r) => r.name},
              {name: "skills", label: "Skills (skill:level 1-10, ...)", kind: "pairs"},
              {name: "capacity", label: "Capacity (1-10)", kind: "int"},
              {name: "queues", label: "Queues (blank: all it qualifies for)", kind: "list", nullable: true},
              {name: "max_no_answer", label: "Missed offers before pause (0: never)", kind: "int"}]},
    {id: "teams", title: "Teams", url: "/api/admin/teams", label: (r) => r.name,
     help: "Members are users (one team each); supervisors are supervisors or managers who see the team's contacts.",
     cols: [["Name", (r) => r.name], ["Members", (r) => r.members.join(", ")], ["Supervisors", (r) => r.supervisors.join(", ")]],
     fields: [{name: "name", label: "Name", kind: "text"}, {name: "members", label: "Members (usernames)", kind: "list"},
              {name: "supervisors", label: "Supervisors (usernames)", kind: "list"}]},
    {id: "hours", title: "Business hours", url: "/api/admin/business-hours", label: (r) => r.name,
     help: "Opening hours in a time zone: intervals per day as 08:00-12:00, 13:00-18:00 (blank: closed); holidays as YYYY-MM-DD.",
     cols: [["Name", (r) => r.name], ["Time zone", (r) => r.timezone], ["Hours", (r) => r.summary],
            ["Holidays", (r) => r.holidays.join(", ")], ["Open now", (r) => yes(r.open_now)]],
     fields: [{name: "name", label: "Name", kind: "text"}, {name: "timezone", label: "Time zone (e.g. Europe/Berlin)", kind: "text"},
              {name: "weekly", label: "", kind: "week"}, {name: "holidays", label: "Holidays (YYYY-MM-DD, ...)", kind: "list"}]},
    {id: "pause-reasons", title: "Pause reasons", url: "/api/admin/pause-reasons", label: (r) => r.name, remove: "Deactivate",
     help: "Reasons agents pick when they pause. Deactivating one hides it from agents; history keeps its name.",
     cols: [["Name", (r) => r.name], ["Paid", (r) => yes(r.paid)], ["Limit (min)", (r) => dash(r.max_minutes)], ["Active", (r) => yes(r.active)]],
     fields: [{name: "name", label: "Name", kind: "text", fixed: true}, {name: "paid", label: "Paid", kind: "bool"},
              {name: "max_minutes", label: "Limit in minutes (blank: none)", kind: "int", nullable: true},
              {name: "active", label: "Active", kind: "bool"}]},
    {id: "dispositions", title: "Dispositions", url: "/api/admin/dispositions", label: (r) => r.code, remove: "Deactivate",
     help: "Outcomes agents record at the end of a contact; 'resolved' ones count for first-contact resolution.",
     cols: [["Code", (r) => r.code], ["Label", (r) => r.label], ["Resolved", (r) => yes(r.resolved)], ["Active", (r) => yes(r.active)]],
     fields: [{name: "code", label: "Code", kind: "text", fixed: true}, {name: "label", label: "Label", kind: "text"},
              {name: "resolved", label: "Counts as resolved", kind: "bool"}, {name: "active", label: "Active", kind: "bool"}]},
    {id: "users", title: "Users", url: "/api/users", label: (r) => r.username, remove: "Deactivate", needs: ["teams"], permission: "users.manage",
     help: "People who sign in. Deactivating a user stops their sign-in; you cannot change your own role or deactivate yourself.",
     cols: [["Username", (r) => r.username], ["Name", (r) => r.display_name], ["Role", (r) => r.role], ["E-mail", (r) => dash(r.email)],
            ["Team", (r) => teamName(r.team_id)], ["Active", (r) => yes(r.active)]],
     fields: [{name: "username", label: "Username", kind: "text", fixed: true},
              {name: "password", label: "Password (blank: unchanged)", kind: "password"},
              {name: "role", label: "Role", kind: "select", options: () => ROLES.map((r) => [r, r])},
              {name: "display_name", label: "Display name", kind: "text"},
              {name: "email", label: "E-mail", kind: "text", nullable: true},
              {name: "team_id", label: "Team", kind: "select", nullable: true, cast: Number, options: () => lookups.teams.map((t) => [t.id, t.name])},
              {name: "active", label: "Active", kind: "bool"}]},
    {id: "voice-trunks", title: "Telephony: trunks", url: VOICE + "/trunks", label: (r) => r.name, key: (r) => r.name, permission: "users.manage",
     help: "SIP trunks from carriers. ip: the carrier is known by its source addresses (IPs or networks); register: we register to the carrier's server with a username and password (the password is never shown again). G.711 only (ulaw, alaw). A trunk that numbers arrive on cannot be deleted.",
     cols: [["Name", (r) => r.name], ["Kind", (r) => r.kind], ["Networks", (r) => r.networks.join(", ")], ["Server", (r) => dash(r.server)],
            ["Username", (r) => dash(r.username)], ["Password", (r) => (r.has_password ? "set" : "—")], ["Codecs", (r) => r.codecs.join(", ")],
            ["DTMF", (r) => r.dtmf_mode], ["Active", (r) => yes(r.active)], ["Carrier now", (r) => dash(r.state)]],
     fields: [{name: "name", label: "Name (a-z, 0-9, -)", kind: "text", fixed: true},
              {name: "kind", label: "Kind", kind: "select", options: () => TRUNK_KINDS.map((k) => [k, k])},
              {name: "networks", label: "ip: networks (203.0.113.7, 198.51.100.0/24)", kind: "list"},
              {name: "server", label: "register: server (host:port)", kind: "text", nullable: true},
              {name: "username", label: "register: username", kind: "text", nullable: true},
              {name: "password", label: "register: password (blank: unchanged)", kind: "password"},
              {name: "codecs", label: "Codecs (ulaw, alaw)", kind: "list", default: ["ulaw", "alaw"]},
              {name: "dtmf_mode", label: "DTMF", kind: "select", options: () => DTMF.map((d) => [d, d])},
              {name: "active", label: "Active", kind: "bool"}]},
    {id: "voice-numbers", title: "Telephony: numbers", url: VOICE + "/numbers", label: (r) => r.number, permission: "users.manage",
     help: "Telephone numbers (DIDs) and where their calls go: a voice queue or an IVR flow, with the prompts' language.",
     cols: [["Number", (r) => r.number], ["Trunk", (r) => dash(r.trunk)], ["Goes to", (r) => r.target_kind + " " + r.target],
            ["Language", (r) => r.language], ["Active", (r) => yes(r.active)]],
     fields: [{name: "number", label: "Number (digits, optional leading +)", kind: "text", fixed: true},
              {name: "trunk", label: "Trunk (blank: any)", kind: "text", nullable: true},
              {name: "target_kind", label: "Goes to", kind: "select", options: () => TARGETS.map((t) => [t, t])},
              {name: "target", label: "Queue or IVR flow name", kind: "text"},
              {name: "language", label: "Language (en, ru, ...)", kind: "text", default: "en"},
              {name: "active", label: "Active", kind: "bool"}]},
    {id: "voice-devices", title: "Telephony: phones", url: VOICE + "/devices", label: (r) => r.agent, key: (r) => r.agent, permission: "users.manage",
     help: "Each agent's phone: webrtc (the softphone in the desk, which gets short-lived credentials at sign-in) or sip (a desk phone). A sip phone's password is generated, shown once here, and kept only as its digest: type it into the phone with the username and realm.",
     cols: [["Agent", (r) => r.agent], ["Phone", (r) => r.kind], ["SIP username", (r) => r.sip_username], ["Realm", (r) => r.realm],
            ["Secret", (r) => (r.has_secret ? "set " + when(r.secret_set_at) : "—")]],
     fields: [{name: "agent", label: "Agent (username)", kind: "text", fixed: true},
              {name: "kind", label: "Phone", kind: "select", options: () => DEVICES.map((d) => [d, d])}],
     create: (body) => cc.api("PUT", deviceUrl(body.agent), {kind: body.kind}),
     update: (row, body) => cc.api("PUT", deviceUrl(row.agent), body),
     del: (row) => cc.api("DELETE", deviceUrl(row.agent)),
     actions: [{label: "New password", show: (r) => r.kind === "sip",
                run: (row) => cc.api("POST", deviceUrl(row.agent) + "/password")}]},
    {id: "ivr-flows", title: "IVR: flows", url: FLOWS, label: (r) => r.name, key: (r) => r.name, permission: "users.manage",
     help: "What callers hear and press before a person answers, in YAML (docs/ivr.md). Saving checks the flow: a missing prompt, a node never reached, a loop without exit, an unknown queue or business hours is refused with one line. A flow that numbers lead to cannot be deleted.",
     cols: [["Name", (r) => r.name], ["Nodes", (r) => r.nodes], ["Languages", (r) => r.languages.join(", ")],
            ["Numbers", (r) => r.numbers.join(", ") || "—"], ["Saved", (r) => when(r.updated_at) + (r.updated_by ? " by " + r.updated_by : "")]],
     fields: [{name: "name", label: "Name (as in the YAML)", kind: "text", fixed: true},
              {name: "source", label: "Flow (YAML)", kind: "textarea", default: NEW_FLOW}],
     fetch: (row) => cc.api("GET", flowUrl(row.name)),
     create: (body) => cc.api("PUT", flowUrl(body.name), {source: body.source}),
     update: (row, body) => cc.api("PUT", flowUrl(row.name), {source: body.source}),
     del: (row) => cc.api("DELETE", flowUrl(row.name))},
    {id: "ivr-prompts", title: "IVR: prompts", url: PROMPTS, label: (r) => r.language + "/" + r.name, permission: "users.manage",
     readonly: true, submit: "Upload",
     help: "The center's own recordings, per language; flows may also name Debian's recorded prompts. Upload a WAV or MP3 file: it is converted to 8 kHz mono (what calls carry) and replaces a prompt of the same name and language.",
     note: () => promptCounts.text,
     list: async () => {
       const langs = await cc.api("GET", PROMPTS);
       promptCounts.text = "Debian's prompts: " + (langs.filter((l) => l.system.length).map((l) => l.language + " " + l.system.length).join(", ") || "none") + ".";
       return langs.flatMap((l) => l.own.map((name) => ({name, language: l.language})));
     },
     cols: [["Name", (r) => r.name], ["Language", (r) => r.language]],
     fields: [{name: "name", label: "Name (a-z, 0-9, - and _)", kind: "text"},
              {name: "language", label: "Language (en, ru, ...)", kind: "text", default: "en"},
              {name: "file", label: "WAV or MP3 file", kind: "file"}],
     create: (body) => { const data = new FormData(); for (const k of ["name", "language", "file"]) if (body[k] != null) data.append(k, body[k]); return upload(PROMPTS, data); }},
  ];
  const hoursName = (id) => { const h = lookups.hours.find((x) => x.id === id); return h ? h.name : dash(id); };
  const teamName = (id) => { const t = lookups.teams.find((x) => x.id === id); return t ? t.name : dash(id); };

  const state = {perms: new Set(), res: null, rows: [], editing: null, tokensOf: null};
  const canWrite = () => state.perms.has(state.res.permission || "config.write");

  function status(text, isError) {
    const el = $("admin-status");
    el.textContent = text || "";
    el.className = isError ? "error" : "ok";
  }

  // ---- the form
  function inputFor(f, value) {
    const id = "f-" + f.name;
    const label = '<span>' + esc(f.label) + "</span>";
    const voice = f.voice ? " data-voice" : "";
    if (f.kind === "bool") {
      return '<label class="check"' + voice + '><input type="checkbox" id="' + id + '" name="' + f.name + '"' + (value ? " checked" : "") + ">" + label + "</label>";
    }
    if (f.kind === "textarea") { // code (YAML): left to right even on a right-to-left page
      return '<label class="wide">' + label + '<textarea id="' + id + '" name="' + f.name + '" rows="18" dir="ltr" spellcheck="false">' + esc(value ?? "") + "</textarea></label>";
    }
    if (f.kind === "file") {
      return "<label>" + label + '<input type="file" id="' + id + '" name="' + f.name + '" accept=".wav,.mp3,audio/wav,audio/mpeg"></label>';
    }
    if (f.kind === "select") {
      const opts = (f.nullable ? [["", "—"]] : []).concat(f.options());
      const html = opts.map(([v, t]) => '<option value="' + esc(v) + '"' + (String(v) === String(value ?? "") ? " selected" : "") + ">" + esc(t) + "</option>").join("");
      return "<label>" + label + '<select id="' + id + '" name="' + f.name + '">' + html + "</select></label>";
    }
    if (f.kind === "week") {
      return DAYS.map((d) => "<label><span>" + d + '</span><input id="f-day-' + d + '" name="day-' + d + '" value="' + esc(showSpans((value || {})[d])) + '" placeholder="08:00-18:00"></label>').join("");
    }
    let text = value;
    if (f.kind === "pairs") text = showPairs(value);
    else if (f.kind === "reqs") text = showReqs(value);
    else if (f.kind === "list") text = value ? value.join(", ") : "";
    else if (f.kind === "password") text = "";
    const type = f.kind === "password" ? "password" : "text";
    return "<label" + voice + ">" + label + '<input type="' + type + '" id="' + id + '" name="' + f.name + '" value="' + esc(text ?? "") + '"></label>';
  }

  function readField(form, f) {
    if (f.kind === "week") {
      return Object.fromEntries(DAYS.map((d) => [d, spans(form.elements["day-" + d].value)]));
    }
    const el = form.elements[f.name];
    if (f.kind === "bool") return el.checked;
    if (f.kind === "file") return el.files[0];
    if (f.kind === "textarea") return el.value;
    const text = el.value.trim();
    if (text === "") {
      if (f.nullable) return null;
      if (["int", "number", "select", "password"].includes(f.kind)) return undefined; // server default / unchanged
    }
    switch (f.kind) {
      case "int": case "number": return num(text);
      case "select": return f.cast ? f.cast(text) : text;
      case "list": return split(text);
      case "pairs": return pairs(text);
      case "reqs": return reqs(text);
      default: return text;
    }
  }

  function showForm(row) {
    const res = state.res;
    state.editing = row;
    showTokens(res.id === "users" && row && canWrite() ? row : null).catch((e) => status(e.message, true));
    $("admin-editor").hidden = !canWrite();
    if (!canWrite()) return;
    $("admin-form-title").textContent = row ? "Edit " + res.label(row) : (res.submit || "Add to") + " " + res.title.toLowerCase();
    const fields = res.fields.map((f) => inputFor(f, row ? (f.get ? f.get(row) : row[f.name]) : defaults(f)));
    fields.push('<div class="actions"><button type="submit" class="primary" id="admin-save">' + (row ? "Save" : res.submit || "Add") + "</button>" +
                (row ? '<button type="button" id="admin-cancel">Cancel</button>' : "") + "</div>");
    const form = $("admin-form");
    form.innerHTML = fields.join("");
    for (const f of res.fields) if (f.fixed && row) form.elements[f.name].disabled = true;
    if (row) $("admin-cancel").addEventListener("click", () => showForm(null));
    if (form.elements.channel) {
      syncVoice(form);
      form.elements.channel.addEventListener("change", () => syncVoice(form));
    }
  }

  // a queue's call options: only for voice queues
  const isVoice = (form) => Boolean(form.elements.channel) && form.elements.channel.value === "voice";
  function syncVoice(form) {
    for (const el of form.querySelectorAll("[data-voice]")) el.hidden = !isVoice(form);
  }

  // ---- a user's API tokens (Users tab, below the form while a user is edited)
  const when = (t) => (t ? new Date(t * 1000).toLocaleString() : "—");
  async function showTokens(user) {
    state.tokensOf = user;
    $("admin-tokens").hidden = !user;
    if (!user) return;
    $("admin-tokens-title").textContent = "API tokens of " + user.username;
    const rows = await cc.api("GET", "/api/users/" + user.id + "/tokens");
    const html = rows.map((t) => '<tr data-token="' + esc(t.id) + '"' + (t.revoked ? ' class="inactive"' : "") + ">" +
      "<td>" + esc(t.name) + "</td><td>" + esc(when(t.created_at)) + "</td><td>" + esc(when(t.last_used_at)) + "</td>" +
      "<td>" + (t.revoked ? "revoked" : "active") + "</td><td>" +
      (t.revoked ? "" : '<button type="button" data-revoke="' + esc(t.id) + '">Revoke</button>') + "</td></tr>");
    $("admin-tokens-table").tBodies[0].innerHTML = html.join("") || '<tr><td colspan="5" class="muted">no tokens</td></tr>';
    $("admin-tokens-revoke-all").disabled = !rows.some((t) => !t.revoked);
  }

  async function revokeTokens(tokenId) {
    const user = state.tokensOf;
    if (!user) return;
    const what = tokenId ? "this API token of " + user.username : "every API token of " + user.username;
    if (!confirm("Revoke " + what + "?")) return;
    try {
      await cc.api("DELETE", "/api/users/" + user.id + "/tokens" + (tokenId ? "/" + tokenId : ""));
      status("Revoked " + what + ".", false);
      await showTokens(user);
    } catch (e) {
      status(e.message, true);
    }
  }
  // a row to edit, read in full where the list shows a summary (a flow's YAML)
  async function editRow(row) {
    try {
      showForm(state.res.fetch ? await state.res.fetch(row) : row);
    } catch (e) {
      status(e.message, true);
    }
  }

  // a new row's value: the field's own default, else true for flags (active, paid, resolved)
  const defaults = (f) => (f.default !== undefined ? f.default : f.kind === "bool" ? true : undefined);

  async function save(ev) {
    ev.preventDefault();
    const res = state.res, row = state.editing, form = ev.target, body = {};
    for (const f of res.fields) {
      if (row && f.fixed) continue;
      if (f.voice && !isVoice(form)) continue;
      const v = readField(form, f);
      if (v !== undefined) body[f.name] = v;
    }
    try {
      let saved;
      if (row) saved = res.update ? await res.update(row, body) : await cc.api("PATCH", res.url + "/" + keyOf(res, row), body);
      else saved = res.create ? await res.create(body) : await cc.api("POST", res.url, body);
      status("Saved " + res.label(saved) + ".", false);
      showSecret(saved);
      await load();
      showForm(null);
    } catch (e) {
      status(e.message, true);
    }
  }

  const keyOf = (res, row) => encodeURIComponent(res.key ? res.key(row) : row.id);

  // ---- a secret the server returns once (a phone's SIP password)
  function showSecret(saved) {
    const box = $("admin-secret");
    if (!saved || !saved.password) {
      for (const id of ["admin-secret-user", "admin-secret-realm", "admin-secret-password"]) $(id).textContent = "";
      box.hidden = true;
      return;
    }
    $("admin-secret-user").textContent = saved.sip_username;
    $("admin-secret-realm").textContent = saved.realm;
    $("admin-secret-password").textContent = saved.password;
    box.hidden = false;
  }

  async function act(row, action) {
    if (!confirm(action.label + " for " + state.res.label(row) + "? The old one stops working.")) return;
    try {
      const out = await action.run(row);
      status(action.label + ": " + state.res.label(row) + ".", false);
      await load();
      showSecret(out);
    } catch (e) {
      status(e.message, true);
    }
  }

  async function remove(row) {
    const res = state.res, verb = res.remove || "Delete";
    if (!confirm(verb + " " + res.label(row) + "?")) return;
    try {
      await (res.del ? res.del(row) : cc.api("DELETE", res.url + "/" + keyOf(res, row)));
      status(verb + "d " + res.label(row) + ".", false);
      await load();
    } catch (e) {
      status(e.message, true);
    }
  }

  // ---- the table
  function render() {
    const res = state.res, write = canWrite();
    $("admin-title").textContent = res.title;
    $("admin-help").textContent = res.help + (res.note ? " " + res.note() : "");
    const head = res.cols.map(([t]) => "<th>" + esc(t) + "</th>").join("") + (write ? "<th></th>" : "");
    $("admin-table").tHead.innerHTML = "<tr>" + head + "</tr>";
    const body = state.rows.map((r, i) => {
      const cells = res.cols.map(([, fn]) => "<td>" + esc(fn(r)) + "</td>").join("");
      const more = (res.actions || []).map((a, j) => (a.show && !a.show(r) ? "" : ' <button type="button" data-row="' + i + '" data-action="' + j + '">' + esc(a.label) + "</button>")).join("");
      const acts = write && res.readonly ? "<td></td>" : write ? '<td><span class="row-actions"><button type="button" data-edit="' + i + '">Edit</button> <button type="button" data-remove="' + i + '">' + esc(res.remove || "Delete") + "</button>" + more + "</span></td>" : "";
      return '<tr data-id="' + esc(r.id) + '"' + (r.active === false ? ' class="inactive"' : "") + ">" + cells + acts + "</tr>";
    });
    const tbody = $("admin-table").tBodies[0];
    tbody.innerHTML = body.join("") || '<tr><td colspan="' + res.cols.length + '" class="muted">none yet</td></tr>';
  }

  async function load() {
    const res = state.res;
    for (const need of res.needs || []) {
      lookups[need] = await cc.api("GET", need === "hours" ? "/api/admin/business-hours" : "/api/admin/teams");
    }
    state.rows = res.list ? await res.list() : await cc.api("GET", res.url);
    render();
  }

  async function open(id) {
    state.res = RESOURCES.find((r) => r.id === id);
    for (const b of $("admin-tabs").children) b.setAttribute("aria-selected", String(b.dataset.tab === id));
    status("", false);
    showSecret(null);
    history.replaceState(null, "", "#" + id);
    try {
      await load();
      showForm(null);
    } catch (e) {
      status(e.message, true);
    }
  }

  async function start() {
    const me = await cc.api("GET", "/api/me");
    state.perms = new Set(me.permissions);
    $("admin-readonly").hidden = state.perms.has("config.write");
    const tabs = RESOURCES.filter((r) => !r.permission || state.perms.has(r.permission));
    $("admin-tabs").innerHTML = tabs.map((r) => '<button type="button" role="tab" data-tab="' + r.id + '">' + esc(r.title) + "</button>").join("");
    $("admin-tabs").addEventListener("click", (ev) => { const t = ev.target.dataset && ev.target.dataset.tab; if (t) open(t); });
    $("admin-table").addEventListener("click", (ev) => {
      const edit = ev.target.dataset.edit, rm = ev.target.dataset.remove;
      if (edit !== undefined) editRow(state.rows[Number(edit)]);
      if (rm !== undefined) remove(state.rows[Number(rm)]);
      const action = ev.target.dataset.action;
      if (action !== undefined) act(state.rows[Number(ev.target.dataset.row)], state.res.actions[Number(action)]);
    });
    $("admin-form").addEventListener("submit", save);
    $("admin-tokens-table").addEventListener("click", (ev) => { const id = ev.target.dataset.revoke; if (id) revokeTokens(Number(id)); });
    $("admin-tokens-revoke-all").addEventListener("click", () => revokeTokens(null));
    const wanted = location.hash.slice(1);
    await open(tabs.some((r) => r.id === wanted) ? wanted : tabs[0].id);
  }

  start().catch((e) => status(e.message, true));
})();
