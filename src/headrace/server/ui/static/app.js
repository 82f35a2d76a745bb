// The UI's entry point: pick the page for the path, then keep it live. Each refresh is ONE
// request to an aggregate endpoint (/api/ui/...), rendered into the page's sections.
import { h, replace } from "./dom.js";
import { ApiError, setApiKey } from "./api.js";
import * as dashboard from "./pages/dashboard.js";
import * as flows from "./pages/flows.js";
import * as flow from "./pages/flow.js";
import * as runs from "./pages/runs.js";
import * as run from "./pages/run.js";
import * as task from "./pages/task.js";
import * as taskrun from "./pages/taskrun.js";

const ROUTES = [
  [/^\/$/, dashboard, "dashboard"],
  [/^\/flows\/?$/, flows, "flows"],
  [/^\/flows\/([^/]+)$/, flow, "flows"],
  [/^\/runs\/?$/, runs, "runs"],
  [/^\/runs\/([^/]+)$/, run, "runs"],
  [/^\/runs\/([^/]+)\/tasks\/(.+)$/, task, "runs"],
  [/^\/task-runs\/([^/]+)$/, taskrun, "runs"],
];

function keyForm(root, error) {
  const input = h("input", { type: "password", name: "key", placeholder: "hr_…", autocomplete: "off" });
  replace(root,
    h("section", { class: "card" },
      h("h2", null, "API key needed"),
      h("p", { class: "error" }, error.message),
      h("form", { on: { submit: (ev) => { ev.preventDefault(); setApiKey(input.value.trim()); location.reload(); } } },
        input, " ", h("button", { type: "submit" }, "Use key"))));
}

/** Poll `page.load()` and render; faster while `page.busy()` says something is moving. */
async function live(page, root, ctx) {
  const dot = document.getElementById("live");
  let failures = 0;
  for (;;) {
    let wait = page.interval ? page.interval(ctx) : 3000;
    if (!document.hidden) {
      try {
        const data = await page.load(ctx);
        page.render(ctx, data);
        failures = 0;
        dot.className = "live on";
        dot.title = `Updated ${new Date().toLocaleTimeString()}`;
        wait = page.interval ? page.interval(ctx, data) : 3000;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return keyForm(root, err);
        if (err instanceof ApiError && err.status === 404 && !ctx.rendered) {
          return replace(root, h("section", { class: "card" }, h("h2", null, "Not found"), h("p", { class: "error" }, err.message)));
        }
        failures += 1;
        dot.className = "live off";
        dot.title = `Update failed: ${err.message}`;
        wait = Math.min(30000, 2000 * failures);
      }
    }
    ctx.rendered = true;
    await new Promise((resolve) => { ctx.wake = resolve; setTimeout(resolve, wait); });
  }
}

function start() {
  const root = document.getElementById("app");
  const path = location.pathname;
  for (const [pattern, page, nav] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === nav);
    const ctx = { root, params: match.slice(1).map(decodeURIComponent), search: new URLSearchParams(location.search) };
    ctx.refresh = () => ctx.wake && ctx.wake();
    window.addEventListener("headrace:wake", ctx.refresh);
    page.mount(ctx);
    live(page, root, ctx);
    return;
  }
  replace(root, h("section", { class: "card" }, h("h2", null, "Not found"), h("p", null, `No page at ${path}`)));
}

document.addEventListener("visibilitychange", () => { if (!document.hidden) window.dispatchEvent(new Event("headrace:wake")); });
start();
