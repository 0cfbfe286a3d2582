// Berth console: pages for the configuration resources (alert channels, alert routes, silences).
// Loaded before console.js, whose helpers (h, api, table, dl, field, statusCell, toast, S, cleanup)
// these pages call at run time. Each page: list, detail, create/edit form, delete with confirmation.
"use strict";

// --- shared: commands, operations, forms ----------------------------------------------------------
function enc(v) { return encodeURIComponent(v); }

// A command answers 202 + operation; the page waits for the service to apply it.
async function command(method, path, body) {
  const reply = await api(method, path, body, { "Idempotency-Key": crypto.randomUUID() });
  const opId = reply && reply.operation && reply.operation.id;
  if (!opId) return reply;
  for (let i = 0; i < 150; i++) {
    const op = await api("GET", `/api/v1/operations/${opId}`);
    if (op.state === "succeeded") return op;
    if (op.state === "failed") throw new Problem(422, { detail: op.message || "the service refused the change" });
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Problem(504, { detail: `operation ${opId} is still running; look again later` });
}

// A spec is a list of inputs: {name, label, type, kinds?, hint?, options?, required?}.
// type: text | password | number | select | checkbox | lines (one value a line) | kv (key=value lines)
function specInput(f, value) {
  const id = `f-${f.name}`;
  if (f.type === "select") {
    return h("select", { id, name: f.name }, f.options.map((o) => h("option", { value: o, selected: o === value }, o)));
  }
  if (f.type === "checkbox") return h("input", { type: "checkbox", id, name: f.name, checked: Boolean(value) });
  if (f.type === "lines" || f.type === "kv") {
    const text = f.type === "kv" ? Object.entries(value || {}).map(([k, v]) => `${k}=${v}`).join("\n")
      : (value || []).map((x) => (typeof x === "object" && x ? matcherText(x) : String(x))).join("\n");
    return h("textarea", { id, name: f.name, rows: 3 }, text);
  }
  const attrs = { type: f.type === "password" ? "password" : "text", id, name: f.name, autocomplete: "off" };
  if (f.type !== "password" && value != null) attrs.value = String(value);
  if (f.readonly) attrs.readonly = true;
  if (f.placeholder) attrs.placeholder = f.placeholder;
  return h("input", attrs);
}

function specForm(id, title, spec, values, submitLabel, cancelHref) {
  const form = h("form", { class: "card", id, novalidate: true }, h("h1", {}, title),
    spec.map((f) => {
      const row = field(f.name, f.label, specInput(f, values[f.name.split(".")[0]] !== undefined ? dig(values, f.name) : f.default), f.hint);
      if (f.kinds) row.dataset.kinds = f.kinds.join(" ");
      return row;
    }),
    h("div", { class: "field-error", id: "err-form", role: "alert" }),
    h("button", { type: "submit", id: "submit" }, submitLabel), " ",
    h("a", { href: cancelHref, class: "button secondary", id: "cancel" }, "Cancel"));
  return form;
}

function dig(obj, path) { return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj); }

function put(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = (o[k] = o[k] || {});
  o[keys[keys.length - 1]] = value;
}

// The body from the visible inputs; empty optional inputs are left out so the API's defaults apply.
function readSpec(form, spec) {
  const body = {};
  for (const f of spec) {
    const row = form.querySelector(`[data-field="${CSS.escape(f.name)}"]`);
    if (row && row.hidden) continue;
    const el = form.elements[f.name];
    if (f.type === "checkbox") { put(body, f.name, el.checked); continue; }
    const raw = el.value.trim();
    if (f.type === "lines") {
      const items = raw.split(f.commas ? /[\n,]/ : /\n/).map((x) => x.trim()).filter(Boolean);
      if (items.length || f.required) put(body, f.name, items);
    } else if (f.type === "kv") {
      const out = {};
      for (const line of raw.split("\n").map((x) => x.trim()).filter(Boolean)) {
        const at = line.indexOf("=");
        out[at < 0 ? line : line.slice(0, at).trim()] = at < 0 ? "" : line.slice(at + 1).trim();
      }
      if (Object.keys(out).length) put(body, f.name, out);
    } else if (raw === "") {
      if (f.required) put(body, f.name, "");
    } else if (f.type === "number") {
      // a value that is not a number goes as typed: the API's error names the field
      put(body, f.name, /^-?\d+$/.test(raw) ? Number(raw) : raw);
    } else {
      put(body, f.name, raw);
    }
  }
  return body;
}

