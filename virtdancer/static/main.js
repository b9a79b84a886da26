// Wires the page together: the session (login, logout, a session that ends under us), the
// fleet poll (every host at once), the host filter, the selected VM with its facts, actions
// and charts, and the host panel. Each piece lives in its own module; this one only decides
// who tells whom what. A VM is known by its host and its UUID, and everything done to it goes
// to its own host's URLs (`hosts/<name>/vm/<uuid>/...`).

import { ActionBar } from "./actions.js";
import { get, onSessionEnded, post, setCsrfToken } from "./api.js";
import { BulkBar } from "./bulk.js";
import { dismissConfirm, setUpConfirm } from "./confirm.js";
import { CpuColumn } from "./cpufigures.js";
import { CutOff } from "./cutoff.js";
import { CreateVMDialog } from "./createvm.js";
import { deletedWords } from "./deletevm.js";
import { DetailPanel } from "./detail.js";
import { EventLog, ListingChanges } from "./eventlog.js";
import { FleetList } from "./fleet.js";
import { inWords, sentence } from "./format.js";
import { HostPanel } from "./host.js";
import { HostFilter } from "./hostfilter.js";
import { answers, notAnswering, onHost, vmKey } from "./hosts.js";
import { KnownFleet } from "./known.js";
import { liveEvents as live } from "./live.js";
import { LoginForm } from "./login.js";
import { VMManager } from "./manage.js";
import { NetworksView } from "./networks.js";
import { Poller } from "./poll.js";
import { StorageView } from "./storage.js";
import { TokensView } from "./tokens.js";
import { ViewSwitch } from "./views.js";
import { keyOfHash, vmHash } from "./vmurl.js";
import { VMCharts } from "./vmstats.js";

// Without an event channel the fleet — every host's VMs and states, one request — is polled
// every two seconds: with If-None-Match, an unchanged fleet costs a 304 with no body, so
// polling this often is cheap, and a change made elsewhere, or a host going away, shows up
// quickly. With the channel open, changes come as events, and a rare poll is only a safety
// net against an event lost on the way.
const FLEET_POLL_MS = 2000;
const FLEET_POLL_LIVE_MS = 60000;
const CPU_POLL_MS = 10000;   // the table's CPU % column (cpufigures.js)
const SELECTED_KEY = "virtdancer.selected";
// Must match the width at which style.css stacks the list above the detail.
const NARROW = window.matchMedia("(max-width: 59.99rem)");
const CALM = window.matchMedia("(prefers-reduced-motion: reduce)");

const $ = (selector) => document.querySelector(selector);

let session = null;      // {user, role, csrf_token} while logged in
let generation = 0;      // bumped at every login and logout: late answers of an old one are dropped
let selected = null;     // key (host/UUID) of the selected VM
let hostShown = "";      // the host panel's host: the selected VM's, the filter's, or a choice
let fleetEtag = null;    // the ETag of the listing on screen, sent back as If-None-Match
let fleetAsked = 0;      // number of the latest listing request
let fleetFresh = 0;      // listings asked before this number are older than an action's answer
let justCreated = null;  // {key, text}: the VM made by the Create dialog, to be told once listed
let awaited = null;      // {key, state, text}: an action's announced state, told when it comes
let offline = false;     // VirtDancer cannot be reached: what is shown is what it said last
let focusListOnce = false;  // just logged in with the form: focus the list once it is shown
let lastUpdated = 0;     // when the fleet on screen was last known current (ms since the epoch)

const banner = $("[data-banner]");
const workspace = $("[data-workspace]");
const known = new KnownFleet();
const fleet = new FleetList($(".fleet"), select, (keys) => bulk.show(keys));
const cpuColumn = new CpuColumn((figures) => fleet.setCpu(figures), CPU_POLL_MS);
const bulk = new BulkBar($("[data-bulk]"), fleet, {
  tell: (text) => tell(text),
  done: () => refreshFleet(),
});
const hostFilter = new HostFilter($("[data-host-filter]"), filterHosts);
const detail = new DetailPanel($("[data-detail]"));
const actions = new ActionBar($("[data-actions]"), $("[data-actions-note]"), runAction);
const vmCharts = new VMCharts($("[data-vm-charts]"),
                              (key, seconds) => detail.setCpuSeconds(key, seconds));
