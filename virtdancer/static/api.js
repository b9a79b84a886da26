// Every request the page makes goes through `request`, so that these rules hold everywhere:
//
// - URLs are relative ("vm?detail=1", never "/vm"): they resolve against the page's own URL,
//   so the page works wherever VirtDancer is mounted (/, /virt/, ...).
// - `X-Requested-With: XMLHttpRequest` on every request: VirtDancer then answers 401 without a
//   Basic challenge, which would make the browser pop up its own password dialog over our form.
// - `X-CSRF-Token` on every write: the session cookie alone does not authorize a write.
// - An error answer becomes an ApiError carrying the API's own `message`, to be shown in words.
// - A 401 outside the login form means the session has ended: listeners are told, once, so
//   that the page can go back to its login form.

export class ApiError extends Error {
  constructor(status, message, { retryAfter = null, body = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;          // 0 when the server could not be reached at all
    this.retryAfter = retryAfter;  // seconds, from Retry-After (429, 503), else null
    this.body = body;
  }
}

let csrfToken = null;
const sessionEndedListeners = new Set();

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export function onSessionEnded(listener) {
  sessionEndedListeners.add(listener);
}

// Whether the last request reached VirtDancer: the page says "cannot be reached" once, in one
// place (live.js), rather than each panel saying it on its own.
const reachableListeners = new Set();

export function onReachable(listener) {
  reachableListeners.add(listener);
}

function reached(yes) {
  for (const listener of reachableListeners) listener(yes);
}

/** Tell the listeners that the session has ended (a 401 to a request made elsewhere). */
export function sessionEnded(error) {
  for (const listener of sessionEndedListeners) listener(error);
}

/** The headers every write carries, for a request made without `request` (an upload). */
export function writeHeaders() {
  const headers = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  return headers;
}

/** The API's `message` of an error answer's text (JSON, or a proxy's page: then the status). */
export function messageOfText(status, statusText, text) {
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return messageOf({ status, statusText }, body);
}

function retryAfterSeconds(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(header);   // Retry-After may also be an HTTP date
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

async function jsonOf(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;   // a proxy's HTML error page, say: the status will speak instead
  }
}

// The API's message in words: `message`, or for validation errors (400) their descriptions.
function messageOf(response, body) {
  if (body && typeof body.message === "string" && body.message) return body.message;
  if (body && Array.isArray(body.errors) && body.errors.length) {
    return body.errors.map((error) => error.description).filter(Boolean).join("; ");
  }
  return `the server answered ${response.status} ${response.statusText}`.trim();
}

/**
 * Send one request; resolve to {status, data, etag} for 2xx and 304, throw ApiError otherwise.
 *
 * options.body: a value sent as JSON. options.etag: sent as If-None-Match; a 304 answer then
 * resolves with data null, meaning "what you have is still current". options.login: this is
 * the login form's own request, whose 401 means a wrong password, not an ended session.
 * options.xml: true asks for an XML answer, resolved as text (a VM's definition); a string is
 * sent as application/xml. options.ifMatch: sent as If-Match (a 412 then means changed).
 */
export async function request(method, path, options = {}) {
  const accept = options.xml === true ? "application/xml" : "application/json";
  const headers = { Accept: accept, "X-Requested-With": "XMLHttpRequest" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (typeof options.xml === "string") headers["Content-Type"] = "application/xml";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (options.etag) headers["If-None-Match"] = options.etag;
  if (options.ifMatch) headers["If-Match"] = options.ifMatch;
  let body = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (typeof options.xml === "string") body = options.xml;

  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: "same-origin",
      // The page does its own revalidation with If-None-Match, and a 304 reaches it as a 304
      // (no console error in Chromium, which logs only 4xx and 5xx answers). Letting the HTTP
      // cache in as well would only keep stale copies of the fleet around.
      cache: "no-store",
      signal: options.signal,
    });
  } catch (problem) {
    if (problem.name === "AbortError") throw problem;
    reached(false);
    throw new ApiError(0, "VirtDancer cannot be reached: check the network connection");
  }

  // A 502/504 that is not VirtDancer's JSON comes from a reverse proxy whose VirtDancer does
  // not answer (VirtDancer's own 502, a libvirt failure, is JSON).
  const json = (response.headers.get("Content-Type") || "").includes("json");
  reached(json || (response.status !== 502 && response.status !== 504));
  if (response.status === 304) return { status: 304, data: null, etag: options.etag };
  const isXml = (response.headers.get("Content-Type") || "").includes("xml");
  const data = isXml && response.ok ? await response.text() : await jsonOf(response);
  if (response.ok) {
    return { status: response.status, data, etag: response.headers.get("ETag") };
  }
  const error = new ApiError(response.status, messageOf(response, data), {
    retryAfter: retryAfterSeconds(response.headers.get("Retry-After")),
    body: data,
  });
  if (response.status === 401 && !options.login) sessionEnded(error);
  throw error;
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, body, options = {}) => request("POST", path, { ...options, body });
export const patch = (path, body, options = {}) => request("PATCH", path, { ...options, body });
export const del = (path, options) => request("DELETE", path, options);
export const put = (path, body, options = {}) => request("PUT", path, { ...options, body });