// Errors about the whole body ("url must be...", "email_from and email_to are required") land on
// the fields their message starts with; the rest on the form.
function placeErrors(form, errors) {
  const out = [];
  for (const err of errors) {
    const field = err.field || "";
    if (field && field !== "body" && field !== "__root__" && !field.startsWith("body.")) { out.push(err); continue; }
    const named = leadingFields(form, err.message || "");
    if (named.length) named.forEach((name) => out.push({ field: name, message: err.message }));
    else out.push({ field: "form", message: err.message });
  }
  showFieldErrors(form, out);
}

function leadingFields(form, message) {
  const names = [];
  const words = message.split(/[\s:(]+/);
  for (const w of words) {
    const name = w.replace(/\.\d+.*$/, "").replace(/[,;.]$/, "");
    if (name === "and" && names.length) continue;
    const row = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!row || row.hidden) break;
    names.push(name);
  }
  return names;
}

function bindSubmit(form, send) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("#submit");
    button.disabled = true;
    showFieldErrors(form, []);
    try {
      await send();
    } catch (err) {
      const errors = (err && err.errors) || [];
      placeErrors(form, errors.length ? errors : [{ field: "body", message: String(err.message || err) }]);
    } finally {
      button.disabled = false;
    }
  });
}

// navigate, or re-render when the page is there already (no hashchange then)
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function confirmDelete(what, run, back) {
  if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
  try {
    await run();
    toast(`${what} deleted`);
    go(back);
  } catch (err) { toast(`${what}: ${err.message}`); }
}

function pageHead(title, link) {
  return h("div", { class: "page-head" }, h("h1", {}, title), link);
}

function matcherText(m) { return typeof m === "string" ? m : `${m.name}${m.op}"${m.value}"`; }

// Live updates: the facts of these types re-run `reload`. On (re)connecting the page reloads once
// (what changed while it was not listening), then marks `el` data-live="on".
function follow(el, types, reload) {
  const es = new EventSource(`/api/v1/events?access_token=${enc(S.token)}` + (S.tenant ? `&tenant=${enc(S.tenant)}` : "") +
    types.map((t) => `&type=${enc(t)}`).join(""));
  es.addEventListener("open", () => { reload().catch(() => {}).finally(() => { el.dataset.live = "on"; }); });
  es.addEventListener("error", () => { el.dataset.live = "off"; });
  for (const t of types) es.addEventListener(t, () => { reload().catch(() => {}); });
  cleanup.push(() => es.close());
}

// --- alert channels --------------------------------------------------------------------------------
const CHAT_KINDS = ["dingtalk", "wecom", "feishu", "slack", "webhook"];
const PHONE_KINDS = ["aliyun-sms", "aliyun-voice", "tencent-sms", "twilio-sms", "twilio-voice"];
const CHANNEL_KINDS = [...CHAT_KINDS, "email", ...PHONE_KINDS];

