// DOM building without HTML strings: every piece of user data goes in through
// textContent / createTextNode or setAttribute, never innerHTML, so a flow name such as
// "<img onerror=...>" is shown as text.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "on") {
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    } else if (key.startsWith("on")) {
      throw new Error(`refusing inline handler attribute ${key}`);
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked") {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  return el;
}

/** An HTML element: h("a", {href: "/x", class: "c"}, "text", child, ...). */
export function h(tag, attrs, ...children) {
  return append(setAttrs(document.createElement(tag), attrs), children);
}

/** An SVG element, same calling convention as h(). */
export function s(tag, attrs, ...children) {
  return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
}

/** Replace el's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { hour12: false });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function ago(iso, nowIso) {
  if (!iso) return "never";
  const now = nowIso ? new Date(nowIso) : new Date();
  const secs = (now - new Date(iso)) / 1000;
  return secs >= 0 ? `${fmtDuration(secs)} ago` : `in ${fmtDuration(-secs)}`;
}

export function duration(start, end, nowIso) {
  if (!start) return "—";
  const stop = end ? new Date(end) : nowIso ? new Date(nowIso) : new Date();
  return fmtDuration((stop - new Date(start)) / 1000);
}

export function json(value) {
  return JSON.stringify(value);
}

export function table(headers, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "muted empty" }, empty);
  return h(
    "table",
    { class: "grid" },
    h("thead", null, h("tr", null, headers.map((x) => h("th", null, x)))),
    h("tbody", null, rows.map((cells) => h("tr", null, cells.map((c) => h("td", null, c))))),
  );
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

/**
 * Re-render `el` from `data` only when the data changed since the last time, so a poll
 * that brings nothing new leaves the DOM (and a link being clicked) alone.
 */
const SIGNATURES = new WeakMap();

export function update(el, data, build) {
  const sig = JSON.stringify(data);
  if (SIGNATURES.get(el) === sig) return el;
  SIGNATURES.set(el, sig);
  el.replaceChildren();
  return append(el, [build()]);
}
