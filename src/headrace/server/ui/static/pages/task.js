// A mapped task's children: counts by state over all of them, and one page of children.
import { h, replace, update, section, table, fmtTime } from "../dom.js";
import { get } from "../api.js";
import { badge, countsBar } from "../states.js";
import { header } from "./common.js";
import { taskRunHref } from "./taskrun.js";
import { artifactList } from "../artifacts.js";

const PAGE = 50;

export function mount(ctx) {
  [ctx.runId, ctx.slug] = ctx.params;
  ctx.offset = Number(ctx.search.get("offset") || 0);
  ctx.state = ctx.search.get("state") || "";
  ctx.parts = { head: h("div"), counts: h("div"), list: h("div"), pager: h("div", { class: "pager" }) };
  ctx.parts.artifacts = h("div", { id: "task-artifacts" });
  replace(ctx.root, ctx.parts.head, section("Artifacts", ctx.parts.artifacts), section("Children by state", ctx.parts.counts),
    section("Children", ctx.parts.list, ctx.parts.pager));
}

export const load = (ctx) => get(`/ui/flow_runs/${encodeURIComponent(ctx.runId)}/tasks/${encodeURIComponent(ctx.slug)}`,
  { state: ctx.state, offset: ctx.offset, limit: PAGE });
export const interval = (ctx, d) => (d && d.flow_run && ["Running", "Cancelling", "Submitted"].includes(d.flow_run.state) ? 2000 : 6000);

export function render(ctx, d) {
  const p = ctx.parts;
  const runHref = `/runs/${encodeURIComponent(d.flow_run.id)}`;
  document.title = `${d.task.name} · headrace`;
  update(p.head, [d.task, d.flow_run], () => header(`${d.task.name}${d.total ? " (mapped)" : ""}`,
    h("p", null, "in run ", h("a", { href: runHref }, d.flow_run.name), " of ", d.flow_run.flow_name, " ", badge(d.task.state))));
  const setState = (state) => () => { ctx.state = state; ctx.offset = 0; ctx.refresh(); };
  update(p.artifacts, d.artifacts, () => artifactList(d.artifacts || [], { label: (a) => (a.map_index >= 0 ? `child ${a.map_index}` : null) }));
  update(p.counts, [d.counts, ctx.state], () => [countsBar(d.counts),
    h("div", { class: "chips" },
      h("button", { type: "button", class: ctx.state ? "chip" : "chip active", on: { click: setState("") } }, "all"),
      Object.entries(d.counts).map(([name, n]) => h("button", { type: "button", class: ctx.state === name ? "chip active" : "chip", "data-state": name, on: { click: setState(name) } }, `${name} ${n}`)))]);
  update(p.list, d.children, () => table(["Index", "State", "Since", "Message"],
    d.children.map((c) => [h("a", { href: taskRunHref(c.id), class: "tasklink" }, String(c.map_index)), badge(c.state), fmtTime(c.state_timestamp), h("span", { class: "message" }, c.state_message || "")]),
    "No child in this state."));
  const last = Math.min(d.total, d.offset + d.children.length);
  const go = (offset) => () => { ctx.offset = offset; ctx.refresh(); };
  update(p.pager, [d.total, d.offset, d.children.length], () => [
    h("span", { class: "muted", id: "page-info" }, d.total ? `${d.offset + 1}–${last} of ${d.total}` : "0 children"),
    h("button", { type: "button", disabled: d.offset === 0, on: { click: go(Math.max(0, d.offset - PAGE)) } }, "‹ Previous"),
    h("button", { type: "button", id: "next-page", disabled: last >= d.total, on: { click: go(d.offset + PAGE) } }, "Next ›")]);
}
