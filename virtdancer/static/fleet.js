// The fleet at a glance: log in, then one request for every VM's detail, refreshed every few
// seconds. Every URL is relative, so the page works wherever VirtDancer is mounted.

const REFRESH_MS = 5000;
// Asks VirtDancer not to answer 401 with a Basic challenge, which would make the browser show
// its own password dialog instead of this page's form.
const HEADERS = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" };

const $ = (selector) => document.querySelector(selector);
let session = null;   // {user, role, csrf_token} once logged in

function humanMemory(kib) {
  return kib >= 1024 * 1024 ? `${(kib / 1024 / 1024).toFixed(1)} GiB` : `${Math.round(kib / 1024)} MiB`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(vm) {
  const tr = document.createElement("tr");
  tr.dataset.uuid = vm.uuid;
  tr.dataset.state = vm.state_name;
  tr.append(cell(vm.name), cell(vm.state_name, "state"), cell(String(vm.info.nrVirtCpu)),
            cell(humanMemory(vm.info.memory)), cell(vm.uuid, "uuid"));
  return tr;
}

function render(vms) {
  // Running VMs first, then by name, as the first VirtDancer listed them.
  vms.sort((a, b) => (b.active - a.active) || a.name.localeCompare(b.name));
  $("[data-fleet]").replaceChildren(...vms.map(row));
  const running = vms.filter((vm) => vm.info.state === 1).length;
  $("[data-summary]").textContent = `${running}/${vms.length} running`;
}

async function call(method, path, body) {
  const headers = { ...HEADERS };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json();
  return { status: response.status, data };
}

function show(loggedIn) {
  $("[data-login]").hidden = loggedIn;
  $("[data-fleet-panel]").hidden = !loggedIn;
  $("[data-who]").hidden = !loggedIn;
  if (loggedIn) $("[data-user]").textContent = `${session.user} (${session.role})`;
  else $("[data-summary]").textContent = "";
}

async function refresh() {
  if (!session) return;
  const error = $("[data-error]");
  try {
    const { status, data } = await call("GET", "vm?detail=1");
    if (status === 401) { session = null; show(false); return; }
    if (status !== 200) throw new Error(data.message || `HTTP ${status}`);
    render(data);
    error.hidden = true;
  } catch (problem) {
    error.textContent = `Cannot load the fleet: ${problem.message}`;
    error.hidden = false;
  }
}

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  const message = $("[data-login-error]");
  const { status, data } = await call("POST", "login", {
    username: form.username.value, password: form.password.value,
  });
  if (status !== 200) {
    message.textContent = data.message || `HTTP ${status}`;
    message.hidden = false;
    return;
  }
  form.password.value = "";
  message.hidden = true;
  session = data;
  show(true);
  refresh();
}

async function logOut() {
  await call("POST", "logout");
  session = null;
  show(false);
}

async function start() {
  $("[data-login]").addEventListener("submit", logIn);
  $("[data-logout]").addEventListener("click", logOut);
  const { status, data } = await call("GET", "session");
  session = status === 200 && data.user ? data : null;
  show(Boolean(session));
  refresh();
  setInterval(refresh, REFRESH_MS);
}

start();
