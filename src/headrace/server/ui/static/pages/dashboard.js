// Dashboard: runs by state over the last day (totals and per hour), failures with their
// messages, upcoming and late runs, agents with when each was last seen.
import { h, s, replace, update, section, table, ago, fmtTime } from "../dom.js";
import { get } from "../api.js";
import { countsBar, stateClass } from "../states.js";
import { runsTable, runsKey, header, labels } from "./common.js";

export function mount(ctx) {
  ctx.parts = {
    stats: h("div", { class: "stats" }),
    hours: h("div", { class: "chart" }),
    failures: h("div"),
    late: h("div"),
    upcoming: h("div"),
    agents: h("div"),
  };
  const p = ctx.parts;
  replace(ctx.root,
    header("Dashboard"),
    p.stats,
    section("Runs over the last day", p.hours),
    h("div", { class: "columns" },
      section("Recent failures", p.failures),
      h("div", null, section("Late runs", p.late), section("Upcoming runs", p.upcoming))),
    section("Agents", p.agents));
}

export const load = () => get("/ui/dashboard", { hours: 24 });
export const interval = () => 5000;

function hourChart(buckets) {
  const W = 900, H = 120, pad = 18;
  const max = Math.max(1, ...buckets.map((b) => Object.values(b.states).reduce((a, n) => a + n, 0)));
  const bw = (W - pad) / buckets.length;
  const svg = s("svg", { class: "hours", width: W, height: H + pad, viewBox: `0 0 ${W} ${H + pad}`, role: "img", "aria-label": "runs per hour" });
  buckets.forEach((b, i) => {
    let y = H;
    for (const [state, n] of Object.entries(b.states)) {
      const bh = (H - 8) * (n / max);
      y -= bh;
      svg.appendChild(s("rect", { x: pad + i * bw + 1, y, width: Math.max(1, bw - 2), height: bh, class: stateClass(state) },
        s("title", null, `${b.hour}:00 UTC — ${state}: ${n}`)));
    }
    if (i % 4 === 0) svg.appendChild(s("text", { x: pad + i * bw, y: H + 14, class: "axis" }, `${b.hour.slice(11)}h`));
  });
  svg.appendChild(s("text", { x: 0, y: 10, class: "axis" }, String(max)));
  return svg;
}

export function render(ctx, d) {
  const p = ctx.parts;
  const total = Object.values(d.by_state).reduce((a, n) => a + n, 0);
  const failed = d.failures.length;
  update(p.stats, [total, d.running, failed, d.late.length, d.flows], () => [
    h("div", { class: "stat" }, h("b", null, String(total)), h("span", null, "runs in 24 h")),
    h("div", { class: "stat" }, h("b", null, String(d.running)), h("span", null, "running now")),
    h("div", { class: "stat bad" }, h("b", null, String(failed)), h("span", null, "failures in 24 h")),
    h("div", { class: "stat" }, h("b", null, String(d.late.length)), h("span", null, "late")),
    h("div", { class: "stat" }, h("b", null, String(d.flows)), h("span", null, "flows"))]);
  update(p.hours, [d.by_state, d.by_hour], () => [total ? countsBar(d.by_state) : h("p", { class: "muted empty" }, "No runs in the last day."), hourChart(d.by_hour)]);
  update(p.failures, runsKey(d.failures, d.now), () => runsTable(d.failures, d.now, { message: true, empty: "No failures in the last day." }));
  update(p.late, runsKey(d.late, d.now), () => runsTable(d.late, d.now, { empty: "Nothing is late." }));
  update(p.upcoming, runsKey(d.upcoming, d.now), () => runsTable(d.upcoming, d.now, { empty: "Nothing scheduled." }));
  update(p.agents, [d.agents.map((a) => [a.id, a.labels, Math.floor(a.seconds_ago / 5)])], () => table(
    ["Agent", "Type", "Labels", "Last seen"],
    d.agents.map((a) => [a.name, a.type || "—", labels(a.labels),
      h("span", { class: a.seconds_ago > 120 ? "stale" : "fresh", title: fmtTime(a.last_seen) }, ago(a.last_seen, d.now))]),
    "No agent has registered."));
}