const host = new HostPanel($("[data-host]"), chartHost);
const login = new LoginForm($("[data-login]"), (data) => beginSession(data, { fromForm: true }));
const fleetPoller = new Poller(pollFleet, FLEET_POLL_MS);
const tokens = new TokensView($("[data-tokens]"));
const tokensToggle = $("[data-tokens-toggle]");
const manager = new VMManager($("[data-detail]"), {
  changed: () => refreshFleet(),
  deleted: vmDeleted,
  cloned: (copy, hostName, original) => vmCreated(copy, hostName,
                                                  `${copy.name} cloned from ${original.name}.`),
  told: (text, options) => detail.say(text, options),
});
const creator = new CreateVMDialog(vmCreated);
const createButton = $("[data-create-vm]");
const fleetMessage = $("[data-fleet-message]");
const liveStatus = $("[data-live-status]");
const cut = new CutOff();
// The event log hears the live channel itself; while the page polls instead, it is told what
// changed between two listings of the fleet.
const eventLog = new EventLog($("[data-event-log]"), live);
const listingChanges = new ListingChanges();

const isAdmin = () => session?.role === "admin";

const views = new ViewSwitch($("[data-views]"), workspace, {
  storage: new StorageView($("[data-storage]")),
  networks: new NetworksView($("[data-networks]")),
});

function say(text) {
  banner.textContent = text;
  banner.hidden = !text;
}

async function pollFleet() {
  const mine = generation;
  const number = ++fleetAsked;
  try {
    const answer = await get("fleet?detail=1", { etag: fleetEtag });
    if (mine !== generation || number < fleetFresh) return undefined;
    lastUpdated = Date.now();
    if (answer.status !== 304) {   // 304: the fleet on screen is still the fleet
      fleetEtag = answer.etag;
      const { hosts, vms } = known.take(answer.data);
      const changes = listingChanges.compare(hosts, vms);
      if (live.status !== "live") changes.forEach((change) => eventLog.add(change));
      fleet.update(hosts, offline ? vms : cut.marked(vms));
      fleet.showHost(hostFilter.update(hosts));
      views.setHosts(hosts);
      showSelected();
      if (focusListOnce) focusList();
    }
    if (!offline) say("");
    return undefined;
  } catch (problem) {
    if (mine !== generation || problem.status === 401) return undefined;
    if (problem.status === 0) return undefined;   // said once, by showLiveStatus
    const wait = problem.retryAfter ? ` Trying again in ${inWords(problem.retryAfter)}.` : "";
    say(`The list of VMs could not be updated: ${sentence(problem.message)}${wait}`);
    return problem.retryAfter ? problem.retryAfter * 1000 : undefined;
  }
}

// -- live or not: the event channel, the polling fallback, and being cut off -------------

const STATUS_WORDS = {
  live: "Live",
  polling: `Updated every ${FLEET_POLL_MS / 1000} s`,
  offline: "Offline",
};

function showLiveStatus(status, why) {
  liveStatus.dataset.status = status;
  liveStatus.textContent = STATUS_WORDS[status];
  liveStatus.title = status === "polling" && why ? `No live updates: ${why}.` : "";
  const wasOffline = offline;
  offline = status === "offline";
  document.body.classList.toggle("is-offline", offline);
  fleetPoller.intervalMs = status === "live" ? FLEET_POLL_LIVE_MS : FLEET_POLL_MS;
  // Live, the CPU % column is the only thing still asked for: less often.
  cpuColumn.intervalMs = status === "live" ? 3 * CPU_POLL_MS : CPU_POLL_MS;
  if (offline && !wasOffline) {
    cut.begin(fleet.vms);
    showLastUpdated();
    showSelected();
    return;
  }
  if (wasOffline && !offline) {
    say("");
    // An error line of the cut (an action that could not reach VirtDancer) is history now.
    if (detail.message.classList.contains("error")) detail.say("");
    showSelected();
  }
  // Whatever happened while not live is in the fleet as it is now.
  if (session) refreshFleet();
}

