// Berth console: a small hash-routed app over the gateway's HTTP API (no build step).
"use strict";

const S = {
  get token() { return localStorage.getItem("berthToken") || ""; },
  get tenant() { return localStorage.getItem("berthTenant") || ""; },
};
const view = document.getElementById("view");
let cleanup = [];

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v != null) el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class Problem extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.errors = (body && body.errors) || [];
  }
}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { Authorization: `Bearer ${S.token}`, ...extraHeaders };
  if (S.tenant) headers["X-Berth-Tenant"] = S.tenant;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (resp.status === 401) { logout(); throw new Problem(401, data); }
  if (resp.status >= 400) throw new Problem(resp.status, data);
  return data;
}

function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg; t.hidden = false;
  setTimeout(() => { t.hidden = true; }, 4000);
}

function problemBox(err) { return h("div", { class: "problem", role: "alert" }, err.message); }

function statusCell(value) { return h("span", { class: `status ${value || ""}` }, value || "-"); }

function table(columns, items, empty = "Nothing here yet.") {
  if (!items.length) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c.title)))),
    h("tbody", {}, items.map((item) => h("tr", { "data-row": item.name || item.fingerprint || item.id || "" },
      columns.map((c) => h("td", {}, c.render ? c.render(item) : (item[c.key] ?? "-")))))));
}

async function section(title, loader) {
  const box = h("div", { class: "card" }, h("h2", {}, title), h("p", { class: "muted" }, "Loading…"));
  loader().then((content) => { box.replaceChildren(h("h2", {}, title), content); })
    .catch((err) => { box.replaceChildren(h("h2", {}, title), problemBox(err)); });
  return box;
}

// --- login -------------------------------------------------------------------------------
function loginView() {
  const form = h("form", { class: "card", id: "login-form" },
    h("h1", {}, "Log in to Berth"),
    h("div", { class: "row" }, h("label", { class: "lbl", for: "token" }, "API token"),
      h("input", { type: "password", id: "token", name: "token", autocomplete: "off" })),
    h("div", { class: "row" }, h("label", { class: "lbl", for: "tenant" }, "Tenant"),
      h("input", { type: "text", id: "tenant", name: "tenant", placeholder: "optional when you have one" })),
    h("div", { class: "field-error", id: "login-error" }),
    h("button", { type: "submit" }, "Log in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    localStorage.setItem("berthToken", form.token.value.trim());
    localStorage.setItem("berthTenant", form.tenant.value.trim());
    try {
      await api("GET", "/api/v1/whoami");
      location.hash = "#/clusters";
    } catch (err) {
      document.getElementById("login-error").textContent = err.message;
    }
  });
  return form;
}

function logout() {
  localStorage.removeItem("berthToken");
  location.hash = "#/login";
}

