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

/* A WebSocket URL for `path`: never with a credential in it (URLs end up in logs and history). */
export function wsUrl(path, params) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  for (const [key, value] of Object.entries(params || {})) {
    if (value) url.searchParams.set(key, value);
  }
  return url.toString();
}

/* Browsers cannot put an Authorization header on a WebSocket: the token travels as the
   second offered subprotocol, and the server answers with the first. */
export function socketProtocols(token) {
  return ["assistline", `bearer.${token}`];
}

function tokenClaims(token) {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return {};
  }
}

/* Signed-in staff keep their tokens for this tab only (sessionStorage). The access token
   lives minutes; the refresh token keeps the person signed in for the working day. */
export const staffSession = {
  load(key) {
    try {
      const saved = JSON.parse(sessionStorage.getItem(key) || "null");
      if (!saved || !saved.token) return null;
      const usable = (token) => {
        const { exp } = tokenClaims(token);
        return token && (!exp || exp * 1000 > Date.now());
      };
      // An expired access token is fine while the refresh token can still buy a new one.
      if (!usable(saved.token) && !(saved.refresh_token && usable(saved.refresh_token))) return null;
      return saved;
    } catch {
      return null;
    }
  },
  save(key, value) { sessionStorage.setItem(key, JSON.stringify(value)); },
  clear(key) { sessionStorage.removeItem(key); },
};

const REFRESH_AT = 0.8; // of the access token's lifetime
const RETRY_REFRESH_MS = 10000;

/* A signed-in member of staff: their current tokens, refreshed silently before the access
   token runs out (and once more when a call meets `token_expired`). `onSignedOut(message)`
   runs when the refresh token is refused: the person was removed, disabled, or is out of time. */
export class StaffAuth {
  constructor(store, { onSignedOut, onRefreshed } = {}) {
    this.store = store;
    this.onSignedOut = onSignedOut || (() => {});
    this.onRefreshed = onRefreshed || (() => {});
    this.me = null;
    this.timer = null;
    this.pending = null;
  }

  get token() { return this.me ? this.me.token : null; }

  begin(me) {
    this.me = me;
    staffSession.save(this.store, me);
    this.schedule();
  }

  end() {
    clearTimeout(this.timer);
    this.timer = null;
    this.me = null;
    staffSession.clear(this.store);
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.me || !this.me.refresh_token) return;
    const { iat, exp } = tokenClaims(this.me.token);
    let due = 0;
    if (exp) {
      const issued = iat || exp - (this.me.expires_in || 0);
      due = (issued + (exp - issued) * REFRESH_AT) * 1000 - Date.now();
    }
    this.timer = setTimeout(() => { this.refresh(); }, Math.max(0, due));
  }

  /* One refresh at a time; resolves true once a new pair is in place. */
  refresh() {
    if (!this.me || !this.me.refresh_token) return Promise.resolve(false);
    if (this.pending) return this.pending;
    const current = this.me;
    this.pending = api("/api/portal/auth/refresh", { method: "POST", body: { refresh_token: current.refresh_token } })
      .then((fresh) => {
        if (this.me !== current) return false; // signed out meanwhile
        this.begin({ ...current, ...fresh });
        this.onRefreshed(this.me);
        return true;
      })
      .catch((error) => {
        if (this.me !== current) return false;
        if (error.status === 401 || error.status === 403) {
          this.end();
          this.onSignedOut("Your session ended; please sign in again.");
        } else {
          // The server is unreachable or restarting: keep the session and try again shortly.
          clearTimeout(this.timer);
          this.timer = setTimeout(() => { this.refresh(); }, RETRY_REFRESH_MS);
        }
        return false;
      })
      .finally(() => { this.pending = null; });
    return this.pending;
  }

  /* `api()` with the current token; an expired token is refreshed once and the call retried. */
  async call(path, options = {}) {
    try {
      return await api(path, { ...options, token: this.token });
    } catch (error) {
      if (error.status === 401 && error.code === "token_expired" && (await this.refresh())) {
        return api(path, { ...options, token: this.token });
      }
      throw error;
    }
  }

  /* A plain fetch with the current token (downloads), with the same single retry. */
  async fetch(path, init = {}) {
    const send = () => fetch(path, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${this.token}` } });
    let response = await send();
    if (response.status === 401 && (await this.refresh())) response = await send();
    return response;
  }
}

/* Field-level messages from a 422 body (or a domain error we can pin to a field). */
/* Signs a member of staff in and keeps the session under `store`. A person of another
   role (`role`: one, or a list) is pointed to their own page (`wrongRole`); failures are written to `errorBox`.
   Returns the session, or null. */
export async function signInStaff({ email, password, role, wrongRole, store, errorBox }) {
  errorBox.textContent = "";
  try {
    const me = await api("/api/portal/auth/login", { method: "POST", body: { email, password } });
    if (![].concat(role).includes(me.role)) {
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
