// Form fields built in code, the same way everywhere: a label tied to its control, a hint, and
// a line for the field's own error, which the control names with aria-describedby so that a
// screen reader reads the error with the field. Also: which field a server's 400 is about.

let counter = 0;

/** A unique id for a control, from a readable stem. */
export function uniqueId(stem) {
  counter += 1;
  return `${stem}-${counter}`;
}

/** An element with a class and text, the small brick of every form here. */
export function element(tag, className = "", text = "") {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text) made.textContent = text;
  return made;
}

/**
 * A labelled field: {wrap, control, error}. `control` is an input, select or textarea made
 * here from `tag` and `attributes`; `hint` is a line of help under it.
 */
export function field(label, { tag = "input", name, attributes = {}, hint = "" } = {}) {
  const wrap = element("div", "field");
  const control = document.createElement(tag);
  control.id = uniqueId(`field-${name}`);
  control.name = name;
  for (const [key, value] of Object.entries(attributes)) control.setAttribute(key, value);
  const labelElement = element("label", "", label);
  labelElement.htmlFor = control.id;
  const error = element("p", "field-error");
  error.id = `${control.id}-error`;
  error.hidden = true;
  const described = [error.id];
  wrap.append(labelElement, control);
  if (hint) {
    const hintElement = element("p", "field-hint", hint);
    hintElement.id = `${control.id}-hint`;
    described.unshift(hintElement.id);
    wrap.append(hintElement);
  }
  wrap.append(error);
  control.setAttribute("aria-describedby", described.join(" "));
  return { wrap, control, error };
}

/** A checkbox with its label after it: {wrap, control}. */
export function checkbox(label, name) {
  const wrap = element("div", "field check");
  const control = document.createElement("input");
  control.type = "checkbox";
  control.id = uniqueId(`field-${name}`);
  control.name = name;
  const labelElement = element("label", "", label);
  labelElement.htmlFor = control.id;
  wrap.append(control, labelElement);
  return { wrap, control };
}

/** Fill a select with [value, text] pairs, keeping the chosen value when it is still there. */
export function setOptions(select, pairs, chosen = select.value) {
  select.replaceChildren(...pairs.map(([value, text]) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    return option;
  }));
  if (pairs.some(([value]) => value === chosen)) select.value = chosen;
}

/** Show (or with "" clear) a field's error, as a sentence, and mark its control invalid. */
export function fieldError(one, text) {
  one.error.textContent = text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  one.error.hidden = !text;
  if (text) one.control.setAttribute("aria-invalid", "true");
  else one.control.removeAttribute("aria-invalid");
}

/**
 * The body field a server's 400 names: from its `errors` (Cornice's location/name pairs:
 * "disks.0.size_gib" → "disks"), else from a message that starts with one ("vcpus: 99 is
 * more than ..."); null when it names none.
 */
export function blamedField(problem) {
  const errors = Array.isArray(problem?.body?.errors) ? problem.body.errors : [];
  for (const error of errors) {
    if (error?.location === "body" && error.name) return String(error.name).split(".")[0];
  }
  const named = /^([a-z_]+)(?:\.\d+)?[.:]/.exec(problem?.message || "");
  return named ? named[1] : null;
}
