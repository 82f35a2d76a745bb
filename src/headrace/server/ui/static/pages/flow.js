// One flow: graph, versions, schedule, parameters, a Run form built from the parameters'
// defaults and types, and its runs. The form is built once; only the runs refresh.
import { h, replace, update, section, table, fmtTime, fmtDuration, json } from "../dom.js";
import { get, post, patch } from "../api.js";
import { countsBar } from "../states.js";
import { renderGraph } from "../graph.js";
import { runsTable, runsKey, header, labels } from "./common.js";

export function mount(ctx) {
  ctx.flowId = ctx.params[0];
  ctx.parts = {
    head: h("div"), info: h("div"), graph: h("div", { class: "graphwrap" }), form: h("div"),
    versions: h("div"), runs: h("div"), upcoming: h("div"), counts: h("div"),
  };
  const p = ctx.parts;
  replace(ctx.root, p.head,
    h("div", { class: "columns" }, section("Flow", p.info), section("Run", p.form)),
    section("Graph", p.graph),
    section("Runs", p.counts, p.runs),
    h("div", { class: "columns" }, section("Upcoming runs", p.upcoming), section("Versions", p.versions)));
}

export const load = (ctx) => get(`/ui/flows/${encodeURIComponent(ctx.flowId)}`);
export const interval = () => 4000;

// The IANA zone a serialized datetime carries ("...+01:00[Europe/Berlin]"), if any.
const zoneOf = (iso) => (typeof iso === "string" && iso.endsWith("]") ? iso.slice(iso.lastIndexOf("[") + 1, -1) : null);

function describeClock(c) {
  const zone = c.timezone || zoneOf(c.start_date) || zoneOf(c.dtstart);
  let text;
  if (c.cron) text = `cron ${c.cron}`;
  else if (c.interval !== undefined) text = `every ${fmtDuration(c.interval)}`;
  else if (c.dates) text = `on ${c.dates.length} date${c.dates.length === 1 ? "" : "s"}`;
  else if (c.rrule) text = c.rrule.replace(/^RRULE:/, "");
  else text = c.type || json(c);
  if (zone) text += ` (${zone})`;
  const params = Object.entries(c.parameter_defaults || {});
  if (params.length) text += ` with ${params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`;
  if (c.labels && c.labels.length) text += ` labels ${c.labels.join(", ")}`;
  return text;
}

function describeSchedule(schedule) {
  if (!schedule) return "none";
  const clocks = schedule.clocks || [schedule];
  const parts = [clocks.map(describeClock).join("; ") || "no clocks"];
  for (const key of ["filters", "or_filters", "not_filters", "adjustments"]) {
    const rules = schedule[key] || [];
    if (rules.length) parts.push(`${key.replace("_", " ")}: ${rules.map((r) => r.args && r.args.length ? `${r.name}(${r.args.join(", ")})` : r.name).join(", ")}`);
  }
  return parts.join(" · ");
}

function field(p) {
  const id = `param-${p.name}`;
  let input;
  if (p.kind === "boolean") {
    input = h("input", { type: "checkbox", id, name: p.name, checked: p.default === true });
  } else if (p.kind === "integer" || p.kind === "number") {
    input = h("input", { type: "number", id, name: p.name, step: p.kind === "integer" ? "1" : "any", value: p.default ?? "" });
  } else if (p.kind === "string") {
    input = h("input", { type: "text", id, name: p.name, value: p.default ?? "" });
  } else {
    input = h("textarea", { id, name: p.name, rows: 2, placeholder: p.required ? "required (JSON or text)" : "JSON" });
    input.value = p.default === null || p.default === undefined ? "" : json(p.default);
  }
  input.dataset.kind = p.kind;
  return h("div", { class: "field" },
    h("label", { for: id }, p.name, p.required ? h("span", { class: "req" }, " *") : null, h("span", { class: "kind" }, ` ${p.kind}`)),
    input);
}

function readField(p, input) {
  const raw = input.value;
  switch (p.kind) {
    case "boolean": return input.checked;
    case "integer": {
      if (raw === "") throw new Error(`${p.name}: a whole number is needed`);
      const n = Number(raw);
      if (!Number.isInteger(n)) throw new Error(`${p.name}: ${raw} is not a whole number`);
      return n;
    }
    case "number": {
      const n = Number(raw);
      if (raw === "" || Number.isNaN(n)) throw new Error(`${p.name}: ${raw} is not a number`);
      return n;
    }
    case "string": return raw;
    default:
      if (raw.trim() === "") return undefined;
      try { return JSON.parse(raw); } catch { if (p.required) return raw; throw new Error(`${p.name}: not valid JSON`); }
  }
}

