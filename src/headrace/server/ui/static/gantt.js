// The run's timeline: one bar per task (a mapped task's bar spans all its children), from
// its first Running to its last state change, or to now while it still runs.
import { s, h, fmtDuration } from "./dom.js";
import { stateClass, FINISHED } from "./states.js";

const ROW = 22, LABEL = 180, WIDTH = 900, AXIS = 22;

// Axis labels keep sub-second precision on short runs, so ticks never repeat ("+0s +0s").
function axisLabel(seconds, spanSeconds) {
  if (spanSeconds < 10) return `${seconds.toFixed(spanSeconds < 1 ? 2 : 1)}s`;
  return fmtDuration(seconds);
}

export function renderGantt(nodes, run, nowIso, options = {}) {
  // a task left unfinished by a run that ended (cancelled, crashed) stops at the run's end
  const now = run.end_time ? new Date(run.end_time) : new Date(nowIso);
  const rows = nodes
    .filter((n) => n.start)
    .map((n) => {
      const start = new Date(n.start);
      const finished = n.state && FINISHED.has(n.state);
      const end = finished && n.end ? new Date(n.end) : now;
      return { n, start, end: end < start ? start : end };
    })
    .sort((a, b) => a.start - b.start || a.n.layer - b.n.layer);
  if (!rows.length) return h("p", { class: "muted empty" }, "No task has started yet.");
  const t0 = Math.min(...rows.map((r) => r.start), run.start_time ? new Date(run.start_time) : Infinity);
  const t1 = Math.max(...rows.map((r) => r.end), t0 + 1000);
  const span = t1 - t0;
  const plot = WIDTH - LABEL - 10;
  const height = AXIS + rows.length * ROW + 6;
  const svg = s("svg", { class: "gantt", width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, role: "img", "aria-label": "task timeline" });
  for (let i = 0; i <= 4; i++) {
    const x = LABEL + (plot * i) / 4;
    svg.appendChild(s("line", { x1: x, y1: AXIS - 4, x2: x, y2: height, class: "tick" }));
    svg.appendChild(s("text", { x, y: 12, class: "axis", "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" },
      `+${axisLabel((span * i) / 4000, span / 1000)}`));
  }
  rows.forEach((r, i) => {
    const y = AXIS + i * ROW;
    const x = LABEL + ((r.start - t0) / span) * plot;
    const w = Math.max(2, ((r.end - r.start) / span) * plot);
    const label = r.n.mapped ? `${r.n.name} ×${r.n.child_count}` : r.n.name;
    const g = s("g", { class: "bar", "data-slug": r.n.slug });
    g.appendChild(s("text", { x: LABEL - 8, y: y + 15, class: "label", "text-anchor": "end" },
      label.length > 26 ? `${label.slice(0, 25)}…` : label));
    g.appendChild(s("rect", { x, y: y + 3, width: w, height: ROW - 6, rx: 3, class: stateClass(r.n.state) }));
    g.appendChild(s("title", null, `${r.n.name}: ${r.n.state || "?"}, ${fmtDuration((r.end - r.start) / 1000)}`));
    const href = options.link ? options.link(r.n) : null;
    svg.appendChild(href ? s("a", { href, class: "barlink" }, g) : g);
  });
  return svg;
}
