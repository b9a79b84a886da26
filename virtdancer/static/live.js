// How the page hears of changes: VirtDancer's event channel when it has one (`POST events`
// gives a WebSocket URL with a short-lived ticket), else the page's own ETag polling. The
// status it reports is one of
//
//   "live"     the channel is open: every change arrives as an event, at once;
//   "polling"  no channel (not configured, refused, or dropped and not back yet): the page asks
//              every few seconds, as it always did;
//   "offline"  VirtDancer cannot be reached at all (no answer to any request).
//
// A dropped channel is opened again with a growing pause, resuming after the last event seen
// (`&since=<seq>`); when the server no longer holds those, it sends {"type": "reload"}, which
// is passed on like any event so that the page asks for the whole fleet again.
//
// The page has one: `liveEvents` below. A panel that wants the events (the event log) does
// `liveEvents.onEvent(handler)` and `liveEvents.onStatus(handler)`; main.js starts it at login.

import { onReachable, post } from "./api.js";

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 30000;
// A channel the server does not offer (404, 405, 501) is asked for again this rarely: a
// restart of the server with new settings is the only thing that changes the answer.
const NOT_OFFERED_RETRY_MS = 300000;
// A channel that stayed open this long had worked: the next drop starts the pauses over.
const STEADY_MS = 10000;

/** The ws(s):// URL to open: the server's answer, made absolute against the page. */
export function socketUrl(url, since) {
  const absolute = new URL(url, window.location.href);
  if (absolute.protocol === "http:") absolute.protocol = "ws:";
  if (absolute.protocol === "https:") absolute.protocol = "wss:";
  if (since !== null && since !== undefined) absolute.searchParams.set("since", String(since));
  return absolute.href;
}

export class LiveEvents {
  constructor({ open = (url) => new WebSocket(url) } = {}) {
    this.open = open;              // a test may hand in a fake WebSocket maker
    this.eventHandlers = new Set();
    this.statusHandlers = new Set();
    this.active = false;
    this.socket = null;
    this.connected = false;        // the socket is open and has not closed since
    this.reachable = true;         // the last request reached VirtDancer
    this.lastSeq = null;
    this.retryMs = FIRST_RETRY_MS;
    this.timer = null;
    this.openedAt = 0;
    this.why = "";                 // why there is no channel, in words, for the page to show
    this.status = "polling";
    this.toldWhy = "";
    this.offered = false;
    onReachable((reached) => this.setReachable(reached));
  }

  /** handler(event): every event, in order, including {"type": "reload"}. */
  onEvent(handler) {
    this.eventHandlers.add(handler);
    return () => this.eventHandlers.delete(handler);
  }

  /** handler(status, why): "live" | "polling" | "offline", at each change. */
  onStatus(handler) {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  /**
   * Begin (after logging in): ask for a channel now. offered: the session's `events`, false
   * when the server has no channel to give (asking would only earn a 404 or a 501).
   */
  start(offered = true) {
    if (this.active) return;
    this.active = true;
    this.offered = offered;
    this.lastSeq = null;
    this.retryMs = FIRST_RETRY_MS;
    if (offered) {
      this.connect();
    } else {
      this.why = "this server offers no event channel";
      this.update();
    }
  }

  /** End (logging out): close the channel, forget the position. */
  stop() {
    this.active = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.closeSocket();
    this.lastSeq = null;
    this.why = "";
    this.update();
  }

  /** Told by api.js after every request: did it reach VirtDancer? */
  setReachable(reached) {
    if (reached === this.reachable) return;
    this.reachable = reached;
    this.update();
    // Back after a cut: do not wait out the pause, the channel may well open now.
    if (reached && this.active && this.offered && !this.socket) {
      this.retryMs = FIRST_RETRY_MS;
      this.later(0);
    }
  }

  closeSocket() {
    const socket = this.socket;
    this.socket = null;
    this.connected = false;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close();
    }
  }

  later(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, ms);
  }

  retry() {
    this.later(this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, LONGEST_RETRY_MS);
  }

  async connect() {
    if (!this.active || this.socket) return;
    let url;
    try {
      ({ data: { url } } = await post("events"));
    } catch (problem) {
      if (!this.active || problem.status === 401) return;
      const notOffered = [404, 405, 501].includes(problem.status);
      this.why = notOffered ? "this server offers no event channel" : problem.message;
      this.update();
      if (notOffered) this.later(NOT_OFFERED_RETRY_MS);
      else this.retry();
      return;
    }
    if (!this.active || this.socket) return;
    let socket;
    try {
      socket = this.open(socketUrl(url, this.lastSeq));
    } catch (problem) {
      this.why = `the channel could not be opened: ${problem.message}`;
      this.update();
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.connected = true;
      this.openedAt = Date.now();
      this.why = "";
      this.update();
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      const steady = this.connected && Date.now() - this.openedAt >= STEADY_MS;
      this.socket = null;
      this.connected = false;
      if (steady) this.retryMs = FIRST_RETRY_MS;
      this.why = "the event channel closed";
      this.update();
      if (this.active) this.retry();
    };
  }

  receive(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      console.warn("event channel: not JSON, ignored:", text);
      return;
    }
    if (!event || typeof event !== "object") return;
    if (Number.isInteger(event.seq)) this.lastSeq = event.seq;
    // Reloading is starting over: whatever was missed is in the fleet the page asks for.
    for (const handler of this.eventHandlers) {
      try {
        handler(event);
      } catch (problem) {
        console.warn("event handler failed:", problem);
      }
    }
  }

  update() {
    let status = "polling";
    if (this.active && !this.reachable) status = "offline";
    else if (this.connected) status = "live";
    if (status === this.status && this.why === this.toldWhy) return;
    this.status = status;
    this.toldWhy = this.why;
    for (const handler of this.statusHandlers) handler(status, this.why);
  }
}

/** The page's one channel: main.js starts and stops it; any panel may listen to it. */
export const liveEvents = new LiveEvents();
