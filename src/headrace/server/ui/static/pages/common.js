// Pieces several pages share: run tables and links.
import { h, fmtTime, duration, table } from "../dom.js";
import { badge, FAILED } from "../states.js";

export function runLink(run) {
  return h("a", { href: `/runs/${encodeURIComponent(run.id)}`, class: "runlink" }, run.name);
}

export function flowLink(id, name) {
  return h("a", { href: `/flows/${encodeURIComponent(id)}`, class: "flowlink" }, name);
}

export function labels(list) {
  return h("span", { class: "labels" }, (list || []).map((l) => h("span", { class: "label" }, l)));
}

export function runsTable(runs, nowIso, { message = false, stateMessage = false, parameters = false, empty } = {}) {
  const headers = ["Run", "Flow", "State", "Scheduled", "Duration", "Labels"];
  if (parameters) headers.push("Parameters");
  if (message) headers.push("Message");
  return table(
    headers,
    runs.map((r) => {
      const cells = [
        runLink(r),
        flowLink(r.flow_id, `${r.flow_name} v${r.flow_version}`),
        h("span", null, badge(r.state), r.is_late ? h("span", { class: "badge late" }, "late") : null,
          stateMessage && FAILED.has(r.state) ? failureNote(r) : null),
        fmtTime(r.scheduled_start),
        duration(r.start_time, r.end_time, nowIso),
        labels(r.labels),
      ];
      if (parameters) {
        const entries = Object.entries(r.parameters || {});
        cells.push(h("span", { class: "params" }, entries.length ? entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ") : "—"));
      }
      if (message) {
        const cause = r.task_failure;
        cells.push(h("span", { class: "message" }, r.state_message || "",
          cause ? h("span", { class: "cause" }, h("br"),
            `${cause.task_name}${cause.map_index >= 0 ? `[${cause.map_index}]` : ""}: ${cause.message || cause.state}`) : null));
      }
      return cells;
    }),
    empty,
  );
}

// Under a failed run's badge: its message and the first failing task run, linked.
function failureNote(r) {
  const cause = r.task_failure;
  return h("span", { class: "runs-state-message" }, r.state_message || "",
    cause ? [h("br"), h("a", { href: `/task-runs/${encodeURIComponent(cause.id)}`, class: "tasklink" },
      `${cause.task_name}${cause.map_index >= 0 ? `[${cause.map_index}]` : ""}`), `: ${cause.message || cause.state}`] : null);
}

export function header(title, ...extra) {
  return h("div", { class: "pagehead" }, h("h1", null, title), ...extra);
}

/** What a runs table shows: the rows, plus a 10 s clock tick while a run is in progress
 * (its duration moves), so an idle table is not rebuilt on every poll. */
export function runsKey(runs, nowIso) {
  const moving = runs.some((r) => r.start_time && !r.end_time);
  return [runs, moving ? Math.floor(Date.parse(nowIso) / 10000) : 0];
}
