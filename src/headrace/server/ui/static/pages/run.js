// One flow run, live: state and actions (Cancel / Restart), parameters, the graph coloured
// by state (mapped tasks as one node with counts), a Gantt timeline and the logs (level
// filter and search; new lines are fetched incrementally with the same single request).
import { h, replace, update, section, table, fmtTime, duration, json } from "../dom.js";
import { get, post } from "../api.js";
import { badge, countsBar, FINISHED } from "../states.js";
import { renderGraph } from "../graph.js";
import { renderGantt } from "../gantt.js";
import { flowLink, header, labels } from "./common.js";
import { errorBox, taskRunHref } from "./taskrun.js";
import { artifactList } from "../artifacts.js";

const LEVELS = [["0", "all levels"], ["10", "DEBUG+"], ["20", "INFO+"], ["30", "WARNING+"], ["40", "ERROR+"]];
const LEVEL_NAMES = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };
const MAX_LOG_ROWS = 5000;

export function mount(ctx) {
  ctx.runId = ctx.params[0];
  ctx.logCursor = null;
  ctx.logGen = 0;
  ctx.parts = {
    head: h("div"), failures: h("div", { id: "failures" }), actions: h("div", { class: "actions" }), info: h("div"), params: h("div"),
    links: h("div", { id: "run-links" }), artifacts: h("div", { id: "run-artifacts" }),
    counts: h("div"), graph: h("div", { class: "graphwrap" }), gantt: h("div", { class: "graphwrap" }),
    logs: h("div", { class: "logs", id: "logs", role: "log" }), logInfo: h("span", { class: "muted" }),
  };
  const level = h("select", { id: "log-level", name: "level" }, LEVELS.map(([v, t]) => h("option", { value: v }, t)));
  const search = h("input", { type: "search", id: "log-search", name: "search", placeholder: "search logs" });
  ctx.logFilter = { level, search };
  const resetLogs = () => { ctx.logGen += 1; ctx.logCursor = null; ctx.refresh(); };
  level.addEventListener("change", resetLogs);
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(resetLogs, 300); });
  const p = ctx.parts;
  replace(ctx.root, p.head, p.failures, p.actions,
    h("div", { class: "columns" }, section("Run", p.info), section("Parameters", p.params)),
    p.links,
    section("Task runs", p.counts, p.graph),
    section("Artifacts", p.artifacts),
    section("Timeline", p.gantt),
    section("Logs", h("div", { class: "filters" }, level, search, p.logInfo), p.logs));
}

export function load(ctx) {
  const gen = ctx.logGen;
  return get(`/ui/flow_runs/${encodeURIComponent(ctx.runId)}`, {
    logs_after: ctx.logCursor,
    log_level: ctx.logFilter.level.value,
    log_search: ctx.logFilter.search.value.trim(),
  }).then((d) => ({ ...d, gen }));
}

export const interval = (ctx, d) => (d && FINISHED.has(d.run.state) ? 5000 : 1500);

async function act(ctx, what, button) {
  button.disabled = true;
  const out = ctx.parts.actions.querySelector(".error");
  out.textContent = "";
  try {
    await post(`/flow_runs/${encodeURIComponent(ctx.runId)}/${what}`);
    ctx.logGen += 1;
    ctx.logCursor = null;
  } catch (err) {
    out.textContent = `${what} failed: ${err.message}`;
  }
  ctx.refresh();
}

function renderActions(ctx, run) {
  const finished = FINISHED.has(run.state);
  const cancel = h("button", { type: "button", id: "cancel-run", class: "danger", disabled: finished || run.state === "Cancelling" });
  cancel.textContent = run.state === "Cancelling" ? "Cancelling…" : "Cancel";
  cancel.addEventListener("click", () => { if (confirm("Cancel this run?")) act(ctx, "cancel", cancel); });
  const restart = h("button", { type: "button", id: "restart-run", disabled: !finished }, "Restart");
  restart.addEventListener("click", () => act(ctx, "restart", restart));
  replace(ctx.parts.actions, cancel, restart, h("span", { class: "error", role: "alert" }));
}

function appendLogs(ctx, d) {
  const box = ctx.parts.logs;
  if (d.gen !== ctx.logGen) return; // an answer for filters that changed meanwhile
  // a fresh tail (first load, new filter, after an action) replaces the lines in one go,
  // so the page does not shrink and grow under the reader's pointer
  if (d.logs_reset) box.replaceChildren();
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
  for (const r of d.logs) {
    const lvl = LEVEL_NAMES[r.level] || String(r.level);
    box.appendChild(h("div", { class: `logline lvl-${lvl.toLowerCase()}`, "data-level": String(r.level) },
      h("span", { class: "ts" }, fmtTime(r.timestamp)), " ",
      h("span", { class: "lvl" }, lvl), " ",
      h("span", { class: "src" }, r.task_slug ? `${r.task_slug}${r.map_index !== null && r.map_index >= 0 ? `[${r.map_index}]` : ""}` : r.name), " ",
      h("span", { class: "msg" }, r.message)));
  }
  while (box.childElementCount > MAX_LOG_ROWS) box.firstElementChild.remove();
  ctx.logCursor = d.log_cursor;
  if (!box.childElementCount) box.appendChild(h("p", { class: "muted empty" }, "No log lines (yet)."));
  else box.querySelector(".empty")?.remove();
  ctx.parts.logInfo.textContent = `${box.querySelectorAll(".logline").length} lines`;
  if (stick) box.scrollTop = box.scrollHeight;
}

function failureLabel(t) {
  return t.map_index >= 0 ? `${t.task_name}[${t.map_index}]` : t.task_name;
}

