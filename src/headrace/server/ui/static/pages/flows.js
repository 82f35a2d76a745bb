// Flows: every flow's latest version with its latest run's state.
import { h, replace, update, section, table, ago } from "../dom.js";
import { get } from "../api.js";
import { badge } from "../states.js";
import { flowLink, header, labels } from "./common.js";

export function mount(ctx) {
  ctx.list = h("div");
  replace(ctx.root, header("Flows"), section("Registered flows", ctx.list));
}

export const load = () => get("/ui/flows");
export const interval = () => 5000;

export function render(ctx, d) {
  update(ctx.list, d.flows, () => table(
    ["Flow", "Project", "Version", "Latest run", "Runs", "Schedule", "Labels"],
    d.flows.map((f) => [
      flowLink(f.id, f.name),
      f.project,
      `v${f.version}`,
      f.latest_run
        ? h("a", { href: `/runs/${encodeURIComponent(f.latest_run.id)}` }, badge(f.latest_run.state), " ", h("span", { class: "muted" }, ago(f.latest_run.state_timestamp, d.now)))
        : h("span", { class: "muted" }, "never run"),
      String(f.runs),
      f.scheduled ? (f.schedule_active ? "active" : "paused") : "—",
      labels(f.labels),
    ]),
    "No flow is registered yet: `headrace register --path FILE`."));
}
