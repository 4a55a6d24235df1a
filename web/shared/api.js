// A small fetch wrapper for the Parley JSON API (/api/v1).
// Errors come back as {"error": {"code", "message", "details"}}; they are thrown as ApiError,
// whose .message is meant to be shown to the person using the page.

export const API_PREFIX = "/api/v1";

const auth = { csrf: null, invite: null };

/** Staff pages: the CSRF token from POST /auth/login or GET /me, sent on every write. */
export function setCsrfToken(token) { auth.csrf = token || null; }

/** Candidate pages: the invitation token from the link's #fragment, sent as a header. */
export function setInviteToken(token) { auth.invite = token || null; }

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;   // HTTP status, 0 when the server could not be reached
    this.code = code;       // stable machine code, e.g. "already_answered"
    this.details = details || {};
  }
  /** True for failures worth retrying: no connection, a timeout, or a server-side hiccup. */
  get transient() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function isBinary(body) {
  return body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
}

/**
 * Call the API. `body` is sent as JSON unless it is a Blob/ArrayBuffer (sent raw, with the
 * Content-Type given in `headers`). Resolves to the parsed JSON (or null for 204).
 */
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin", signal };
  if (body !== undefined) {
    if (isBinary(body)) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  if (auth.invite) init.headers["X-Invite-Token"] = auth.invite;
  if (auth.csrf && WRITE_METHODS.has(method)) init.headers["X-CSRF-Token"] = auth.csrf;

  let response;
  try {
    response = await fetch(API_PREFIX + path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error",
      "The server could not be reached. Check your internet connection and try again.");
  }
  if (response.status === 204) return null;
  let payload = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try { payload = await response.json(); } catch { payload = null; }
  }
  if (!response.ok) {
    const e = payload && payload.error;
    throw new ApiError(
      response.status,
      (e && e.code) || `http_${response.status}`,
      (e && e.message) || `Something went wrong (HTTP ${response.status}). Please try again.`,
      (e && e.details) || {},
    );
  }
  return payload;
}

/**
 * GET a binary resource (e.g. the avatar's audio). Resolves to {status, blob, retryAfter}:
 * 200 with the blob, or 202 when the server is still making it (ask again after retryAfter s).
 */
export async function getBinary(path) {
  const headers = {};
  if (auth.invite) headers["X-Invite-Token"] = auth.invite;
  let response;
  try {
    response = await fetch(API_PREFIX + path, { headers, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached.");
  }
  if (response.status === 202) {
    return { status: 202, blob: null, retryAfter: Number(response.headers.get("Retry-After")) || 1 };
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, "Not available.");
  return { status: response.status, blob: await response.blob(), retryAfter: 0 };
}

export const get = (path, opts) => api(path, { ...opts, method: "GET" });
export const post = (path, body, opts) => api(path, { ...opts, method: "POST", body });
export const put = (path, body, opts) => api(path, { ...opts, method: "PUT", body });

/** Hex SHA-256 of a Blob or ArrayBuffer (Web Crypto; needs a secure context). */
export async function sha256Hex(data) {
  const buffer = data instanceof Blob ? await data.arrayBuffer() : data;
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
