// Which view the page shows: the virtual machines (the workspace), or one host's Storage or
// Networks. The view and its host live in the URL's hash (#storage/lab, #networks/lab), so a
// reload shows the same view and the browser's Back button goes to the one before. Any other
// hash (#detail, the skip link's) is the VMs view.

const VIEWS = ["vms", "storage", "networks"];
// The Storage and Networks views ask again this often, so that changes made elsewhere (another
// browser, virsh) show up; an unchanged answer changes nothing on screen, so that the keyboard
// focus stays where it is.
export const REFRESH_MS = 5000;

/** {view, host} of a hash: "#storage/lab" → {view: "storage", host: "lab"}. */
export function parseHash(hash) {
  const [view, ...rest] = hash.replace(/^#/, "").split("/");
  if (!VIEWS.includes(view) || view === "vms") return { view: "vms", host: "" };
  let host = "";
  try {
    host = decodeURIComponent(rest.join("/"));
  } catch {
    host = "";   // a hash typed by hand with a stray %: the default host
  }
  return { view, host };
}

export class ViewSwitch {
  /**
   * nav: the tabs; workspace: the VMs view; pages: {storage, networks}, each with
   * show(host, session) and hide(); chosen(view, host): told when the view changes.
   */
  constructor(nav, workspace, pages) {
    this.nav = nav;
    this.workspace = workspace;
    this.pages = pages;
    this.session = null;
    this.hosts = [];
    this.links = [...nav.querySelectorAll("[data-view-link]")];
    this.hostChoice = nav.querySelector("[data-view-host]");
    this.hostField = nav.querySelector("[data-view-host-field]");
    this.hostChoice.addEventListener("change", () => {
      const { view } = parseHash(location.hash);
      location.hash = `${view}/${encodeURIComponent(this.hostChoice.value)}`;
    });
    window.addEventListener("hashchange", () => this.apply());
  }

  start(session) {
    this.session = session;
    this.nav.hidden = false;
    this.apply();
  }

  stop() {
    this.session = null;
    this.hosts = [];
    this.hostChoice.replaceChildren();
    this.nav.hidden = true;
    for (const page of Object.values(this.pages)) (page.end || page.hide).call(page);
  }

  /** The hosts the user sees (`GET fleet`'s), for the host choice and the tabs' links. */
  setHosts(hosts) {
    const names = hosts.map((host) => host.name);
    if (names.join("\n") === this.hosts.map((host) => host.name).join("\n")) return;
    this.hosts = hosts;
    this.hostChoice.replaceChildren(...names.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    }));
    if (this.session) this.apply();
  }

  defaultHost() {
    return (this.hosts.find((host) => host.default) || this.hosts[0])?.name || "";
  }

  apply() {
    if (!this.session) return;
    const { view, host: asked } = parseHash(location.hash);
    const host = asked || this.defaultHost();
    for (const link of this.links) {
      const name = link.dataset.viewLink;
      link.href = name === "vms" ? "#vms" : `#${name}/${encodeURIComponent(host)}`;
      if (name === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    this.hostField.hidden = view === "vms" || this.hosts.length < 2;
    this.hostChoice.value = host;
    this.workspace.hidden = view !== "vms";
    for (const [name, page] of Object.entries(this.pages)) {
      if (name === view && host) page.show(host, this.session);
      else if (name !== view) page.hide();
    }
  }
}
