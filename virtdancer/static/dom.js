// Small builders for the elements the Storage and Networks views make: text always goes in as
// text (never as HTML), so a name from a host cannot become markup.

import { sentence } from "./format.js";

export function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined && text !== null) made.textContent = text;
  return made;
}

/** A button; `label` (for screen readers) names what it acts on when its text does not. */
export function button(text, onClick, { className = "", label = "", type = "button" } = {}) {
  const made = element("button", className, text);
  made.type = type;
  if (label) made.setAttribute("aria-label", label);
  if (onClick) made.addEventListener("click", onClick);
  return made;
}

/** A table cell; `heading` is shown before the value on a phone, where rows become cards. */
export function cell(content, heading, className) {
  const td = element("td", className);
  if (heading) td.dataset.label = heading;
  if (content instanceof Node) td.append(content);
  else td.textContent = content ?? "";
  return td;
}

/** A table of `headings` whose body rows the caller fills; returns {table, body}. */
export function table(className, caption, headings) {
  const made = element("table", `listing ${className}`);
  const title = element("caption", "visually-hidden", caption);
  const head = element("thead");
  const row = element("tr");
  for (const heading of headings) {
    const th = element("th", "", heading.text ?? heading);
    th.scope = "col";
    if (heading.hidden) th.replaceChildren(element("span", "visually-hidden", heading.text));
    row.append(th);
  }
  head.append(row);
  const body = element("tbody");
  made.append(title, head, body);
  return { table: made, body };
}

/**
 * Run `redraw()`, which replaces the rows inside `container`, keeping the keyboard's place: a
 * replaced row drops the focused button. Its twin (the same name for screen readers) takes the
 * focus back; else the button at its place in the same group (Autostart became No autostart);
 * else the first one of its row (a grow form gave way to the row's buttons); else `fallback`
 * (the row is gone: give it tabIndex -1).
 */
export function keepingFocus(container, redraw, fallback) {
  const active = document.activeElement;
  if (!active || !container.contains(active)) {
    redraw();
    return;
  }
  const groupOf = (control) => control.closest("[role=group]");
  const rowOf = (control) => JSON.stringify({ ...control.closest("tr")?.dataset });
  const label = active.getAttribute("aria-label");
  const group = groupOf(active)?.getAttribute("aria-label");
  const at = group ? [...groupOf(active).querySelectorAll("button")].indexOf(active) : -1;
  const row = rowOf(active);
  redraw();
  if (container.contains(active)) return;
  const usable = [...container.querySelectorAll("button")].filter((one) => !one.disabled);
  const twin = label && usable.find((one) => one.getAttribute("aria-label") === label);
  const inGroup = usable.filter(
    (one) => group && groupOf(one)?.getAttribute("aria-label") === group);
  const sameRow = row !== "{}" && usable.find((one) => rowOf(one) === row);
  const next = twin || inGroup[at] || inGroup[0] || sameRow;
  (next || fallback)?.focus({ preventScroll: Boolean(next) });
}

/** A labelled field: <div class=field><label for=id>…</label><input id=id …></div>. */
export function field(labelText, control, hint) {
  const wrap = element("div", "field");
  const label = element("label", "", labelText);
  label.htmlFor = control.id;
  wrap.append(label, control);
  if (hint) {
    const small = element("p", "hint", hint);
    small.id = `${control.id}-hint`;
    control.setAttribute("aria-describedby", small.id);
    wrap.append(small);
  }
  return wrap;
}

export function input(id, name, attributes = {}) {
  const made = element("input");
  made.id = id;
  made.name = name;
  made.autocomplete = "off";
  made.spellcheck = false;
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  return made;
}

export function select(id, name, options) {
  const made = element("select");
  made.id = id;
  made.name = name;
  for (const [value, text] of options) {
    const option = element("option", "", text);
    option.value = value;
    made.append(option);
  }
  return made;
}

/** A status line: say("…") shows it, say("") hides it; errors are marked as such. */
export function statusLine(className = "") {
  const line = element("p", `message ${className}`.trim());
  line.setAttribute("role", "status");
  line.hidden = true;
  line.say = (text, { error = false } = {}) => {
    line.textContent = text;
    line.hidden = !text;
    line.classList.toggle("error", error);
  };
  return line;
}

// What an action on a pool or a network did, said after its name: "default stopped."
export const DONE_WORDS = {
  start: "started",
  stop: "stopped",
  refresh: "refreshed: its volumes were read again",
  autostart: "starts with its host from now on",
  noautostart: "no longer starts with its host",
};

/**
 * Run one request, telling `line` what happens ("Deleting x…") and then how it went: `done`,
 * or `failed` with the server's reason. Resolves to true when it worked. A 401 says nothing:
 * the page goes back to its login form.
 */
export async function sendSaying(line, doing, call, done, failed) {
  line.say(doing);
  try {
    await call();
    line.say(done);
    return true;
  } catch (problem) {
    if (problem.status !== 401) {
      line.say(`${failed}: ${sentence(problem.message)}`, { error: true });
    }
    return false;
  }
}
