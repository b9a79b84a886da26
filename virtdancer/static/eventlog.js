// The event log panel: the last things that happened to the hosts and VMs the user sees,
// newest first, each in a sentence ("web-1 paused", "db-1 shut down by the guest", "web-1
// destroyed by tenant"). It hears the live channel's messages (live.js; POST /events, API.md)
// one by one, and while the page polls instead, main.js gives it the changes between two
// listings (ListingChanges). `eventWords` alone turns a message into its sentence, so the
// words can be tested apart from any channel. The server sends only what the user may see.

import { sentence } from "./format.js";

const KEPT = 100;   // entries on screen; older ones go, as in a terminal's scrollback

// libvirt's lifecycle events (`event`, with `detail` saying how, both in words) as what
// happened to the VM. A function of the detail, for the events whose details differ enough.
const LIFECYCLE = {
  defined: (detail) => ({ added: "defined", updated: "had its definition changed",
                          renamed: "renamed" })[detail] || `defined (${detail})`,
  undefined: (detail) => (detail === "renamed" ? "renamed" : "deleted"),
  started: (detail) => (detail === "booted" ? "started" : `started (${detail})`),
  suspended: (detail) => (detail.startsWith("paused") ? detail : `paused (${detail})`),
  resumed: (detail) => (detail === "unpaused" ? "resumed" : `resumed (${detail})`),
  stopped: (detail) => ({ "shut down": "shut down", destroyed: "powered off", crashed: "crashed",
                          "migrated away": "migrated away", saved: "saved and stopped",
                          failed: "stopped: it failed" })[detail] || `stopped (${detail})`,
  // "finished": the guest's shutdown is over; "by the guest" / "by the host": who asked.
  shutdown: (detail) => (detail === "finished" ? "finished shutting down"
    : `shut down ${detail}`),
  pmsuspended: (detail) => `suspended ${detail} by its guest`,
  crashed: (detail) => `crashed (${detail})`,
};

// An audit record's action (h5's `action`) as what it did to the VM.
const DONE = {
  start: "started", pause: "paused", resume: "resumed", shutdown: "asked to shut down",
  reboot: "asked to reboot", reset: "reset", destroy: "destroyed", create: "created",
  edit: "edited", delete: "deleted", clone: "cloned", console: "opened on the console",
  migrate: "migrated",
  // The snapshots' (a task's acceptance for the first two: the task event tells its end).
  "snapshot.create": "had a snapshot requested",
  "snapshot.revert": "had a revert to a snapshot requested",
  "snapshot.delete": "had a snapshot deleted",
  "task.cancel": "had a task cancelled",
};

function vmName(event) {
  return event.vm?.name || "a VM";
}

function hostWords(event) {
  if (event.state === "lost") {
    const why = event.reason ? `: ${event.reason}` : "";
    return `Lost the connection to host ${event.host}${why}`;
  }
  if (event.state === "back") return `Host ${event.host} is back`;
  return `Connected to host ${event.host}`;
}

function auditWords(event) {
  const audit = event.audit || event;
  const what = audit.action || "changed";
  const subject = event.vm ? vmName(event) : `host ${event.host}`;
  const by = audit.user ? ` by ${audit.user}` : "";
  if (audit.status && !["ok", "done", "succeeded", "success"].includes(audit.status)) {
    return `${subject}: ${what}${by} ${audit.status === "failed" ? "failed" : audit.status}`;
  }
  return `${subject} ${DONE[what] || what}${by}`;
}

// A task's `type` in words; `progress` is a fraction (0 to 1), `error` says why it ended badly.
const TASK_NAMES = { shutdown: "shutdown", snapshot: "snapshot", revert: "revert",
                     migrate: "migration" };

function taskWords(event) {
  const task = event.task || {};
  const what = TASK_NAMES[task.type] || task.type || "a task";
  const state = task.state || "changed";
  const progress = state === "running" && Number.isFinite(task.progress)
    ? ` (${Math.round(task.progress * 100)} %)` : "";
  const why = task.error && (state === "failed" || state === "cancelled")
    ? `: ${task.error}` : "";
  const of = event.vm ? ` of ${vmName(event)}` : "";
  return `Task ${what}${of}: ${state}${progress}${why}`;
}

// A change seen between two listings (ListingChanges, below): what, not how.
function listingWords(event) {
  const name = vmName(event);
  if (event.change === "appeared") return `${name} appeared on ${event.host} (${event.state_name})`;
  if (event.change === "gone") return `${name} is gone from ${event.host}`;
  return `${name} is now ${event.state_name} (was ${event.was})`;
}

/** A live channel's message (API.md, "Live events") as a sentence, without its full stop. */
export function eventWords(event) {
  const name = vmName(event);
  switch (event.type) {
    case "lifecycle": {
      const said = LIFECYCLE[event.event];
      const detail = String(event.detail ?? "");
      return `${name} ${said ? said(detail) : `${event.event || "changed"} (${detail})`}`;
    }
    case "reboot": return `${name} rebooted`;
    case "device-added": return `${name}: device ${event.device || ""} added`.replace("  ", " ");
    case "device-removed":
      return `${name}: device ${event.device || ""} removed`.replace("  ", " ");
    case "metadata": return `${name}'s ${event.metadata || "metadata"} changed`;
    case "job-completed": return `${name}: a job completed`;
    case "host": return hostWords(event);
    case "audit": return auditWords(event);
    case "task": return taskWords(event);
    case "reload": return "Some events were missed: the list was read again";
    case "listing": return listingWords(event);
    default: return `${event.vm ? `${name}: ` : ""}${event.type || "an event"}`;
  }
}