function buildForm(ctx, d) {
  const fields = d.parameters.map((p) => [p, field(p)]);
  const labelInput = h("input", { type: "text", name: "labels", value: (d.flow.labels || []).join(", "), placeholder: "comma separated" });
  const nameInput = h("input", { type: "text", name: "run_name", placeholder: "generated" });
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary", id: "run-button" }, "Run");
  const form = h("form", { id: "run-form", on: { submit: async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const parameters = {};
    try {
      for (const [p, el] of fields) {
        const value = readField(p, el.querySelector("input, textarea"));
        if (value !== undefined) parameters[p.name] = value;
      }
    } catch (err) { error.textContent = err.message; return; }
    const body = { flow_id: d.flow.id, parameters };
    const lbl = labelInput.value.split(",").map((x) => x.trim()).filter(Boolean);
    body.labels = lbl;
    if (nameInput.value.trim()) body.name = nameInput.value.trim();
    button.disabled = true;
    try {
      const run = await post("/flow_runs", body);
      location.href = `/runs/${encodeURIComponent(run.id)}`;
    } catch (err) { error.textContent = err.message; button.disabled = false; }
  } } },
  fields.map(([, el]) => el),
  d.parameters.length ? null : h("p", { class: "muted" }, "This flow has no parameters."),
  h("div", { class: "field" }, h("label", null, "Labels"), labelInput),
  h("div", { class: "field" }, h("label", null, "Run name"), nameInput),
  button, error);
  replace(ctx.parts.form, form);
}

// Turns the schedule of every version of this flow on or off (the scheduler stops or
// resumes creating runs; runs already created stay).
function scheduleToggle(ctx, d) {
  const on = d.schedule_active;
  const error = h("span", { class: "error", role: "alert" });
  const button = h("button", { type: "button", id: "schedule-toggle", class: on ? "danger" : "" }, on ? "Turn schedule off" : "Turn schedule on");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await patch(`/flow_groups/${encodeURIComponent(d.flow.flow_group_id)}`, { schedule_active: !on });
    } catch (err) { error.textContent = err.message; }
    ctx.refresh();
  });
  return h("span", null, " ", button, error);
}

export function render(ctx, d) {
  const p = ctx.parts;
  if (!ctx.formBuilt || ctx.version !== d.flow.version) {
    ctx.formBuilt = true;
    ctx.version = d.flow.version;
    document.title = `${d.flow.name} · headrace`;
    replace(p.head, header(d.flow.name, h("span", { class: "muted" }, ` v${d.flow.version} · ${d.flow.project}`),
      d.flow.archived ? h("span", { class: "badge late" }, "archived version") : null));
    buildForm(ctx, d);
    replace(p.graph, renderGraph(d.graph));
  }
  update(p.info, [d.flow, d.schedule, d.schedule_active], () => h("dl", { class: "kv" },
    h("dt", null, "Project"), h("dd", null, d.flow.project),
    h("dt", null, "Labels"), h("dd", null, labels(d.flow.labels)),
    h("dt", null, "Schedule"), h("dd", { id: "schedule" }, describeSchedule(d.schedule), d.schedule ? (d.schedule_active ? " (active)" : " (paused)") : "",
      d.schedule ? scheduleToggle(ctx, d) : null),
    h("dt", null, "Parameters"), h("dd", null, d.parameters.length ? d.parameters.map((x) => `${x.name}${x.required ? "*" : ""}=${json(x.default)}`).join(", ") : "none"),
    h("dt", null, "Environment"), h("dd", null, d.flow.environment || "—"),
    h("dt", null, "Storage"), h("dd", null, d.flow.storage || "—"),
    h("dt", null, "Registered"), h("dd", null, fmtTime(d.flow.registered))));
  update(p.counts, d.runs_by_state, () => countsBar(d.runs_by_state));
  update(p.runs, runsKey(d.recent_runs, d.now), () => runsTable(d.recent_runs, d.now, { message: true, empty: "No runs yet: use the Run form." }));
  update(p.upcoming, runsKey(d.upcoming_runs, d.now), () => runsTable(d.upcoming_runs, d.now, { parameters: true, empty: "Nothing scheduled." }));
  update(p.versions, d.versions, () => table(["Version", "Registered", ""],
    d.versions.map((v) => [h("a", { href: `/flows/${encodeURIComponent(v.id)}` }, `v${v.version}`), fmtTime(v.created), v.archived ? "archived" : "current"])));
}