const CHANNEL_SPEC = [
  { name: "name", label: "Name", type: "text", required: true, hint: "lowercase letters, digits and '-'" },
  { name: "kind", label: "Kind", type: "select", options: CHANNEL_KINDS, default: "webhook" },
  { name: "url", label: "URL", type: "text", kinds: CHAT_KINDS, required: true, hint: "the robot's or webhook's http(s) URL" },
  { name: "access_key_id", label: "Access key ID", type: "text", kinds: PHONE_KINDS,
    hint: "Alibaba AccessKey ID, Tencent SecretId or Twilio Account SID" },
  { name: "secret", label: "Secret", type: "password",
    hint: "signing secret, HMAC key, SMTP password or the provider's secret key; never shown again: enter it on every edit" },
  { name: "recipients", label: "Recipients", type: "lines", commas: true, kinds: PHONE_KINDS, hint: "E.164 numbers (+8613800000000), one a line" },
  { name: "sign_name", label: "SMS signature", type: "text", kinds: ["aliyun-sms", "tencent-sms"] },
  { name: "sms_app_id", label: "SmsSdkAppId", type: "text", kinds: ["tencent-sms"] },
  { name: "region", label: "Region", type: "text", kinds: ["tencent-sms"], hint: "default ap-guangzhou" },
  { name: "template_code", label: "Template code", type: "text", kinds: ["aliyun-sms", "aliyun-voice", "tencent-sms"],
    hint: "Alibaba TemplateCode / TtsCode, Tencent TemplateId" },
  { name: "template_params", label: "Template parameters", type: "kv", kinds: ["aliyun-sms", "aliyun-voice", "tencent-sms"],
    hint: "name=Jinja2 template, one a line (Tencent: in order)" },
  { name: "caller_id", label: "Caller ID", type: "text", kinds: ["aliyun-voice", "twilio-sms", "twilio-voice"],
    hint: "Twilio From number (required), Alibaba CalledShowNumber (optional)" },
  { name: "callback_url", label: "Callback URL", type: "text", kinds: ["twilio-voice"], hint: "the public URL a key press is posted to" },
  { name: "ack_digit", label: "Acknowledge key", type: "text", kinds: ["twilio-voice"], default: "1" },
  { name: "endpoint", label: "Endpoint override", type: "text", kinds: PHONE_KINDS, hint: "optional: the provider's API URL" },
  { name: "smtp_host", label: "SMTP host", type: "text", kinds: ["email"] },
  { name: "smtp_port", label: "SMTP port", type: "number", kinds: ["email"], default: 25 },
  { name: "smtp_username", label: "SMTP user", type: "text", kinds: ["email"] },
  { name: "smtp_starttls", label: "STARTTLS", type: "checkbox", kinds: ["email"] },
  { name: "email_from", label: "From", type: "text", kinds: ["email"] },
  { name: "email_to", label: "To", type: "lines", commas: true, kinds: ["email"], hint: "one address a line" },
  { name: "format", label: "Format", type: "select", options: ["markdown", "text"], kinds: [...CHAT_KINDS, "email"] },
  { name: "mentions.mobiles", label: "@ mobiles", type: "lines", commas: true, kinds: ["dingtalk", "wecom", "feishu"] },
  { name: "mentions.user_ids", label: "@ user ids", type: "lines", commas: true, kinds: ["dingtalk", "wecom", "feishu"] },
  { name: "mentions.all", label: "@ everyone", type: "checkbox", kinds: ["dingtalk", "wecom", "feishu"] },
  { name: "timezone", label: "Time zone", type: "text", default: "UTC", hint: "an IANA name such as Asia/Shanghai" },
  { name: "max_attempts", label: "Max attempts", type: "number", default: 5, hint: "1 to 50" },
  { name: "rate_per_minute", label: "Rate per minute", type: "number", hint: "optional limit" },
  { name: "escalate_after_minutes", label: "Escalate after (min)", type: "number" },
  { name: "escalate_to", label: "Escalate to", type: "text", hint: "another channel, with the minutes above" },
  { name: "title_template", label: "Title template", type: "text", hint: "optional Jinja2" },
  { name: "template", label: "Message template", type: "lines", hint: "optional Jinja2" },
];

function channelTarget(c) {
  if (c.kind === "email") return (c.email_to || []).join(", ");
  if (PHONE_KINDS.includes(c.kind)) return (c.recipients || []).join(", ");
  return c.url;
}

async function channelList() {
  const card = h("div", { class: "card" });
  const load = async () => {
    const b = await api("GET", "/api/v1/channels?limit=500");
    card.replaceChildren(table([
      { title: "Name", render: (c) => h("a", { href: `#/channels/${enc(c.name)}` }, c.name) },
      { title: "Kind", key: "kind" }, { title: "Sends to", render: channelTarget },
      { title: "Secret", render: (c) => (c.has_secret ? "set" : "-") }, { title: "Max attempts", key: "max_attempts" },
      { title: "Escalates to", key: "escalate_to" },
      { title: "", render: (c) => h("span", { class: "actions" },
        h("a", { class: "button secondary", href: `#/channels/${enc(c.name)}/edit`, "data-action": "edit" }, "Edit"),
        h("button", { type: "button", class: "danger", "data-action": "delete",
          onclick: () => deleteChannel(c.name) }, "Delete")) },
    ], b.items, "No channels yet: create one."));
  };
  await load();
  return h("div", {}, pageHead("Alert channels", h("a", { class: "button", href: "#/channels/new", id: "create" }, "Create channel")), card);
}