// One message while cut off, in one place, with the age of what is shown.
function showLastUpdated() {
  if (!offline) return;
  const age = lastUpdated ? Math.round((Date.now() - lastUpdated) / 1000) : null;
  const when = age === null ? "" : ` What you see was last updated ${inWords(age)} ago;`;
  say(`VirtDancer cannot be reached.${when} actions wait until it answers again.`);
}

// An event from the channel: a VM's new state goes straight to its row; anything the page
// cannot apply by itself (a VM made or gone, a host's change, a reload) asks for the fleet.
function applyEvent(event) {
  if (!session) return;
  const key = event.vm ? vmKey({ host: event.host, uuid: event.vm.uuid }) : null;
  // `vm_detail` is the VM as `GET fleet?detail=1` lists it (`summary` is the short listing's).
  const vm = event.vm_detail;
  if (vm && key && fleet.get(key)) {
    lastUpdated = Date.now();
    fleet.replace({ ...vm, host: event.host });
    showSelected();
  } else if (["reload", "host", "lifecycle"].includes(event.type)) {
    refreshFleet();
  }
}

// The keyboard's place after logging in: the selected VM in the list, else its first VM, else
// the name filter (an empty list).
function focusList() {
  focusListOnce = false;
  const list = $("[data-fleet]");
  const target = list.querySelector("[data-uuid][aria-current='true']")
    || list.querySelector("[data-uuid]") || $("[data-filter]");
  target?.focus({ preventScroll: true });
}

/** Select a VM (its key); fromUrl: the URL already names it (a link, the Back button). */
function select(key, { fromUrl = false } = {}) {
  selected = key;
  if (cut.seen(key)) {   // seen now: no longer news
    fleet.update(fleet.hosts, fleet.vms.map((vm) => {
      if (vmKey(vm) !== key) return vm;
      const { changedFrom, ...seen } = vm;
      return seen;
    }));
  }
  sessionStorage.setItem(SELECTED_KEY, key);
  const vm = fleet.get(key);
  if (vm) hostShown = vm.host;
  // Its own URL, a new entry in the history: Back goes to the VM selected before.
  if (vm && !fromUrl && location.hash !== vmHash(vm)) location.hash = vmHash(vm);
  fleet.select(key);
  showSelected();
  // Stacked on a narrow screen, the detail is below the list: bring it into view.
  if (NARROW.matches) {
    detail.root.scrollIntoView({ block: "start", behavior: CALM.matches ? "auto" : "smooth" });
  }
}

// The host filter changed: the list shows that host (or all), and the host panel charts it.
function filterHosts(name) {
  fleet.showHost(name);
  if (name) chartHost(name);
}

function chartHost(name) {
  hostShown = name;
  host.follow(fleet.hosts, hostShown);
}

// The host panel's host: the one chosen last, as long as the user still sees it; else the
// filter's, else the default host, else the first.
function panelHost() {
  const names = fleet.hosts.map((one) => one.name);
  if (names.includes(hostShown)) return hostShown;
  return hostFilter.value || fleet.hosts.find((one) => one.default)?.name || names[0] || "";
}

// Show the selected VM as the latest listing has it, or nothing once it has gone.
function showSelected() {
  const vm = selected ? fleet.get(selected) : null;
  if (selected && !vm && fleet.loaded) {
    if (keyOfHash(location.hash) === selected) {
      // A link to a VM this user does not see (or that is gone): said, not silently ignored.
      tell("The VM of this link is not in your list: it does not exist, or you do not see it.");
      history.replaceState(null, "", "#vms");
    }
    selected = null;
    sessionStorage.removeItem(SELECTED_KEY);
  }
  document.title = vm ? `${vm.name} on ${vm.host} – VirtDancer` : "VirtDancer";
  let itsHost = vm ? fleet.host(vm.host) : null;
  fleet.select(vm ? vmKey(vm) : null);
  if (vm && offline) itsHost = { name: vm.host, state: "out of reach",
                                 reason: "VirtDancer does not answer" };
  const shown = vm && offline ? { ...vm, stale: true, seenAt: lastUpdated } : vm;
  detail.show(shown, itsHost);
  actions.show(shown, itsHost);
  if (vm && awaited?.key === vmKey(vm) && vm.state_name === awaited.state) {
    detail.say(awaited.text);
    awaited = null;
  }
  manager.show(shown, isAdmin());
  if (vm && justCreated?.key === vmKey(vm)) {
    detail.say(justCreated.text);
    justCreated = null;
  }
  // Charts only for a VM the listing has (asking for another would be a 404), and only
  // while its host answers (else each request would be a 503).
  const away = vm && !offline && !answers(itsHost)
    ? notAnswering(itsHost) || `${vm.host} is away` : "";
  vmCharts.follow(vm, away);
  if (fleet.loaded) {
    hostShown = panelHost();
    host.follow(fleet.hosts, hostShown);
  }
}

