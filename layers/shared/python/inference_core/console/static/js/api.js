// The console's only door to the gateway: its public HTTP API, on the same origin.
//
// Tokens: the access token (15 minutes) lives in this module's memory only, never in storage or a
// cookie, so no other script or request carries it. The refresh token is kept in sessionStorage
// (this tab only, gone when the tab closes) so a reload stays signed in; a 401 or an access token
// about to expire triggers one refresh (single-flight, the pair rotates), and a refresh refused
// means signed out. Sign out calls /v1/auth/logout, which revokes the refresh family server-side.

const REFRESH_KEY = "inference-core.console.refresh";
// The page is <base>/console/; the API is <base>/v1/... (works behind an API Gateway stage path).
const pageDir = new URL("./", window.location.href);
export const apiBase = new URL("../", pageDir);

let accessToken = null;
let accessExpiresAt = 0;
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), apiBase);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  return url.toString();
}

export function onSessionChange(listener) {
  listeners.add(listener);
}

function setSession(pair) {
  if (pair) {
    accessToken = pair.access_token;
    accessExpiresAt = Date.now() + (pair.expires_in || 900) * 1000;
    sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
  } else {
    accessToken = null;
    accessExpiresAt = 0;
    sessionStorage.removeItem(REFRESH_KEY);
  }
  for (const listener of listeners) listener(Boolean(pair));
}

export function signedIn() {
  return accessToken !== null;
}

async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`;
  let code;
  try {
    const body = await response.json();
    // OpenAI's {error: {message, code}} and Anthropic's {type: "error", error: {message}}.
    if (body && body.error) {
      message = body.error.message || message;
      code = body.error.code || body.error.type;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

async function post(path, body, headers = {}) {
  return fetch(apiUrl(path), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    credentials: "omit",
  });
}

export async function signIn(email, password) {
  const response = await post("v1/auth/login", { email, password });
  if (!response.ok) throw await errorFrom(response);
  setSession(await response.json());
}

// Exchange the stored refresh token for a new pair; false (and signed out) when refused.
export function refreshSession() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = sessionStorage.getItem(REFRESH_KEY);
      if (!token) {
        setSession(null);
        return false;
      }
      try {
        const response = await post("v1/auth/refresh", { refresh_token: token });
        if (!response.ok) {
          setSession(null);
          return false;
        }
        setSession(await response.json());
        return true;
      } catch {
        return false; // offline: keep the token, try again later
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function signOut() {
  const token = accessToken;
  try {
    if (token) {
      await fetch(apiUrl("v1/auth/logout"), {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        credentials: "omit",
      });
    }
  } finally {
    setSession(null);
  }
}

// fetch() with the access token; refreshes once on expiry or a 401. Returns the Response.
export async function call(method, path, { query, body, headers = {}, signal } = {}) {
  if (accessToken && Date.now() > accessExpiresAt - 30_000) await refreshSession();
  const send = () => {
    const init = { method, headers: { ...headers }, signal, credentials: "omit" };
    if (accessToken) init.headers.authorization = `Bearer ${accessToken}`;
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(apiUrl(path, query), init);
  };
  let response = await send();
  if (response.status === 401 && (await refreshSession())) response = await send();
  if (response.status === 401) setSession(null);
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function json(method, path, options) {
  const response = await call(method, path, options);
  return response.status === 204 ? null : response.json();
}

export const get = (path, query) => json("GET", path, { query });