// --- clusters ------------------------------------------------------------------------------
async function clusterList() {
  const body = await api("GET", "/api/v1/clusters?limit=500");
  return h("div", {},
    h("div", { style: "display:flex;justify-content:space-between;align-items:center" },
      h("h1", {}, "Clusters"), h("a", { class: "button", href: "#/clusters/new", id: "create-cluster" }, "Create cluster")),
    h("div", { class: "card" }, table([
      { title: "Name", render: (c) => h("a", { href: `#/clusters/${c.name}` }, c.name) },
      { title: "Status", render: (c) => statusCell(c.phase || c.status) },
      { title: "Version", key: "version" },
      { title: "Provider", key: "provider" },
      { title: "Tenant", key: "tenant" },
    ], body.items, "No clusters yet: create one.")));
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
function checkCidr(value) {
  const m = CIDR.exec(value.trim());
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return `'${value}' is not a valid CIDR`;
  if (Number(m[5]) < 8 || Number(m[5]) > 24) return `prefix length must be between /8 and /24, got /${m[5]}`;
  return "";
}

function field(name, label, input, hint) {
  return h("div", { class: "row", "data-field": name },
    h("label", { class: "lbl", for: `f-${name}` }, label),
    h("div", {}, input, hint ? h("div", { class: "hint" }, hint) : null,
      h("div", { class: "field-error", id: `err-${name}` })));
}

function radios(name, options, checked) {
  return h("span", { id: `f-${name}` }, options.map(([value, text]) => h("label", { style: "margin-right:1rem" },
    h("input", { type: "radio", name, value, checked: value === checked }), " ", text)));
}

function showFieldErrors(form, errors) {
  form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
  form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  for (const err of errors) {
    let name = err.field;
    let slot = form.querySelector(`#err-${CSS.escape(name)}`);
    while (!slot && name.includes(".")) { name = name.slice(0, name.lastIndexOf(".")); slot = form.querySelector(`#err-${CSS.escape(name)}`); }
    slot = slot || form.querySelector("#err-form");
    slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + err.message;
    slot.closest(".row")?.classList.add("invalid");
  }
}

function clusterForm() {
  const input = (name, attrs = {}) => h("input", { type: "text", id: `f-${name}`, name, ...attrs });
  const form = h("form", { class: "card", id: "cluster-form", novalidate: true },
    h("h1", {}, "Create cluster"),
    h("h2", {}, "Basic settings"),
    field("name", "Cluster name", input("name", { placeholder: "test-cluster", maxlength: 63 }),
      "lowercase letters, digits and '-'"),
    field("version", "Version", h("select", { id: "f-version", name: "version" },
      h("option", { value: "" }, "default"))),
    field("provider", "Provider", radios("provider", [["hosted", "Hosted (k8s on k8s)"], ["local", "Local (embedded)"]], "hosted")),
    field("billing_mode", "Billing", radios("billing_mode", [["pay-per-use", "Pay per use"], ["yearly-monthly", "Yearly/monthly"]], "pay-per-use")),
    field("flavour", "Management scale", radios("flavour", [["50", "50 nodes"], ["200", "200 nodes"], ["1000", "1,000 nodes"]], "50")),
    field("ha", "High availability", radios("ha", [["false", "No"], ["true", "Yes"]], "false"),
      "cannot change after the cluster is created"),
    h("h2", {}, "Network"),
    field("network_model", "Network model", radios("network_model", [["overlay", "Container tunnel network"], ["vpc", "VPC network"]], "overlay")),
    field("vpc_cidr", "VPC", input("vpc_cidr", { value: "192.168.0.0/16" })),
    field("subnet_cidr", "Subnet", input("subnet_cidr", { value: "192.168.1.0/24" })),
    field("pod_cidr", "Container CIDR", input("pod_cidr", { value: "172.16.0.0/16" }),
      "empty: chosen automatically. Cannot change after creation; suggested 10.0.0.0/12~19, 172.16.0.0/16~19, 192.168.0.0/16~19"),
    field("service_cidr", "Service CIDR", input("service_cidr", { value: "10.247.0.0/16" })),
    field("kube_proxy_mode", "Service forwarding", radios("kube_proxy_mode", [["iptables", "iptables"], ["ipvs", "ipvs"]], "iptables")),
    h("h2", {}, "Other"),
    field("rbac", "Authorization", h("label", {}, h("input", { type: "checkbox", id: "f-rbac", name: "rbac", checked: true }), " RBAC")),
    field("description", "Description", h("textarea", { id: "f-description", name: "description", rows: 2, maxlength: 60 }),
      h("span", { id: "desc-count" }, "0/60")),
    h("div", { class: "field-error", id: "err-form" }),
    h("button", { type: "submit", id: "submit-cluster" }, "Create"), " ",
    h("a", { href: "#/clusters", class: "button secondary" }, "Cancel"));

  // the versions cluster-manager supports (the select keeps "default" when it cannot say)
  api("GET", "/api/v1/cluster-options").then((o) => {
    const select = form.querySelector("#f-version");
    for (const v of [...(o.versions || [])].reverse()) select.append(h("option", { value: v }, v));
  }).catch(() => {});
  for (const name of ["vpc_cidr", "subnet_cidr", "pod_cidr", "service_cidr"]) {
    form.querySelector(`#f-${name}`).addEventListener("blur", (ev) => {
      const msg = ev.target.value.trim() ? checkCidr(ev.target.value) : "";
      const slot = form.querySelector(`#err-${name}`);
      slot.textContent = msg;
      slot.closest(".row").classList.toggle("invalid", Boolean(msg));
    });
  }
  form.querySelector("#f-description").addEventListener("input", (ev) => {
    form.querySelector("#desc-count").textContent = `${ev.target.value.length}/60`;
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (n) => form.elements[n].value;
    const body = {
      name: v("name").trim(), version: v("version") || null, provider: v("provider"), billing_mode: v("billing_mode"),
      flavour: Number(v("flavour")), ha: v("ha") === "true", rbac: form.elements.rbac.checked,
      description: v("description"), network_model: v("network_model"), vpc_cidr: v("vpc_cidr").trim(),
      subnet_cidr: v("subnet_cidr").trim(), pod_cidr: v("pod_cidr").trim() || null,
      service_cidr: v("service_cidr").trim(), kube_proxy_mode: v("kube_proxy_mode"),
    };
    const button = form.querySelector("#submit-cluster");
    button.disabled = true;
    try {
      // the server's validation is the authority: its problem+json errors land on the fields
      const reply = await api("POST", "/api/v1/clusters", body, { "Idempotency-Key": newKey() });
      toast(`Creating ${body.name}…`);
      location.hash = `#/clusters/${body.name}?op=${reply.operation.id}`;
    } catch (err) {
      const errors = (err && err.errors) || [];
      showFieldErrors(form, errors.length ? errors : [{ field: "form", message: String(err.message || err) }]);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function dl(pairs) { return h("dl", {}, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "-")])); }

function rate(label, used, total, unit) {
  if (total == null) return h("div", {}, h("strong", {}, label), h("p", { class: "muted" }, "not reported"));
  const pct = total ? Math.round((100 * used) / total) : 0;
  return h("div", {}, h("strong", {}, `${label} ${pct}%`),
    h("div", { class: "bar" }, h("span", { style: `width:${pct}%` })),
    h("div", { class: "hint" }, `free: ${(total - used).toFixed(2)} ${unit}`));
}

async function clusterDetail(name, params) {
  const root = h("div", {});
  const head = h("div", {});
  const timeline = h("ul", { class: "timeline", id: "timeline" });
  const seen = new Set();
  const addEvent = (time, text, state) => {
    const key = `${time}|${text}`;
    if (seen.has(key)) return;
    seen.add(key);
    timeline.prepend(h("li", {}, h("span", { class: "muted" }, new Date(time).toLocaleString()), " ",
      statusCell(state || "ok"), " ", text));
  };
  async function refresh() {
    const c = await api("GET", `/api/v1/clusters/${name}`);
    const basic = c.basic || c;
    const net = c.network || {};
    const other = c.other || {};
    const phase = c.phase || c.status;
    head.replaceChildren(
      h("h1", {}, "Cluster ", h("span", { id: "cluster-name" }, c.name), " ",
        h("span", { id: "cluster-status", class: `status ${phase}` }, phase)),
      c.failure ? h("div", { class: "problem" }, `${c.failure.step || ""}: ${c.failure.message || JSON.stringify(c.failure)}`) : null,
      h("div", { class: "grid" },
        h("div", { class: "card" }, h("h2", {}, "Basic info"),
          dl([["Cluster ID", basic.id], ["Version", basic.version], ["Scale", basic.flavour], ["HA", String(basic.ha ?? c.ha ?? "-")],
            ["Provider", c.provider], ["Created", basic.created_at]])),
        h("div", { class: "card" }, h("h2", {}, "Network"),
          dl([["Network model", net.network_model], ["VPC", net.vpc_cidr], ["Subnet", net.subnet_cidr],
            ["Forwarding", net.kube_proxy_mode], ["Service CIDR", net.service_cidr], ["Container CIDR", net.pod_cidr],
            ["Pod capacity", net.pod_capacity]])),
        h("div", { class: "card" }, h("h2", {}, "Other"),
          dl([["Billing", other.billing_mode], ["Authentication", other.authentication],
            ["Authorization", other.authorization], ["Description", other.description || c.description]]))));
    for (const e of c.timeline || []) addEvent(e.time, e.title || e.step, e.result);
    const a = c.allocation;
    if (a && !a.error) {
      allocation.replaceChildren(h("h2", {}, "Allocation"), h("div", { class: "grid" },
        rate("CPU allocation", a.cpu_requested, a.cpu_allocatable, "cores"),
        rate("Memory allocation", a.memory_requested_gib, a.memory_allocatable_gib, "GiB")));
    } else {
      allocation.replaceChildren(h("h2", {}, "Allocation"), h("p", { class: "muted" }, (a && a.error) || "reported once the cluster runs"));
    }
    return c;
  }
  const allocation = h("div", { class: "card" }, h("h2", {}, "Allocation"));
  root.append(head);
  const c = await refresh();
  root.append(allocation, h("div", { class: "card" }, h("h2", {}, "Events"), timeline));
  root.append(await section("Nodes", async () => {
    const b = await api("GET", `/api/v1/clusters/${name}/nodes?limit=500`);
    return table([{ title: "Name", key: "name" }, { title: "Status", render: (n) => statusCell(n.display_status || n.status) },
      { title: "Pool", key: "pool" }, { title: "Flavour", key: "flavour" },
      { title: "Allocatable CPU", key: "allocatable_cpu" }, { title: "Allocatable memory (GiB)", key: "allocatable_memory_gib" },
      { title: "Private IP", key: "private_ip" }, { title: "Zone", key: "zone" }, { title: "Source", key: "source" }], b.items);
  }));
  root.append(await section("Node pools", async () => {
    const b = await api("GET", `/api/v1/clusters/${name}/nodepools?limit=500`);
    const out = h("pre", { class: "join-command", hidden: true });
    const join = async (pool) => {
      try {
        const r = await api("POST", `/api/v1/clusters/${name}/nodepools/${pool}:join-token`, {});
        out.textContent = `# token ${r.token_id} for pool ${r.pool}, valid until ${r.expires}\n${r.command}`;
        out.hidden = false;
      } catch (err) { toast(err.message); }
    };
    return h("div", {}, table([{ title: "Pool", key: "name" }, { title: "Flavour", render: (p) => `${p.flavour.cpu} cores ${p.flavour.memory_gib} GiB` },
      { title: "Nodes", key: "count" }, { title: "Zone", key: "zone" }, { title: "Role", key: "role" },
      { title: "", render: (p) => h("button", { type: "button", onclick: () => join(p.name) }, "Join machines") }], b.items), out);
  }));
  root.append(await section("Namespaces", async () => {
    const b = await api("GET", `/api/v1/clusters/${name}/namespaces?limit=500`);
    return table([{ title: "Namespace", key: "name" }, { title: "Status", render: (n) => statusCell(n.status) },
      { title: "Description", key: "description" }, { title: "Created", key: "created_at" },
      { title: "Isolation", render: (n) => (n.isolated ? "on" : "off") },
      { title: "Node affinity", key: "node_selector" },
      { title: "Quota", render: (n) => Object.entries(n.quota || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "-" }], b.items);
  }));

  // follow the creation operation and the live event stream
  const op = params.get("op");
  let done = ["Running", "Failed"].includes(c.phase || c.status);
  const timer = setInterval(async () => {
    try {
      if (op) {
        const o = await api("GET", `/api/v1/operations/${op}`);
        for (const s of o.steps) addEvent(s.time, s.step ? `${s.name}: ${s.step}` : s.name, s.result);
      }
      if (!done) {
        const now = await refresh();
        done = ["Running", "Failed"].includes(now.phase || now.status);
      }
    } catch (_) { /* keep polling */ }
  }, 1000);
  cleanup.push(() => clearInterval(timer));
  const es = new EventSource(`/api/v1/events?cluster=${encodeURIComponent(name)}&access_token=${encodeURIComponent(S.token)}` +
    (S.tenant ? `&tenant=${encodeURIComponent(S.tenant)}` : ""));
  es.onmessage = () => {};
  es.addEventListener("error", () => {});
  const onFact = (ev) => { const e = JSON.parse(ev.data); addEvent(e.time, `${e.type.split(".").slice(-2, -1)[0]}${e.data && e.data.step ? ": " + e.data.step : ""}`); };
  for (const t of ["requested", "step", "running", "failed", "upgraded", "deleted", "namespace-created", "quota-changed", "addon-installed"]) {
    es.addEventListener(`berth.cluster.${t}.v1`, onFact);
  }
  cleanup.push(() => es.close());
  return root;
}

// --- registries, alerts, audit ---------------------------------------------------------------
async function registries() {
  return h("div", {}, h("h1", {}, "Registries and replication"),
    await section("Registries", async () => table([{ title: "Name", key: "name" }, { title: "URL", key: "url" },
      { title: "Kind", key: "kind" }], (await api("GET", "/api/v1/registries?limit=500")).items)),
    await section("Replication policies", async () => table([{ title: "Name", key: "name" }, { title: "Mode", key: "mode" },
      { title: "Source", key: "source" }, { title: "Destination", key: "destination" },
      { title: "Enabled", render: (p) => (p.enabled ? "yes" : "no") }], (await api("GET", "/api/v1/replication-policies?limit=500")).items)),
    await section("Executions", async () => table([{ title: "ID", key: "id" }, { title: "Policy", key: "policy" },
      { title: "Status", render: (e) => statusCell(e.status) }, { title: "Started", key: "started_at" }],
    (await api("GET", "/api/v1/replication-executions?limit=100")).items)));
}

async function alerts() {
  return h("div", {}, h("h1", {}, "Alerts"),
    await section("Alerts", async () => table([{ title: "Alert", key: "alertname" },
      { title: "Status", render: (a) => statusCell(a.status) }, { title: "Severity", render: (a) => (a.labels || {}).severity || "-" },
      { title: "Cluster", render: (a) => (a.labels || {}).cluster || "-" }, { title: "Since", key: "starts_at" },
      { title: "Acked by", key: "acked_by" }], (await api("GET", "/api/v1/alerts?limit=500")).items, "No alerts.")),
    await section("Silences", async () => table([{ title: "ID", render: (s) => h("a", { href: `#/silences/${s.id}` }, s.id) },
      { title: "Matchers", render: (s) => (s.matchers || []).map(matcherText).join(", ") },
      { title: "Active", render: (s) => (s.active ? "yes" : "no") }], (await api("GET", "/api/v1/silences?limit=500")).items, "No silences.")));
}

// --- releases and DR: each action is a command whose operation the page follows -----------------
async function act(path, body, label, reload) {
  try {
    const reply = await api("POST", path, body, { "Idempotency-Key": crypto.randomUUID() });
    toast(`${label}: accepted (operation ${reply.operation.id})`);
    setTimeout(reload, 1500);
  } catch (err) { toast(`${label}: ${err.message}`); }
}

async function releases() {
  const reload = () => route();
  const buttons = (r) => h("span", { class: "actions" },
    h("button", { type: "button", "data-action": "promote", disabled: r.phase !== "paused" && r.phase !== "progressing",
      onclick: () => act(`/api/v1/releases/${r.name}:promote`, {}, `promote ${r.name}`, reload) }, "Promote"),
    h("button", { type: "button", class: "secondary", "data-action": "rollback",
      onclick: () => act(`/api/v1/releases/${r.name}:rollback`, {}, `rollback ${r.name}`, reload) }, "Roll back"));
  return h("div", {}, h("h1", {}, "Releases"),
    await section("Releases", async () => table([{ title: "Name", key: "name" }, { title: "Cluster", key: "cluster" },
      { title: "Namespace", key: "namespace" }, { title: "Strategy", key: "strategy" },
      { title: "Phase", render: (r) => statusCell(r.phase) }, { title: "Step", key: "step" },
      { title: "Weight", render: (r) => (r.weight == null ? "-" : `${r.weight}%`) }, { title: "Image", key: "image" },
      { title: "Revision", key: "revision" }, { title: "", render: buttons }],
    (await api("GET", "/api/v1/releases?limit=500")).items, "No releases yet.")));
}

async function drGroups() {
  const reload = () => route();
  const site = (s) => `${s.name} (${s.healthy ? "healthy" : "unhealthy"})`;
  const switchTo = (g, verb) => {
    const reason = prompt(`Why ${verb} ${g.name}?`);
    if (reason) act(`/api/v1/dr-groups/${g.name}:${verb}`, { reason }, `${verb} ${g.name}`, reload);
  };
  return h("div", {}, h("h1", {}, "Disaster recovery"),
    await section("DR groups", async () => table([{ title: "Group", key: "name" },
      { title: "State", render: (g) => statusCell(g.state) }, { title: "Active site", key: "active" },
      { title: "Primary", render: (g) => site(g.primary) }, { title: "Standby", render: (g) => site(g.standby) },
      { title: "Switching by", render: (g) => (g.mode || []).join(", ") || "-" }, { title: "Since", key: "since" },
      { title: "Reason", key: "reason" },
      { title: "", render: (g) => h("span", { class: "actions" },
        h("button", { type: "button", "data-action": "switchover", onclick: () => switchTo(g, "switchover") }, "Switch over"),
        h("button", { type: "button", class: "secondary", "data-action": "failback", onclick: () => switchTo(g, "failback") }, "Fail back")) }],
    (await api("GET", "/api/v1/dr-groups?limit=500")).items, "No DR groups yet.")));
}

async function audit() {
  const b = await api("GET", "/api/v1/audit?limit=200");
  return h("div", {}, h("h1", {}, "Audit log"), h("div", { class: "card" }, table([{ title: "Time", key: "time" },
    { title: "User", key: "user" }, { title: "Action", key: "action" }, { title: "Path", key: "path" },
    { title: "Result", render: (e) => statusCell(e.result === "ok" ? "succeeded" : "failed") }, { title: "Request", key: "request_id" }], b.items.reverse())));
}

// --- router ------------------------------------------------------------------------------------
async function route() {
  cleanup.forEach((f) => f()); cleanup = [];
  const [path, query] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = (path || "/clusters").split("/").filter(Boolean);
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === parts[0]));
  document.getElementById("logout").hidden = !S.token;
  if (!S.token || parts[0] === "login") { view.replaceChildren(loginView()); return; }
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    let content;
    if (parts[0] === "clusters" && parts[1] === "new") content = clusterForm();
    else if (parts[0] === "clusters" && parts[1]) content = await clusterDetail(parts[1], params);
    else if (parts[0] === "registries") content = await registries();
    else if (parts[0] === "alerts") content = await alerts();
    else if (parts[0] === "releases") content = await releases();
    else if (parts[0] === "dr") content = await drGroups();
    else if (parts[0] === "audit") content = await audit();
    else if (RESOURCE_PAGES[parts[0]]) content = await RESOURCE_PAGES[parts[0]](parts.slice(1), params);
    else content = await clusterList();
    view.replaceChildren(content);
  } catch (err) {
    view.replaceChildren(problemBox(err));
  }
}

document.getElementById("logout").addEventListener("click", logout);
window.addEventListener("hashchange", route);
route();
