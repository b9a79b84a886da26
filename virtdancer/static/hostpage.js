// What the Storage and Networks views share: the host they show and for whom (admins get the
// forms and buttons, others a note), and asking the host again every REFRESH_MS while shown.
// `generation` goes up whenever the host or the view changes, so that an answer to an earlier
// question is dropped rather than drawn over the present one.
// A view shown asks again at once when the live channel tells of a change to its host's pools
// or networks (`eventType`, "pool" or "network"), of the host's return, or that the page must
// reload: what changed behind VirtDancer's back shows without waiting for the next poll.

import { get } from "./api.js";
import { sentence } from "./format.js";
import { onHost } from "./hosts.js";
import { liveEvents } from "./live.js";
import { Poller } from "./poll.js";
import { REFRESH_MS } from "./views.js";

export class HostPage {
  /**
   * root: the view's element; what: its name in its title ("Storage on lab"); eventType: the
   * live events that change it ("pool", "network"); source: the live channel (a test's own).
   */
  constructor(root, what, eventType = null, source = liveEvents) {
    this.root = root;
    this.what = what;
    this.host = "";
    this.admin = false;
    this.generation = 0;
    this.shown = null;       // the answer on screen, as JSON
    this.poller = new Poller(() => this.load(false), REFRESH_MS);
    this.eventType = eventType;
    source.onEvent((event) => this.heard(event));
  }

  /** A live event: ask again now when it changes what this view shows. */
  heard(event) {
    if (this.root.hidden || !this.host) return;
    const aboutThisHost = event.host === this.host
      && (event.type === this.eventType || (event.type === "host" && event.state === "back"));
    if (aboutThisHost || event.type === "reload") this.poller.now();
  }

  /** Another host is to be shown: forget what was shown of this one (a view adds its own). */
  forget() {
    this.message.say("");
    this.shown = null;
  }

  show(host, session) {
    if (host !== this.host) this.forget();
    this.host = host;
    this.admin = session?.role === "admin";
    this.generation += 1;
    this.title.textContent = `${this.what} on ${host}`;
    this.form.hidden = !this.admin;
    this.note.hidden = this.admin;
    this.root.hidden = false;
    this.poller.stop();
    this.poller.start();
  }

  hide() {
    this.root.hidden = true;
    this.generation += 1;
    this.poller.stop();
  }

  on(path) {
    return onHost(this.host, path);
  }

  /** Ask the host for `path` and `use` its answer, unless the host or view changed meanwhile;
   * a failure is said as "`what` could not be listed" (a lost session is the page's). */
  async ask(path, what, use) {
    const mine = this.generation;
    try {
      const { data } = await get(this.on(path));
      if (mine === this.generation) await use(data);
    } catch (problem) {
      if (mine !== this.generation || problem.status === 401) return;
      this.message.say(`${what} could not be listed: ${sentence(problem.message)}`,
                       { error: true });
    }
  }
}
