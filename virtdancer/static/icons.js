// A small icon per VM state, drawn as SVG: fonts' symbol glyphs (▶ ⏸ ■) differ from system to
// system, or are missing on a bare server's browser. The colour comes from the stylesheet
// (currentColor), keyed on the state; the icon is decoration beside the state's name in words,
// so screen readers skip it. Hosts have icons of their own: connected, connecting, unavailable.

const SVG = "http://www.w3.org/2000/svg";

// Shapes in a 16 × 16 box.
const SHAPES = {
  running: [["path", { d: "M4 2.5v11l9.5-5.5z" }]],
  paused: [["rect", { x: 3, y: 2.5, width: 3.5, height: 11, rx: 0.8 }],
           ["rect", { x: 9.5, y: 2.5, width: 3.5, height: 11, rx: 0.8 }]],
  "shut off": [["rect", { x: 3, y: 3, width: 10, height: 10, rx: 1.5 }]],
  crashed: [["path", { d: "M8 1.5l7 12.5H1z" }],
            ["path", { d: "M8 6v4M8 11.6v.1", class: "cut" }]],
  pmsuspended: [["path", { d: "M11.5 2.5a6 6 0 1 0 2 9 5 5 0 0 1-2-9z" }]],
  "in shutdown": [["path", { d: "M8 2v6", class: "cut" }],
                  ["path", { d: "M4.5 4.5a5 5 0 1 0 7 0", class: "ring" }]],
};
const OTHER = [["circle", { cx: 8, cy: 8, r: 4.5 }]];

export function stateSlug(stateName) {
  return String(stateName || "no state").replace(/\s+/g, "-");
}

function drawn(shapes, className) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const [tag, attributes] of shapes) {
    const shape = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) shape.setAttribute(name, value);
    svg.append(shape);
  }
  return svg;
}

export function stateIcon(stateName) {
  return drawn(SHAPES[stateName] || OTHER, `state-icon state-${stateSlug(stateName)}`);
}

// A host's state: a full disc while it answers, a ring while it connects, a disc with a cross
// when it does not answer.
const HOST_SHAPES = {
  connected: [["circle", { cx: 8, cy: 8, r: 5 }]],
  connecting: [["circle", { cx: 8, cy: 8, r: 4.5, class: "ring" }]],
  unavailable: [["circle", { cx: 8, cy: 8, r: 6 }],
                ["path", { d: "M5.6 5.6l4.8 4.8M10.4 5.6l-4.8 4.8", class: "cut" }]],
};

export function hostStateIcon(state) {
  return drawn(HOST_SHAPES[state] || OTHER, `state-icon host-${state}`);
}
