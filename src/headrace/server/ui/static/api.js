// The UI's only door to the server: same-origin JSON requests. An API key, when the server
// requires one, is kept in localStorage and sent as a Bearer token.

const KEY = "headrace.apiKey";

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

function headers(extra) {
  const out = { Accept: "application/json", ...extra };
  const key = localStorage.getItem(KEY);
  if (key) out.Authorization = `Bearer ${key}`;
  return out;
}

async function answer(response) {
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    let detail = body && (body.message || body.detail);
    if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
    throw new ApiError(response.status, detail || response.statusText);
  }
  return body;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, String(item));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

export async function get(path, params) {
  return answer(await fetch(`/api${path}${query(params)}`, { headers: headers() }));
}

export async function post(path, body) {
  return answer(
    await fetch(`/api${path}`, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body ?? {}),
    }),
  );
}

export async function patch(path, body) {
  return answer(
    await fetch(`/api${path}`, {
      method: "PATCH",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body ?? {}),
    }),
  );
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}
