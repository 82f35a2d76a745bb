// A flow's graph as SVG. The server sends nodes with a layer and an order inside it; a
// mapped task is one node showing its children's counts by state, never one per child.
import { s } from "./dom.js";
import { FAILED, stateClass, svgCounts } from "./states.js";

const W = 190, H = 58, GAP_X = 70, GAP_Y = 22, PAD = 12;

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * graph: {nodes, edges, layers}; options.link(node) -> href or null for a node link.
 * Returns an <svg> element.
 */
export function renderGraph(graph, options = {}) {
  const nodes = graph.nodes || [];
  const perLayer = {};
  for (const n of nodes) perLayer[n.layer] = Math.max(perLayer[n.layer] || 0, n.order + 1);
  const rows = Math.max(1, ...Object.values(perLayer));
  const width = PAD * 2 + Math.max(1, graph.layers) * (W + GAP_X) - GAP_X;
  const height = PAD * 2 + rows * (H + GAP_Y) - GAP_Y;
  const pos = {};
  for (const n of nodes) {
    const inLayer = perLayer[n.layer];
    const offset = ((rows - inLayer) * (H + GAP_Y)) / 2;
    pos[n.slug] = { x: PAD + n.layer * (W + GAP_X), y: PAD + offset + n.order * (H + GAP_Y) };
  }
  const svg = s("svg", {
    class: "graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "flow graph",
  });
  svg.appendChild(s("defs", null, s("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
    orient: "auto-start-reverse",
  }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  for (const e of graph.edges || []) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    const mid = (x1 + x2) / 2;
    svg.appendChild(s("path", {
      d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`,
      class: e.mapped ? "edge mapped" : "edge", "marker-end": "url(#arrow)",
    }, s("title", null, e.key ? `${e.from} → ${e.to} (${e.key})` : `${e.from} → ${e.to}`)));
  }
  for (const n of nodes) {
    const { x, y } = pos[n.slug];
    const state = n.state || null;
    const g = s("g", {
      class: `node ${state ? stateClass(state) : "st-none"}${n.mapped ? " mapped" : ""}${n.parameter ? " parameter" : ""}`,
      "data-slug": n.slug, "data-state": state || "",
    });
    if (n.mapped) g.appendChild(s("rect", { x: x + 4, y: y + 4, width: W, height: H, rx: 6, class: "shadow" }));
    g.appendChild(s("rect", { x, y, width: W, height: H, rx: 6, class: "box" }));
    g.appendChild(s("text", { x: x + 10, y: y + 18, class: "name" }, clip(n.name, 24)));
    let sub = n.parameter ? "Parameter" : n.type || "";
    if (state) sub = state;
    if (n.mapped) sub = n.child_count ? `mapped × ${n.child_count.toLocaleString("en-US")}${state ? ` · ${state}` : ""}` : `mapped${state ? ` · ${state}` : ""}`;
    g.appendChild(s("text", { x: x + 10, y: y + 34, class: "sub" }, clip(sub, 30)));
    if (n.mapped && n.child_count) g.appendChild(svgCounts(n.children, x + 10, y + 42, W - 20, 8));
    // children that failed show in red even when the parent (a reduce) succeeded
    const failed = n.mapped ? [...FAILED].reduce((a, k) => a + ((n.children || {})[k] || 0), 0) : 0;
    if (failed) g.appendChild(s("text", { x: x + W - 10, y: y + 18, class: "failedcount", "text-anchor": "end" }, `${failed.toLocaleString("en-US")} failed`));
    g.appendChild(s("title", null, `${n.name} (${n.slug})${state ? `: ${state}` : ""}${n.state_message ? ` — ${n.state_message}` : ""}`));
    const href = options.link ? options.link(n) : null;
    svg.appendChild(href ? s("a", { href, class: "nodelink" }, g) : g);
  }
  return svg;
}
