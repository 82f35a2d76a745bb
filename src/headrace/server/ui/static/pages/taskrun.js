// One task run (or one mapped child): why it failed (the error and its traceback, folded
// open when it failed, monospace, with a Copy button), its attempts, its state history with
// how long each state lasted, its upstream and downstream task runs, where its result was
// checkpointed, and its log lines.
import { h, replace, update, section, table, fmtTime, fmtDuration } from "../dom.js";
import { get } from "../api.js";
import { badge, FINISHED } from "../states.js";
import { header } from "./common.js";

const LEVEL_NAMES = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };

export function mount(ctx) {
  ctx.taskRunId = ctx.params[0];
  ctx.parts = {
    head: h("div"), error: h("div", { id: "task-error" }), info: h("div"), attempts: h("div"),
    history: h("div"), neighbours: h("div"), logs: h("div", { class: "logs", id: "task-logs", role: "log" }),
  };
  const p = ctx.parts;
  replace(ctx.root, p.head, p.error,
    h("div", { class: "columns" }, section("Task run", p.info), section("Upstream and downstream", p.neighbours)),
    section("Attempts", p.attempts), section("State history", p.history), section("Logs", p.logs));
}

export const load = (ctx) => get(`/ui/task_runs/${encodeURIComponent(ctx.taskRunId)}`);
export const interval = (ctx, d) => (d && FINISHED.has(d.task_run.state) ? 6000 : 1500);

export function taskRunHref(id) {
  return `/task-runs/${encodeURIComponent(id)}`;
}

// Short spans keep their fractions (a task that took 0.04 s is not "0s").
function seconds(value) {
  return value < 10 ? `${value.toFixed(2)}s` : fmtDuration(value);
}

function label(t) {
  return t.map_index >= 0 ? `${t.task_name}[${t.map_index}]` : t.task_name;
}

/** The error box: type and message, the traceback folded under a <details>, Copy button. */
export function errorBox(error, { open = true } = {}) {
  if (!error) return null;
  const text = error.traceback || `${error.type}: ${error.message}`;
  const status = h("span", { class: "muted copy-status", role: "status" });
  const copy = h("button", { type: "button", class: "copy", on: { click: () => {
    const done = () => { status.textContent = " copied"; };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, () => { status.textContent = " copy failed"; });
  } } }, "Copy");
  return h("div", { class: "errorbox" },
    h("p", { class: "errortitle" }, h("strong", null, error.type), `: ${error.message}`),
    h("details", { class: "traceback", open },
      h("summary", null, "Traceback ", copy, status),
      h("pre", { class: "tb" }, text)));
}

function neighbourTable(rows, empty) {
  return table(["Task run", "State", "Message"], rows.map((t) => [
    h("a", { href: taskRunHref(t.id), class: "tasklink" }, label(t)), badge(t.state),
    h("span", { class: "message" }, t.state_message || "")]), empty);
}

export function render(ctx, d) {
  const t = d.task_run;
  const p = ctx.parts;
  const runHref = `/runs/${encodeURIComponent(d.flow_run.id)}`;
  document.title = `${label(t)} · headrace`;
  update(p.head, [t.state, t.state_message, d.flow_run], () => header(label(t),
    h("p", null, badge(t.state), " task run in ", h("a", { href: runHref, class: "runlink" }, d.flow_run.name),
      ` of ${d.flow_run.flow_name} `, badge(d.flow_run.state)),
    t.state_message ? h("p", { class: "message", id: "task-message" }, t.state_message) : null));
  update(p.error, t.error, () => (t.error ? section("Error", errorBox(t.error)) : null));
  const children = Object.entries(t.children || {});
  update(p.info, t, () => h("dl", { class: "kv" },
    h("dt", null, "Task"), h("dd", null, `${t.task_name} (${t.task_slug})`),
    h("dt", null, "Map index"), h("dd", null, t.map_index >= 0 ? String(t.map_index) : "—"),
    h("dt", null, "State"), h("dd", { id: "task-state" }, t.state),
    h("dt", null, "Since"), h("dd", null, fmtTime(t.state_timestamp)),
    h("dt", null, "Tags"), h("dd", null, (t.tags || []).join(", ") || "—"),
    h("dt", null, "Result"), h("dd", { id: "result-location" }, t.result_location ? h("code", null, t.result_location) : "not checkpointed"),
    children.length ? [h("dt", null, "Children"), h("dd", null,
      h("a", { href: `${runHref}/tasks/${encodeURIComponent(t.task_slug)}` }, children.map(([k, n]) => `${n} ${k}`).join(", ")))] : null));
  update(p.neighbours, [d.upstream, d.downstream], () => [
    h("h3", null, "Upstream"), neighbourTable(d.upstream, "No upstream task runs."),
    h("h3", null, "Downstream"), neighbourTable(d.downstream, "No downstream task runs.")]);
  update(p.attempts, d.attempts, () => table(["#", "Started", "Ended", "Took", "Ended in", "Message"],
    d.attempts.map((a) => [String(a.attempt), fmtTime(a.start), fmtTime(a.end),
      a.end ? seconds((new Date(a.end) - new Date(a.start)) / 1000) : "running", badge(a.state),
      h("span", { class: "message" }, a.error ? `${a.error.type}: ${a.error.message}` : a.message || "")]),
    "Not started yet."));
  update(p.history, d.history, () => table(["State", "At", "Lasted", "Message"],
    d.history.map((x) => [badge(x.name), fmtTime(x.timestamp), x.duration === null ? "—" : seconds(x.duration),
      h("span", { class: "message" }, x.message || "")]), "No state changes."));
  update(p.logs, d.logs, () => (d.logs.length ? d.logs.map((r) => {
    const lvl = LEVEL_NAMES[r.level] || String(r.level);
    return h("div", { class: `logline lvl-${lvl.toLowerCase()}` }, h("span", { class: "ts" }, fmtTime(r.timestamp)), " ",
      h("span", { class: "lvl" }, lvl), " ", h("span", { class: "msg" }, r.message));
  }) : h("p", { class: "muted empty" }, "No log lines.")));
}
