/* Same-origin calls to the services behind the gateway, with their JSON errors
   ({"error", "message", "fields"?}) turned into ApiError. */

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Request failed (${status})`);
    this.status = status;
    this.code = (body && body.error) || "http_error";
    this.fields = (body && Array.isArray(body.fields) && body.fields) || [];
  }
}

export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { error: "network", message: "We could not reach the server. Check your connection and try again." });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function wsUrl(path, params) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  for (const [key, value] of Object.entries(params || {})) {
    if (value) url.searchParams.set(key, value);
  }
  return url.toString();
}

/* Signed-in staff keep their token for this tab only (sessionStorage). */
export const staffSession = {
  load(key) {
    try {
      const saved = JSON.parse(sessionStorage.getItem(key) || "null");
      if (!saved || !saved.token) return null;
      const payload = JSON.parse(atob(saved.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      if (payload.exp && payload.exp * 1000 < Date.now()) return null;
      return saved;
    } catch {
      return null;
    }
  },
  save(key, value) { sessionStorage.setItem(key, JSON.stringify(value)); },
  clear(key) { sessionStorage.removeItem(key); },
};

/* Field-level messages from a 422 body (or a domain error we can pin to a field). */
/* Signs a member of staff in and keeps the session under `store`. A person of the other
   role is pointed to their own page (`wrongRole`); failures are written to `errorBox`.
   Returns the session, or null. */
export async function signInStaff({ email, password, role, wrongRole, store, errorBox }) {
  errorBox.textContent = "";
  try {
    const me = await api("/api/portal/auth/login", { method: "POST", body: { email, password } });
    if (me.role !== role) {
      errorBox.textContent = wrongRole;
      return null;
    }
    staffSession.save(store, me);
    return me;
  } catch (error) {
    errorBox.textContent = error.status === 422 ? "Enter a valid e-mail address and your password." : error.message;
    return null;
  }
}

export function fieldErrors(error, codeToField = {}) {
  const map = {};
  for (const item of error.fields || []) {
    const name = String(item.field || "").split(".")[0];
    if (name && !map[name]) map[name] = item.message;
  }
  const pinned = codeToField[error.code];
  if (pinned && !map[pinned]) map[pinned] = error.message;
  return map;
}