function deleteChannel(name) {
  return confirmDelete(`channel ${name}`, () => command("DELETE", `/api/v1/channels/${enc(name)}`), "#/channels");
}

async function channelDetail(name) {
  const c = await api("GET", `/api/v1/channels/${enc(name)}`);
  const shown = CHANNEL_SPEC.filter((f) => !f.kinds || f.kinds.includes(c.kind)).filter((f) => f.name !== "secret");
  const show = (f) => {
    const v = f.name === "endpoint" ? c.url : dig(c, f.name);
    if (Array.isArray(v)) return v.join(", ") || "-";
    if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${k}=${x}`).join(", ") || "-";
    if (typeof v === "boolean") return v ? "yes" : "no";
    return v === "" || v == null ? "-" : String(v);
  };
  return h("div", {}, pageHead(h("span", {}, "Channel ", h("span", { id: "detail-name" }, c.name)), h("span", { class: "actions" },
    h("a", { class: "button", href: `#/channels/${enc(c.name)}/edit`, id: "edit" }, "Edit"),
    h("button", { type: "button", class: "danger", id: "delete", onclick: () => deleteChannel(c.name) }, "Delete"))),
  h("div", { class: "card", id: "detail" }, dl([...shown.map((f) => [f.label, h("span", { "data-value": f.name }, show(f))]),
    ["Secret", c.has_secret ? "set (never shown)" : "-"]])),
  h("p", {}, h("a", { href: "#/channels" }, "All channels")));
}

async function channelForm(name) {
  const current = name ? await api("GET", `/api/v1/channels/${enc(name)}`) : {};
  if (name && PHONE_KINDS.includes(current.kind)) current.endpoint = current.url;
  const spec = CHANNEL_SPEC.map((f) => (name && f.name === "name" ? { ...f, readonly: true } : f));
  const form = specForm("channel-form", name ? `Edit channel ${name}` : "Create channel", spec, current,
    name ? "Save" : "Create", name ? `#/channels/${enc(name)}` : "#/channels");
  const kind = form.elements.kind;
  const toggle = () => form.querySelectorAll("[data-kinds]").forEach((row) => {
    row.hidden = !row.dataset.kinds.split(" ").includes(kind.value);
  });
  kind.addEventListener("change", toggle);
  toggle();
  bindSubmit(form, async () => {
    const body = readSpec(form, spec);
    if ("endpoint" in body) { body.url = body.endpoint; delete body.endpoint; }
    const target = name || body.name || "";
    if (name) { delete body.name; await command("PUT", `/api/v1/channels/${enc(name)}`, body); }
    else await command("POST", "/api/v1/channels", body);
    toast(`channel ${target} saved`);
    location.hash = `#/channels/${enc(target)}`;
  });
  return form;
}

// --- alert routes ---------------------------------------------------------------------------------
const ROUTE_SPEC = [
  { name: "name", label: "Name", type: "text", required: true, hint: "lowercase letters, digits and '-'" },
  { name: "order", label: "Order", type: "number", default: 0, hint: "routes are tried in this order" },
  { name: "matchers", label: "Matchers", type: "lines", hint: "one a line: severity=critical, cluster=~\"prod-.*\"; none: every alert" },
  { name: "channels", label: "Channels", type: "lines", commas: true, required: true, hint: "channel names, one a line" },
  { name: "continue", label: "Continue", type: "checkbox", hint: "try the next routes after this one matched" },
  { name: "escalation", label: "Escalation", type: "lines",
    hint: "one step a line: <minutes>: channel, channel (notified when still unacknowledged)" },
];

function escalationText(steps) { return (steps || []).map((s) => `${s.after_minutes}: ${s.channels.join(", ")}`); }

