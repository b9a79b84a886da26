// Wires the page together: the session (login, logout, a session that ends under us), the
// fleet poll (every host at once), the host filter, the selected VM with its facts, actions
// and charts, and the host panel. Each piece lives in its own module; this one only decides
// who tells whom what. A VM is known by its host and its UUID, and everything done to it goes
// to its own host's URLs (`hosts/<name>/vm/<uuid>/...`).

import { ActionBar } from "./actions.js";
import { get, onSessionEnded, post, setCsrfToken } from "./api.js";
import { dismissConfirm, setUpConfirm } from "./confirm.js";
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
import { LoginForm } from "./login.js";
import { VMManager } from "./manage.js";
import { NetworksView } from "./networks.js";
import { Poller } from "./poll.js";
import { StorageView } from "./storage.js";
import { TokensView } from "./tokens.js";
import { ViewSwitch } from "./views.js";
import { VMCharts } from "./vmstats.js";

// The fleet — every host's VMs and states, one request — is polled every two seconds: with
// If-None-Match, an unchanged fleet costs a 304 with no body, so polling this often is cheap,
// and a change made elsewhere, or a host going away, shows up quickly.
const FLEET_POLL_MS = 2000;
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

const banner = $("[data-banner]");
const workspace = $("[data-workspace]");
const known = new KnownFleet();
const fleet = new FleetList($(".fleet"), select);
const hostFilter = new HostFilter($("[data-host-filter]"), filterHosts);
const detail = new DetailPanel($("[data-detail]"));
const actions = new ActionBar($("[data-actions]"), $("[data-actions-note]"), runAction);
const vmCharts = new VMCharts($("[data-vm-charts]"),
                              (key, seconds) => detail.setCpuSeconds(key, seconds));
const host = new HostPanel($("[data-host]"), chartHost);
const login = new LoginForm($("[data-login]"), beginSession);
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
// Until the live channel feeds it (live.js), the event log tells what changed between two
// listings of the fleet.
const eventLog = new EventLog($("[data-event-log]"));
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
    if (answer.status !== 304) {   // 304: the fleet on screen is still the fleet
      fleetEtag = answer.etag;
      const { hosts, vms } = known.take(answer.data);
      for (const change of listingChanges.compare(hosts, vms)) eventLog.add(change);
      fleet.update(hosts, vms);
      fleet.showHost(hostFilter.update(hosts));
      views.setHosts(hosts);
      showSelected();
    }
    say("");
    return undefined;
  } catch (problem) {
    if (mine !== generation || problem.status === 401) return undefined;
    const wait = problem.retryAfter ? ` Trying again in ${inWords(problem.retryAfter)}.` : "";
    say(`The list of VMs could not be updated: ${sentence(problem.message)}${wait}`);
    return problem.retryAfter ? problem.retryAfter * 1000 : undefined;
  }
}

function select(key) {
  selected = key;
  sessionStorage.setItem(SELECTED_KEY, key);
  const vm = fleet.get(key);
  if (vm) hostShown = vm.host;
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
    selected = null;
    sessionStorage.removeItem(SELECTED_KEY);
  }
  const itsHost = vm ? fleet.host(vm.host) : null;
  fleet.select(vm ? vmKey(vm) : null);
  detail.show(vm, itsHost);
  actions.show(vm, itsHost);
  manager.show(vm, isAdmin());
  if (vm && justCreated?.key === vmKey(vm)) {
    detail.say(justCreated.text);
    justCreated = null;
  }
  // Charts only for a VM the listing has (asking for another would be a 404), and only
  // while its host answers (else each request would be a 503).
  const away = vm && !answers(itsHost) ? notAnswering(itsHost) || `${vm.host} is away` : "";
  vmCharts.follow(vm, away);
  if (fleet.loaded) {
    hostShown = panelHost();
    host.follow(fleet.hosts, hostShown);
  }
}

async function runAction(vm, action) {
  const told = (text, options) => { if (selected === vmKey(vm)) detail.say(text, options); };
  told(`${action.label}: asking for ${vm.name}…`);
  try {
    const { data } = await post(onHost(vm.host, `vm/${encodeURIComponent(vm.uuid)}/action`),
                                { action: action.name });
    // A listing asked for before this answer may still be on its way: it is older, drop it.
    fleetFresh = fleetAsked + 1;
    if (data.vm) fleet.replace({ ...data.vm, host: vm.host });
    showSelected();
    told(`${vm.name} ${action.done}.`);
  } catch (problem) {
    if (problem.status !== 401) {
      told(`Could not ${action.label.toLowerCase()} ${vm.name}: ${sentence(problem.message)}`,
           { error: true });
    }
  } finally {
    // The whole fleet at once, not in two seconds: the action may have changed more.
    fleetPoller.now();
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
  refreshFleet();
}

function vmDeleted(vm, answer, volumesToo) {
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

function beginSession(data) {
  session = data;
  generation += 1;
  setCsrfToken(data.csrf_token);
  login.hide();
  say("");
  $("[data-user]").textContent = `${data.user} (${data.role})`;
  $("[data-who]").hidden = false;
  createButton.hidden = !isAdmin();
  tell("");
  workspace.hidden = false;
  selected = sessionStorage.getItem(SELECTED_KEY);
  hostShown = "";
  fleetEtag = null;
  known.clear();
  listingChanges.reset();
  eventLog.clear();
  eventLog.status("polling");
  views.start(data);
  fleetPoller.start();
}

function endSession(message) {
  session = null;
  generation += 1;
  setCsrfToken(null);
  fleetPoller.stop();
  host.stop();
  vmCharts.stop();
  dismissConfirm();
  showTokens(false);
  fleet.clear();
  known.clear();
  listingChanges.reset();
  eventLog.clear();
  selected = null;
  detail.show(null);
  actions.show(null);
  manager.reset();
  creator.close();
  createButton.hidden = true;
  workspace.hidden = true;
  views.stop();
  $("[data-who]").hidden = true;
  say("");
  login.show(message);
}

async function logOut() {
  // Quiet first: a poll sent once the answer has cleared the cookie would be a 401.
  fleetPoller.stop();
  host.stop();
  vmCharts.stop();
  try {
    await post("logout");
    sessionStorage.removeItem(SELECTED_KEY);
    endSession("");
  } catch (problem) {
    if (problem.status === 401 || !session) return;   // ended anyway: the form is back
    say(`Logging out failed: ${sentence(problem.message)}`);
    fleetPoller.start();
    showSelected();
  }
}

async function start() {
  setUpConfirm();
  onSessionEnded(() => {
    if (session) endSession("Your session has ended. Log in again.");
  });
  $("[data-logout]").addEventListener("click", logOut);
  createButton.addEventListener("click", openCreate);
  tokensToggle.addEventListener("click", () => showTokens(!tokens.open));
  $("[data-tokens-close]").addEventListener("click", () => {
    showTokens(false);
    tokensToggle.focus();
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
