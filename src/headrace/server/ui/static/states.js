// State names -> colour classes, badges and per-state count bars. The names, their colour
// groups and which are finished or failed come from the server, built from the engine's
// state classes: the page shell carries them as a JSON data block (the same list as
// GET /api/ui/states), so the UI keeps no list of its own and costs no extra request.
import { h, s } from "./dom.js";

function servedStates() {
  const block = document.getElementById("headrace-states");
  try {
    return JSON.parse(block.textContent).states;
  } catch {
    return []; // not served by a headrace server: every state shows as "unknown"
  }
}

const STATES = servedStates();
const GROUPS = Object.fromEntries(STATES.map((st) => [st.name, st.group]));

/** Every state name, in the engine's order (the runs page's state filter). */
export const STATE_NAMES = STATES.map((st) => st.name);

export const FINISHED = new Set(STATES.filter((st) => st.finished).map((st) => st.name));

export const FAILED = new Set(STATES.filter((st) => st.failed).map((st) => st.name));

export function stateClass(name) {
  return `st-${GROUPS[name] || "unknown"}`;
}

export function badge(name) {
  return h("span", { class: `badge ${stateClass(name)}`, "data-state": name || "" }, name || "—");
}

/** A horizontal bar split by state, with a legend "Success 9990 · Failed 10". */
export function countsBar(counts, { legend = true } = {}) {
  const entries = Object.entries(counts || {}).filter(([, n]) => n > 0);
  const total = entries.reduce((a, [, n]) => a + n, 0);
  const bar = h("div", { class: "countsbar", title: `${total} total` });
  for (const [name, n] of entries) {
    const part = h("span", { class: stateClass(name), title: `${name}: ${n}` });
    part.style.flexGrow = String(n);
    bar.appendChild(part);
  }
  const wrap = h("div", { class: "counts" }, bar);
  if (legend) {
    wrap.appendChild(
      h("div", { class: "legend" },
        entries.map(([name, n]) => h("span", { class: "legend-item", "data-state": name },
          h("i", { class: stateClass(name) }), `${name} ${n.toLocaleString("en-US")}`))),
    );
  }
  return wrap;
}

/** An SVG rect split by state (for graph nodes). */
export function svgCounts(counts, x, y, width, height) {
  const entries = Object.entries(counts || {}).filter(([, n]) => n > 0);
  const total = entries.reduce((a, [, n]) => a + n, 0) || 1;
  const g = s("g", { class: "svgcounts" });
  let offset = x;
  for (const [name, n] of entries) {
    const w = (width * n) / total;
    g.appendChild(s("rect", { x: offset, y, width: Math.max(w, 0.5), height, class: stateClass(name) },
      s("title", null, `${name}: ${n}`)));
    offset += w;
  }
  return g;
}