function parseEscalation(lines) {
  return lines.map((line) => {
    const at = line.indexOf(":");
    const minutes = line.slice(0, at).trim();
    return { after_minutes: /^\d+$/.test(minutes) ? Number(minutes) : minutes,
      channels: line.slice(at + 1).split(/[\s,]+/).filter(Boolean) };
  });
}

async function routeList() {
  const b = await api("GET", "/api/v1/alert-routes?limit=500");
  const items = [...b.items].sort((x, y) => x.order - y.order);
  return h("div", {}, pageHead("Alert routes", h("a", { class: "button", href: "#/alert-routes/new", id: "create" }, "Create route")),
    h("div", { class: "card" }, table([
      { title: "Order", key: "order" },
      { title: "Name", render: (r) => h("a", { href: `#/alert-routes/${enc(r.name)}` }, r.name) },
      { title: "Matchers", render: (r) => (r.matchers || []).map(matcherText).join(", ") || "every alert" },
      { title: "Channels", render: (r) => r.channels.join(", ") },
      { title: "Continue", render: (r) => (r.continue ? "yes" : "no") },
      { title: "Escalation", render: (r) => escalationText(r.escalation).join("; ") || "-" },
      { title: "", render: (r) => h("span", { class: "actions" },
        h("a", { class: "button secondary", href: `#/alert-routes/${enc(r.name)}/edit`, "data-action": "edit" }, "Edit"),
        h("button", { type: "button", class: "danger", "data-action": "delete", onclick: () => deleteRoute(r.name) }, "Delete")) },
    ], items, "No routes yet: alerts go nowhere until one matches.")));
}

function deleteRoute(name) {
  return confirmDelete(`route ${name}`, () => command("DELETE", `/api/v1/alert-routes/${enc(name)}`), "#/alert-routes");
}

async function routeDetail(name) {
  const r = await api("GET", `/api/v1/alert-routes/${enc(name)}`);
  return h("div", {}, pageHead(h("span", {}, "Route ", h("span", { id: "detail-name" }, r.name)), h("span", { class: "actions" },
    h("a", { class: "button", href: `#/alert-routes/${enc(r.name)}/edit`, id: "edit" }, "Edit"),
    h("button", { type: "button", class: "danger", id: "delete", onclick: () => deleteRoute(r.name) }, "Delete"))),
  h("div", { class: "card", id: "detail" }, dl([
    ["Order", h("span", { "data-value": "order" }, String(r.order))],
    ["Matchers", h("span", { "data-value": "matchers" }, (r.matchers || []).map(matcherText).join(", ") || "every alert")],
    ["Channels", h("span", { "data-value": "channels" }, r.channels.join(", "))],
    ["Continue", r.continue ? "yes" : "no"],
    ["Escalation", h("span", { "data-value": "escalation" }, escalationText(r.escalation).join("; ") || "-")]])),
  h("p", {}, h("a", { href: "#/alert-routes" }, "All routes")));
}

async function routeForm(name) {
  const current = name ? await api("GET", `/api/v1/alert-routes/${enc(name)}`) : {};
  if (name) current.escalation = escalationText(current.escalation);
  const spec = ROUTE_SPEC.map((f) => (name && f.name === "name" ? { ...f, readonly: true } : f));
  const form = specForm("route-form", name ? `Edit route ${name}` : "Create route", spec, current,
    name ? "Save" : "Create", name ? `#/alert-routes/${enc(name)}` : "#/alert-routes");
  api("GET", "/api/v1/channels?limit=500").then((b) => {
    const hint = form.querySelector("[data-field=channels] .hint");
    if (hint && b.items.length) hint.textContent += `; known: ${b.items.map((c) => c.name).join(", ")}`;
  }).catch(() => {});
  bindSubmit(form, async () => {
    const body = readSpec(form, spec);
    if (body.escalation) body.escalation = parseEscalation(body.escalation);
    const target = name || body.name || "";
    if (name) { delete body.name; await command("PUT", `/api/v1/alert-routes/${enc(name)}`, body); }
    else await command("POST", "/api/v1/alert-routes", body);
    toast(`route ${target} saved`);
    location.hash = `#/alert-routes/${enc(target)}`;
  });
  return form;
}

