// The host filter: "All hosts" or one host, chosen in a <select>. The choice is kept in the
// page's URL (`?host=lab`), so that a reload, a bookmark or a link shows the same host; the
// page is never reloaded for it (history.replaceState). With one host only there is nothing
// to choose, and the control is hidden.

import { stateWords } from "./hosts.js";

const PARAMETER = "host";

function fromUrl() {
  return new URLSearchParams(location.search).get(PARAMETER) || "";
}

function toUrl(name) {
  const url = new URL(location.href);
  if (name) url.searchParams.set(PARAMETER, name);
  else url.searchParams.delete(PARAMETER);
  if (url.href !== location.href) history.replaceState(history.state, "", url.href);
}

export class HostFilter {
  /** root: the [data-host-filter] wrapper with its <select>; onChange(name) on a choice. */
  constructor(root, onChange) {
    this.root = root;
    this.select = root.querySelector("select");
    this.onChange = onChange;
    this.names = [];
    this.wanted = fromUrl();   // what the URL asks for, until the hosts are known
    this.select.addEventListener("change", () => {
      this.wanted = this.select.value;
      toUrl(this.wanted);
      this.onChange(this.wanted);
    });
  }

  /** The host shown: a name, or "" for every host. */
  get value() {
    return this.names.includes(this.wanted) ? this.wanted : "";
  }

  /** Offer these hosts (a `GET fleet` answer's); answer the host shown. */
  update(hosts) {
    this.names = hosts.map((host) => host.name);
    const options = [["", "All hosts"],
                     ...hosts.map((host) => [host.name, host.state === "connected"
                       ? host.name : `${host.name} (${stateWords(host)})`])];
    const current = [...this.select.options].map((option) => [option.value, option.text]);
    if (JSON.stringify(current) !== JSON.stringify(options)) {
      this.select.replaceChildren(...options.map(([value, text]) => new Option(text, value)));
    }
    // A host the URL names that this user does not see: every host, and the URL says so.
    if (this.wanted && !this.names.includes(this.wanted)) {
      this.wanted = "";
      toUrl("");
    }
    this.select.value = this.value;
    this.root.hidden = hosts.length < 2 && !this.value;
    return this.value;
  }
}
