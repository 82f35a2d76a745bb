// Flow runs: a filtered, paginated list (state, flow, label, time). Filters live in the
// query string so a filtered view can be bookmarked.
import { h, replace, update, section } from "../dom.js";
import { get } from "../api.js";
import { STATE_NAMES } from "../states.js";
import { runsTable, runsKey, header } from "./common.js";

const PAGE = 50;

function toInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function mount(ctx) {
  const q = ctx.search;
  ctx.filters = {
    state: h("select", { name: "state", id: "filter-state" }, h("option", { value: "" }, "any state"),
      STATE_NAMES.map((n) => h("option", { value: n }, n))),
    flow: h("select", { name: "flow_group_id", id: "filter-flow" }, h("option", { value: "" }, "any flow")),
    q: h("input", { type: "search", name: "q", id: "filter-search", placeholder: "search run or flow name" }),
    label: h("input", { type: "text", name: "label", id: "filter-label", placeholder: "label" }),
    since: h("input", { type: "datetime-local", name: "since", id: "filter-since" }),
    until: h("input", { type: "datetime-local", name: "until", id: "filter-until" }),
  };
  const f = ctx.filters;
  f.state.value = q.get("state") || "";
  f.label.value = q.get("label") || "";
  f.q.value = q.get("q") || "";
  f.since.value = toInput(q.get("since"));
  f.until.value = toInput(q.get("until"));
  ctx.wantedFlow = q.get("flow_group_id") || "";
  ctx.offset = Number(q.get("offset") || 0);
  const apply = (ev) => { if (ev) ev.preventDefault(); ctx.offset = 0; ctx.wantedFlow = f.flow.value; syncUrl(ctx); ctx.refresh(); };
  for (const el of [f.state, f.flow, f.since, f.until]) el.addEventListener("change", apply);
  let typing = null;
  f.q.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(apply, 300); });
  ctx.list = h("div");
  ctx.pager = h("div", { class: "pager" });
  replace(ctx.root, header("Flow runs"),
    h("form", { class: "filters", id: "run-filters", on: { submit: apply } },
      f.q, f.state, f.flow, f.label, h("label", null, "from ", f.since), h("label", null, "to ", f.until),
      h("button", { type: "submit" }, "Filter")),
    section("Runs", ctx.list, ctx.pager));
}

function params(ctx) {
  const f = ctx.filters;
  return {
    q: f.q.value.trim(),
    state: f.state.value,
    flow_group_id: f.flow.value || ctx.wantedFlow,
    label: f.label.value.trim(),
    since: f.since.value ? new Date(f.since.value).toISOString() : "",
    until: f.until.value ? new Date(f.until.value).toISOString() : "",
    offset: ctx.offset || "",
  };
}

function syncUrl(ctx) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params(ctx))) if (v) q.set(k, String(v));
  history.replaceState(null, "", `/runs${q.toString() ? `?${q}` : ""}`);
}

export const load = (ctx) => get("/ui/flow_runs", { ...params(ctx), limit: PAGE });
export const interval = () => 4000;

export function render(ctx, d) {
  const sel = ctx.filters.flow;
  if (sel.options.length !== d.flows.length + 1) {
    const current = sel.value || ctx.wantedFlow;
    replace(sel, h("option", { value: "" }, "any flow"), d.flows.map((g) => h("option", { value: g.id }, g.name)));
    sel.value = current;
  }
  update(ctx.list, runsKey(d.runs, d.now), () => runsTable(d.runs, d.now, { stateMessage: true, empty: "No run matches these filters." }));
  const last = Math.min(d.total, d.offset + d.runs.length);
  const go = (offset) => () => { ctx.offset = offset; syncUrl(ctx); ctx.refresh(); };
  update(ctx.pager, [d.total, d.offset, d.runs.length], () => [
    h("span", { class: "muted" }, d.total ? `${d.offset + 1}–${last} of ${d.total}` : "0 runs"),
    h("button", { type: "button", disabled: d.offset === 0, on: { click: go(Math.max(0, d.offset - PAGE)) } }, "‹ Newer"),
    h("button", { type: "button", disabled: last >= d.total, on: { click: go(d.offset + PAGE) } }, "Older ›")]);
}
