// The fleet at a glance: one request for every VM's detail, refreshed every few seconds.

const REFRESH_MS = 5000;

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
  document.querySelector("[data-fleet]").replaceChildren(...vms.map(row));
  const running = vms.filter((vm) => vm.info.state === 1).length;
  document.querySelector("[data-summary]").textContent = `${running}/${vms.length} running`;
}

async function refresh() {
  const error = document.querySelector("[data-error]");
  try {
    const response = await fetch("vm?detail=1", { headers: { Accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || response.statusText);
    render(body);
    error.hidden = true;
  } catch (problem) {
    error.textContent = `Cannot load the fleet: ${problem.message}`;
    error.hidden = false;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
