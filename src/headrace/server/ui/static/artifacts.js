// Artifacts a task made: markdown, links and tables, rendered only through DOM text nodes
// (nothing in an artifact is ever parsed as HTML), links only to http(s) or relative URLs.
import { h, table } from "./dom.js";

const SAFE_URL = /^(https?:\/\/|\/(?!\/)|\.{0,2}\/|#)/i;

function safeLink(url, text) {
  return SAFE_URL.test(url) ? h("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text) : h("span", { class: "unsafe-link" }, `${text} (${url})`);
}

// **bold**, *em*, `code`, [text](url) inside one line, as elements holding text.
function inline(text) {
  const out = [];
  const pattern = /(\*\*([^*]+)\*\*)|(\*([^*]+)\*)|(`([^`]+)`)|(\[([^\]]+)\]\(([^)\s]+)\))/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[2] !== undefined) out.push(h("strong", null, m[2]));
    else if (m[4] !== undefined) out.push(h("em", null, m[4]));
    else if (m[6] !== undefined) out.push(h("code", null, m[6]));
    else out.push(safeLink(m[9], m[8]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function renderMarkdown(source) {
  const blocks = [];
  let list = null;
  let code = null;
  for (const line of String(source).split("\n")) {
    if (line.startsWith("```")) {
      if (code === null) { code = []; } else { blocks.push(h("pre", null, code.join("\n"))); code = null; }
      continue;
    }
    if (code !== null) { code.push(line); continue; }
    const item = line.match(/^\s*[-*]\s+(.*)$/);
    if (item) { if (!list) { list = h("ul"); blocks.push(list); } list.append(h("li", null, inline(item[1]))); continue; }
    list = null;
    const head = line.match(/^(#{1,3})\s+(.*)$/);
    if (head) blocks.push(h(`h${head[1].length + 2}`, null, inline(head[2])));
    else if (line.trim()) blocks.push(h("p", null, inline(line)));
  }
  if (code !== null) blocks.push(h("pre", null, code.join("\n")));
  return h("div", { class: "markdown" }, blocks);
}

export function renderArtifact(a) {
  const d = a.data || {};
  let body;
  if (a.kind === "markdown") body = renderMarkdown(d.markdown || "");
  else if (a.kind === "link") body = h("p", null, safeLink(String(d.link || ""), String(d.text || d.link || "")));
  else if (a.kind === "table") body = table((d.columns || []).map(String), (d.rows || []).map((r) => r.map((c) => (c === null ? "" : String(c)))), "Empty table.");
  else body = h("pre", null, JSON.stringify(d));
  return h("div", { class: "artifact", "data-kind": a.kind }, body);
}

export function artifactList(artifacts, { label } = {}) {
  if (!artifacts.length) return h("p", { class: "muted empty" }, "No artifacts.");
  return artifacts.map((a) => h("div", { class: "artifact-entry" },
    label ? h("p", { class: "muted" }, label(a)) : null, renderArtifact(a)));
}
