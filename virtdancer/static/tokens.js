// The "API tokens" view: the user's tokens (an admin's: everyone's), a form that makes one and
// shows it once, and a revoke button behind a confirmation. The token's text lives only in the
// box that shows it, and goes when the box is closed, the view is, or the session ends.

import { del, get, post } from "./api.js";
import { confirmAction } from "./confirm.js";
import { clock, day, sentence } from "./format.js";

// The scopes a role may give its tokens (the API says the same with a 403).
const SCOPES = { viewer: ["read"], operator: ["read", "operate"],
                 admin: ["read", "operate", "admin"] };
const SCOPE_WORDS = { read: "read: see VMs and statistics",
                      operate: "operate: also start, stop and open consoles",
                      admin: "admin: everything" };
const DAY = 86400;

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export class TokensView {
  constructor(root) {
    this.root = root;
    this.form = root.querySelector("[data-token-form]");
    this.list = root.querySelector("[data-token-list]");
    this.empty = root.querySelector("[data-token-empty]");
    this.message = root.querySelector("[data-token-message]");
    this.made = root.querySelector("[data-token-made]");
    this.madeText = root.querySelector("[data-token-text]");
    this.copied = root.querySelector("[data-token-copied]");
    this.session = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    root.querySelector("[data-token-copy]").addEventListener("click", () => this.copy());
    root.querySelector("[data-token-done]").addEventListener("click", () => this.forgetMade());
  }

  get open() {
    return !this.root.hidden;
  }

  /** Show the view for the session's user (its scopes follow their role). */
  show(session) {
    this.session = session;
    const scope = this.form.scope;
    scope.replaceChildren(...(SCOPES[session.role] || ["read"]).map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = SCOPE_WORDS[name];
      return option;
    }));
    this.root.querySelector("[data-token-owner-head]").hidden = session.role !== "admin";
    this.root.hidden = false;
    this.say("");
    this.load();
    this.form.name.focus();
  }

  hide() {
    this.forgetMade();
    this.root.hidden = true;
    this.list.replaceChildren();
    this.session = null;
  }

  say(text, { error = false } = {}) {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.classList.toggle("error", error);
  }

  async load() {
    try {
      const { data } = await get("tokens");
      if (this.open) this.render(data);
    } catch (problem) {
      if (problem.status !== 401) {
        this.say(`The tokens could not be listed: ${sentence(problem.message)}`, { error: true });
      }
    }
  }

  render(tokens) {
    const admin = this.session?.role === "admin";
    this.list.replaceChildren(...tokens.map((token) => {
      const row = document.createElement("tr");
      row.dataset.tokenId = token.id;
      row.append(cell(token.name, "token-name"));
      if (admin) row.append(cell(token.owner));
      row.append(cell(token.scope), cell(clock(token.created)),
                 cell(token.last_used ? clock(token.last_used) : "never"),
                 cell(token.expires ? day(token.expires) : "never"));
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "danger";
      revoke.textContent = "Revoke";
      revoke.setAttribute("aria-label", `Revoke ${token.name}`);
      revoke.addEventListener("click", () => this.revoke(token));
      const actions = cell("");
      actions.append(revoke);
      row.append(actions);
      return row;
    }));
    this.empty.hidden = tokens.length > 0;
    this.list.closest("table").hidden = tokens.length === 0;
  }

  async create() {
    const name = this.form.name.value.trim();
    if (!name) {
      this.say("Give the token a name: what it is for, such as prometheus.", { error: true });
      this.form.name.focus();
      return;
    }
    const days = Number(this.form.expires.value);
    const body = { name, scope: this.form.scope.value };
    if (days) body.expires = Date.now() / 1000 + days * DAY;
    const submit = this.form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const { data } = await post("tokens", body);
      this.form.name.value = "";
      this.showMade(data);
      this.say("");
      this.load();
    } catch (problem) {
      if (problem.status !== 401) {
        this.say(`The token could not be made: ${sentence(problem.message)}`, { error: true });
      }
    } finally {
      submit.disabled = false;
    }
  }

  showMade(token) {
    this.made.querySelector("[data-token-made-name]").textContent = token.name;
    this.madeText.value = token.token;
    this.copied.textContent = "";
    this.made.hidden = false;
    this.madeText.focus();
    this.madeText.select();
  }

  forgetMade() {
    this.madeText.value = "";
    this.made.hidden = true;
  }

  async copy() {
    this.madeText.select();
    try {
      await navigator.clipboard.writeText(this.madeText.value);
      this.copied.textContent = "Copied.";
    } catch {
      // No clipboard for the page (plain HTTP, say): the text is selected for Ctrl+C.
      this.copied.textContent = "Selected: press Ctrl+C (⌘C) to copy it.";
    }
  }

  async revoke(token) {
    const owner = token.owner !== this.session?.user ? ` of ${token.owner}` : "";
    const sure = await confirmAction({
      title: `Revoke ${token.name}?`,
      text: `Scripts using the token ${token.name}${owner} get 401 from their next request on. `
        + "This cannot be undone.",
      confirmLabel: "Revoke",
    });
    if (!sure) return;
    try {
      await del(`tokens/${encodeURIComponent(token.id)}`);
      this.say(`${token.name} revoked.`);
    } catch (problem) {
      if (problem.status !== 401) {
        this.say(`${token.name} could not be revoked: ${sentence(problem.message)}`,
                 { error: true });
      }
    }
    this.load();
  }
}