// The state an action announces, to replace its "asked to" line when the VM gets there.
const AWAITED_STATE = { start: "running", pause: "paused", resume: "running",
                        shutdown: "shut off", destroy: "shut off" };

async function runAction(vm, action) {
  const told = (text, options) => { if (selected === vmKey(vm)) detail.say(text, options); };
  told(`${action.label}: asking for ${vm.name}…`);
  try {
    const { data } = await post(onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/action`),
                                { action: action.name });
    // A listing asked for before this answer may still be on its way: it is older, drop it.
    fleetFresh = fleetAsked + 1;
    if (data.vm) fleet.replace({ ...data.vm, host: vm.host });
    const state = AWAITED_STATE[action.name];
    const now = fleet.get(vmKey(vm));
    // "asked to shut down" stays only until the VM is shut off: then it says so.
    const arrived = `${vm.name} is now ${state}.`;
    awaited = state && now?.state_name !== state ? { key: vmKey(vm), state, text: arrived } : null;
    // Already there (a guest quick to shut down): no "asked to" that is no longer news.
    const asked = action.done.startsWith("asked") && state && !awaited;
    told(asked ? arrived : `${vm.name} ${action.done}.`);
    showSelected();
  } catch (problem) {
    if (problem.status === 0) {
      // Why is said once, in the banner; this line only says what did not happen.
      told(`Could not ${action.label.toLowerCase()} ${vm.name}: no answer.`, { error: true });
    } else if (problem.status !== 401) {
      told(`Could not ${action.label.toLowerCase()} ${vm.name}: ${sentence(problem.message)}`,
           { error: true });
    }
  } finally {
    // The whole fleet at once, not in two seconds: the action may have changed more.
    if (live.status !== "live") fleetPoller.now();
  }
}

// The fleet now, not in two seconds, dropping any listing asked for before this change.
function refreshFleet() {
  fleetFresh = fleetAsked + 1;
  fleetPoller.now();
}

function tell(fleetText) {
  fleetMessage.textContent = fleetText;
  fleetMessage.hidden = !fleetText;
}

// A new VM (made, or a copy) is selected as soon as the fleet lists it.
function vmCreated(vm, hostName, text = "") {
  const key = vmKey({ ...vm, host: hostName });
  selected = key;
  sessionStorage.setItem(SELECTED_KEY, key);
  justCreated = { key, text: text || `${vm.name} created on ${hostName}`
    + (vm.active ? " and started." : ".") };
  tell("");
  // A copy made by a task may be listed already (the live channel told of it while the page
  // followed the task): the refresh then answers 304 and would not show it.
  if (fleet.get(key)) showSelected();
  refreshFleet();
}

function vmDeleted(vm, answer, volumesToo) {
  // Gone by this page's hand: no longer selected, nor the page's URL, so the next listing
  // does not take it for a link to a VM the user cannot see.
  const key = vmKey(vm);
  if (keyOfHash(location.hash) === key) history.replaceState(null, "", "#vms");
  if (selected === key) {
    selected = null;
    sessionStorage.removeItem(SELECTED_KEY);
  }
  tell(deletedWords(vm, answer, volumesToo));
  refreshFleet();
}

function openCreate() {
  const hosts = fleet.hosts.filter(answers).map((one) => one.name);
  if (!hosts.length) {
    tell("No host answers now: a VM cannot be created.");
    return;
  }
  const first = [hostFilter.value, hostShown, fleet.hosts.find((one) => one.default)?.name]
    .find((name) => hosts.includes(name)) || hosts[0];
  creator.open(hosts, first);
}

function showTokens(open) {
  if (open) tokens.show(session);
  else tokens.hide();
  tokensToggle.setAttribute("aria-expanded", String(open));
}

function beginSession(data, { fromForm = false } = {}) {
  session = data;
  // Logged in with the form, the keyboard goes on in the list once it is there.
  focusListOnce = fromForm;
  generation += 1;
  setCsrfToken(data.csrf_token);
  login.hide();
  say("");
  $("[data-user]").textContent = `${data.user} (${data.role})`;
  $("[data-who]").hidden = false;
  createButton.hidden = !isAdmin();
  tell("");
  workspace.hidden = false;
  selected = keyOfHash(location.hash) || sessionStorage.getItem(SELECTED_KEY);
  hostShown = "";
  fleetEtag = null;
  known.clear();
  listingChanges.reset();
  eventLog.clear();
  views.start(data);
  fleetPoller.start();
  cpuColumn.start();
  live.start(Boolean(data.events));
}

function endSession(message, note = "") {
  session = null;
  generation += 1;
  setCsrfToken(null);
  fleetPoller.stop();   // first: the channel's last status change must not ask for a listing
  live.stop();
  cpuColumn.stop();
  host.stop();
  vmCharts.stop();
  dismissConfirm();
  showTokens(false);
  fleet.clear();
  known.clear();
  cut.clear();
  listingChanges.reset();
  eventLog.clear();
  selected = null;
  detail.show(null);
  actions.show(null);
  manager.reset();
  creator.close();
  createButton.hidden = true;
  workspace.hidden = true;
  document.title = "VirtDancer";
  liveStatus.textContent = "";
  views.stop();
  $("[data-who]").hidden = true;
  say("");
  login.show(message, note);
}

async function logOut() {
  // Quiet first: a poll sent once the answer has cleared the cookie would be a 401.
  fleetPoller.stop();   // first: the channel's last status change must not ask for a listing
  live.stop();
  cpuColumn.stop();
  host.stop();
  vmCharts.stop();
  try {
    // A request still on its way would reach the server after the logout: a 401.
    await Promise.all([fleetPoller.idle(), host.idle(), vmCharts.idle()]);
    await post("logout");
    sessionStorage.removeItem(SELECTED_KEY);
    endSession("", "You have logged out.");
  } catch (problem) {
    if (problem.status === 401 || !session) return;   // ended anyway: the form is back
    say(`Logging out failed: ${sentence(problem.message)}`);
    fleetPoller.start();
    cpuColumn.start();
    live.start(Boolean(session.events));
    showSelected();
  }
}

async function start() {
  setUpConfirm();
  live.onStatus(showLiveStatus);
  live.onEvent(applyEvent);
  // A VM's URL: typed, followed, or reached with Back and Forward.
  window.addEventListener("hashchange", () => {
    const key = keyOfHash(location.hash);
    if (session && key && key !== selected) select(key, { fromUrl: true });
  });
  setInterval(showLastUpdated, 1000);
  onSessionEnded(() => {
    if (session) endSession("Your session has ended. Log in again.");
  });
  $("[data-logout]").addEventListener("click", logOut);
  createButton.addEventListener("click", openCreate);
  tokensToggle.addEventListener("click", () => showTokens(!tokens.open));
  const closeTokens = () => {
    showTokens(false);
    tokensToggle.focus();
  };
  $("[data-tokens-close]").addEventListener("click", closeTokens);
  // Escape closes the panel as Close does (a confirmation over it is a dialog of its own).
  $("[data-tokens]").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeTokens();
  });
  try {
    const { data } = await get("session");
    if (data && data.user) beginSession(data);
    else login.show();
  } catch (problem) {
    login.show(`VirtDancer cannot be reached: ${sentence(problem.message)}`);
  }
}

start();