// A failed run says why at the top: each failing task run with its message, a link to its
// page and its error (the first one's traceback open, the others folded).
function renderFailures(failures, runError) {
  if ((!failures || !failures.length) && runError) {
    return h("section", { class: "card failures" }, h("h2", null, "Why it failed: the flow run itself failed"),
      errorBox(runError, { open: true }));
  }
  if (!failures || !failures.length) return null;
  const raised = failures.filter((t) => t.state !== "TriggerFailed");
  const blocked = failures.filter((t) => t.state === "TriggerFailed");
  return h("section", { class: "card failures" },
    h("h2", null, `Why it failed: ${raised.length} task run${raised.length === 1 ? "" : "s"} failed`),
    raised.map((t, i) => h("div", { class: "failure", "data-task-run": t.id },
      h("p", null, h("a", { href: taskRunHref(t.id), class: "tasklink" }, failureLabel(t)), " ", badge(t.state), " ",
        h("span", { class: "message" }, t.state_message || "")),
      errorBox(t.error, { open: i === 0 }))),
    blocked.length ? h("p", { class: "muted" }, "Not run because of them: ",
      blocked.map((t, i) => [i ? ", " : "", h("a", { href: taskRunHref(t.id), class: "tasklink" }, failureLabel(t))])) : null);
}

export function render(ctx, d) {
  const r = d.run;
  const p = ctx.parts;
  document.title = `${r.name} · headrace`;
  update(p.head, [r.name, r.state, r.is_late, r.state_message, r.flow_name], () => header(r.name, badge(r.state), r.is_late ? h("span", { class: "badge late" }, "late") : null,
    h("p", { class: "muted" }, "run of ", flowLink(r.flow_id, `${r.flow_name} v${r.flow_version}`),
      r.state_message ? h("span", { class: "message" }, ` — ${r.state_message}`) : null)));
  update(p.failures, [d.failures, d.run_error], () => renderFailures(d.failures, d.run_error));
  if (ctx.lastState !== r.state) { ctx.lastState = r.state; renderActions(ctx, r); }
  update(p.info, [r, FINISHED.has(r.state) ? 0 : Math.floor(Date.parse(d.now) / 1000)], () => h("dl", { class: "kv" },
    h("dt", null, "State"), h("dd", { id: "run-state" }, r.state),
    h("dt", null, "Scheduled"), h("dd", null, fmtTime(r.scheduled_start)),
    h("dt", null, "Started"), h("dd", null, fmtTime(r.start_time)),
    h("dt", null, "Ended"), h("dd", null, fmtTime(r.end_time)),
    h("dt", null, "Duration"), h("dd", null, duration(r.start_time, r.end_time, d.now)),
    h("dt", null, "Attempts"), h("dd", null, String(r.run_count)),
    h("dt", null, "Labels"), h("dd", null, labels(r.labels)),
    h("dt", null, "Agent"), h("dd", null, r.agent_id || "—")));
  const params = Object.entries(r.parameters || {});
  update(p.params, r.parameters, () => table(["Name", "Value"], params.map(([k, v]) => [k, h("code", null, json(v))]), "No parameters."));
  update(p.links, [d.parent, d.child_runs], () => renderLinks(d.parent, d.child_runs || []));
  update(p.artifacts, d.artifacts, () => artifactList(d.artifacts || [], { label: (a) => (a.task_slug
    ? h("a", { href: `/runs/${encodeURIComponent(r.id)}/tasks/${encodeURIComponent(a.task_slug)}`, class: "artifact-task" },
      `${a.task_name}${a.map_index >= 0 ? `[${a.map_index}]` : ""}`)
    : "flow run") }));
  update(p.counts, d.task_counts, () => countsBar(d.task_counts));
  const runId = encodeURIComponent(r.id);
  const childrenHref = (n) => (n.mapped && n.child_count ? `/runs/${runId}/tasks/${encodeURIComponent(n.slug)}` : null);
  const nodeHref = (n) => childrenHref(n) || (n.task_run_id ? taskRunHref(n.task_run_id) : null);
  const mapped = d.graph.nodes.filter(childrenHref);
  update(p.graph, d.graph, () => [renderGraph(d.graph, { link: nodeHref }),
    mapped.length ? h("p", { class: "mappedlinks" }, "Mapped tasks: ", mapped.map((n) =>
      h("a", { href: childrenHref(n), class: "children-link", "data-slug": n.slug },
        `${n.name} (${n.child_count.toLocaleString("en-US")} children)`))) : null]);
  update(p.gantt, [d.graph.nodes, r.start_time, FINISHED.has(r.state) ? 0 : d.now], () => renderGantt(d.graph.nodes, r, d.now, { link: nodeHref }));
  appendLogs(ctx, d);
}

// Flows of flows: the run and task that started this run, and the runs its tasks started.
function renderLinks(parent, children) {
  const taskLabel = (x) => `${x.task_name}${x.map_index >= 0 ? `[${x.map_index}]` : ""}`;
  if (!parent && !children.length) return null;
  return section("Flows of flows",
    parent ? h("p", { id: "parent-run" }, "Started by task ", h("code", null, taskLabel(parent)), " of run ",
      h("a", { href: `/runs/${encodeURIComponent(parent.flow_run_id)}`, class: "parent-link" }, parent.flow_run_name), " ", badge(parent.state)) : null,
    children.length ? table(["Child run", "State", "Started by task"], children.map((c) => [
      h("a", { href: `/runs/${encodeURIComponent(c.id)}`, class: "child-link" }, c.name), badge(c.state), taskLabel(c)])) : null);
}