// --- silences (created, then expired: there is no edit) ---------------------------------------------
const SILENCE_SPEC = [
  { name: "matchers", label: "Matchers", type: "lines", required: true, hint: "one a line: alertname=HighLoad, cluster=~\"prod-.*\"" },
  { name: "duration_minutes", label: "Duration (minutes)", type: "number", default: 60 },
  { name: "comment", label: "Comment", type: "text", hint: "why" },
  { name: "id", label: "ID", type: "text", hint: "optional: chosen for you when empty" },
];

function silenceState(s) { return s.expired ? "expired" : s.active ? "active" : "pending"; }

async function silenceList() {
  const card = h("div", { class: "card", id: "silences" });
  const load = async () => {
    const b = await api("GET", "/api/v1/silences?limit=500");
    card.replaceChildren(table([
      { title: "ID", render: (s) => h("a", { href: `#/silences/${enc(s.id)}` }, s.id) },
      { title: "Matchers", render: (s) => (s.matchers || []).map(matcherText).join(", ") },
      { title: "State", render: (s) => statusCell(silenceState(s)) },
      { title: "Starts", key: "starts_at" }, { title: "Ends", key: "ends_at" },
      { title: "By", key: "created_by" }, { title: "Comment", key: "comment" },
      { title: "", render: (s) => (s.expired ? "" : h("button", { type: "button", class: "danger", "data-action": "expire",
        onclick: () => expireSilence(s.id) }, "Expire")) },
    ], b.items, "No silences."));
  };
  await load();
  follow(card, ["berth.alert.silenced.v1"], load);
  return h("div", {}, pageHead("Silences", h("a", { class: "button", href: "#/silences/new", id: "create" }, "Create silence")), card);
}

async function expireSilence(id) {
  if (!confirm(`Expire silence ${id} now? Its alerts notify again.`)) return;
  try {
    await command("POST", `/api/v1/silences/${enc(id)}:expire`, {});
    toast(`silence ${id} expired`);
    route(); // the list or the detail, again
  } catch (err) { toast(`silence ${id}: ${err.message}`); }
}

async function silenceDetail(id) {
  const s = await api("GET", `/api/v1/silences/${enc(id)}`);
  return h("div", {}, pageHead(h("span", {}, "Silence ", h("span", { id: "detail-name" }, s.id)), h("span", { class: "actions" },
    s.expired ? null : h("button", { type: "button", class: "danger", id: "expire", onclick: () => expireSilence(s.id) }, "Expire"))),
  h("div", { class: "card", id: "detail" }, dl([
    ["State", h("span", { "data-value": "state" }, silenceState(s))],
    ["Matchers", h("span", { "data-value": "matchers" }, (s.matchers || []).map(matcherText).join(", "))],
    ["Starts", s.starts_at], ["Ends", s.ends_at], ["Created by", s.created_by],
    ["Comment", h("span", { "data-value": "comment" }, s.comment || "-")]])),
  h("p", {}, h("a", { href: "#/silences" }, "All silences")));
}

function silenceForm() {
  const form = specForm("silence-form", "Create silence", SILENCE_SPEC, {}, "Create", "#/silences");
  bindSubmit(form, async () => {
    const body = readSpec(form, SILENCE_SPEC);
    body.id = body.id || newKey().slice(0, 16); // the page opens the silence it created
    await command("POST", "/api/v1/silences", body);
    toast(`silence ${body.id} created`);
    location.hash = `#/silences/${enc(body.id)}`;
  });
  return form;
}

// --- the router's table: path head -> (rest of the path parts, query) => page -----------------------
function crud(list, detail, form) {
  return (rest) => {
    if (rest[0] === "new") return form(null);
    if (rest[0] && rest[1] === "edit") return form(decodeURIComponent(rest[0]));
    if (rest[0]) return detail(decodeURIComponent(rest[0]));
    return list();
  };
}

const RESOURCE_PAGES = {
  channels: crud(channelList, channelDetail, channelForm),
  "alert-routes": crud(routeList, routeDetail, routeForm),
  silences: crud(silenceList, silenceDetail, silenceForm),
};