/** The time of an event (Unix seconds) as the time of day, with seconds: "14:02:07". */
function timeOfDay(unixSeconds) {
  const when = Number.isFinite(unixSeconds) ? new Date(unixSeconds * 1000) : new Date();
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// How the page hears of changes (live.js's onStatus), in words.
const STATUS_WORDS = {
  live: "Live: events appear as they happen.",
  polling: "Not live: the page asks for changes every few seconds, and shows those.",
  offline: "No new events while the page is cut off (see above).",
};

export class EventLog {
  /**
   * root: the [data-event-log] panel, with a [data-event-list] list and a [data-event-status];
   * source: the live channel (live.js's `liveEvents`), whose every event and status it shows.
   */
  constructor(root, source = null) {
    this.root = root;
    this.list = root.querySelector("[data-event-list]");
    this.statusLine = root.querySelector("[data-event-status]");
    this.empty = root.querySelector("[data-event-empty]");
    this.seen = new Set();   // seq of the events shown: a resumed channel may send one again
    if (source) {
      source.onEvent((event) => this.add(event));
      source.onStatus((state) => this.status(state));
      this.status(source.status);
    }
  }

  /** Show one message of the live channel at the top. */
  add(event) {
    if (Number.isFinite(event.seq)) {
      if (this.seen.has(`${event.seq}`)) return;
      this.seen.add(`${event.seq}`);
    }
    const item = document.createElement("li");
    item.dataset.type = event.type || "";
    if (event.vm?.uuid) item.dataset.uuid = event.vm.uuid;
    const time = document.createElement("time");
    if (Number.isFinite(event.time)) time.dateTime = new Date(event.time * 1000).toISOString();
    time.textContent = timeOfDay(event.time);
    const words = document.createElement("span");
    words.className = "event-words";
    words.textContent = sentence(eventWords(event));
    item.append(time, " ", words);
    if (event.host) item.title = `on host ${event.host}`;
    this.list.prepend(item);
    while (this.list.childElementCount > KEPT) {
      this.list.lastElementChild.remove();
    }
    this.empty.hidden = true;
    if (this.seen.size > KEPT * 4) this.seen = new Set([...this.seen].slice(-KEPT));
  }

  /** Say how events reach the page: "live", "polling" or "offline" (live.js's onStatus). */
  status(state) {
    this.root.dataset.status = state;
    this.statusLine.textContent = STATUS_WORDS[state] || "";
  }

  /** Forget every entry (at logout: the next user must not see the last one's events). */
  clear() {
    this.list.replaceChildren();
    this.seen.clear();
    this.empty.hidden = false;
  }
}

/**
 * Until the live channel is there (or while it is not: the page polls), the changes between
 * two listings of the fleet, as messages for the log: a VM in another state, one that came,
 * one that went. Less than the channel says (not how, nor who), but what the page saw.
 */
export class ListingChanges {
  constructor() {
    this.last = null;         // key -> {name, state_name, host} of the previous listing
    this.hostStates = null;   // host name -> whether it answered
  }

  /**
   * The messages for a listing (`hosts`: {name, state, reason}; `vms`: {uuid, name, host,
   * state_name, stale}) since the last one.
   */
  compare(hosts, vms) {
    return [...this.compareHosts(hosts), ...this.compareVMs(vms)];
  }

  compareHosts(hosts) {
    const before = this.hostStates;
    this.hostStates = new Map(hosts.map((host) => [host.name, host.state === "connected"]));
    if (!before) return [];
    const time = Date.now() / 1000;
    return hosts.filter((host) => before.has(host.name)
                         && before.get(host.name) !== this.hostStates.get(host.name))
      .map((host) => ({ type: "host", time, host: host.name, vm: null,
                        state: this.hostStates.get(host.name) ? "back" : "lost",
                        reason: host.reason }));
  }

  compareVMs(vms) {
    const before = this.last;
    // A VM of a host that does not answer (stale) keeps what was known of it: its coming
    // back is no change unless its state is another by then.
    const now = new Map(vms.map((vm) => {
      const key = `${vm.host}/${vm.uuid}`;
      return [key, vm.stale && before?.has(key) ? before.get(key) : vm];
    }));
    this.last = now;
    if (!before) return [];   // the first listing is where the page starts, not a change
    const time = Date.now() / 1000;
    const message = (vm, fields) => ({ type: "listing", time, host: vm.host,
                                       vm: { uuid: vm.uuid, name: vm.name }, ...fields });
    const events = [];
    for (const [key, vm] of now) {
      const was = before.get(key);
      if (!was) events.push(message(vm, { change: "appeared", state_name: vm.state_name }));
      else if (was.state_name !== vm.state_name) {
        events.push(message(vm, { change: "state", state_name: vm.state_name,
                                  was: was.state_name }));
      }
    }
    for (const [key, vm] of before) {
      if (!now.has(key)) events.push(message(vm, { change: "gone" }));
    }
    return events;
  }

  reset() {
    this.last = null;
    this.hostStates = null;
  }
}
