// Building the page from data without innerHTML: every text goes in as a text node, so nothing the
// API returns can become markup.

export function h(tag, props = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "className") {
      el.setAttribute("class", value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (!svg && (name === "value" || (name in el && typeof value !== "string"))) {
      el[name] = value; // properties such as .value, .checked, .disabled
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Loads that overlap (a refresh while the previous one is in flight) must not land out of order:
// claim(box) before loading, and render only if the returned check still says this load is the
// box's latest.
const claims = new WeakMap();
export function claim(box) {
  const mine = (claims.get(box) || 0) + 1;
  claims.set(box, mine);
  return () => claims.get(box) === mine;
}

let nextId = 0;
export function uid(prefix = "f") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// A labelled form control: <div class="field"><label for=id>…</label><control id=id></div>.
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, className: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { className: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
}

// A table with a caption (for screen readers), headers and rows of cells (text or nodes).
export function table(caption, headers, rows, { empty = "Nothing yet.", className } = {}) {
  if (!rows.length) return h("p", { className: "empty" }, empty);
  return h(
    "div",
    { className: "table-wrap" },
    h(
      "table",
      { className },
      h("caption", { className: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))),
    ),
  );
}

export function section(title, ...children) {
  return h("section", { className: "card", "aria-label": title }, h("h2", {}, title), children);
}

// ---- formatting ----

export const fmt = {
  int: (n) => (n === null || n === undefined ? "—" : Math.round(Number(n)).toLocaleString("en")),
  usd: (n) => {
    if (n === null || n === undefined) return "—";
    const v = Number(n);
    return v !== 0 && Math.abs(v) < 0.01 ? `$${small(v)}` : `$${v.toFixed(2)}`;
  },
  pct: (n) => (n === null || n === undefined || Number.isNaN(n) ? "—" : `${(n * 100).toFixed(1)} %`),
  ms: (n) => (n === null || n === undefined ? "—" : `${Math.round(n)} ms`),
  date: (epoch) => (epoch ? new Date(epoch * 1000).toISOString().slice(0, 16).replace("T", " ") : "—"),
  compact: (n) => {
    const v = Number(n);
    if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
    if (Math.abs(v) >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) < 1 ? small(v) : v.toFixed(2);
  },
};

// Two significant digits, without trailing zeros or an exponent (local models cost micro-dollars).
function small(v) {
  const digits = Math.min(20, Math.max(2, 1 - Math.floor(Math.log10(Math.abs(v)))));
  return Number(v.toPrecision(2)).toFixed(digits).replace(/0+$/, "").replace(/\.$/, "");
}

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function daysAgo(n) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return isoDay(d);
}

// Every UTC day from start to end inclusive, as YYYY-MM-DD.
export function dayRange(start, end) {
  const out = [];
  const d = new Date(`${start}T00:00:00Z`);
  const last = new Date(`${end}T00:00:00Z`);
  while (d <= last && out.length < 400) {
    out.push(isoDay(d));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

// Shown in the live region at the top: what just happened, or what went wrong.
export function announce(message, kind = "info") {
  const status = document.getElementById("status");
  status.className = `status ${kind}`;
  status.textContent = message;
}

export function errorText(error) {
  return error && error.message ? error.message : String(error);
}
