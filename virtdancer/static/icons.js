// A small icon per VM state, drawn as SVG: fonts' symbol glyphs (▶ ⏸ ■) differ from system to
// system, or are missing on a bare server's browser. The colour comes from the stylesheet
// (currentColor), keyed on the state; the icon is decoration beside the state's name in words,
// so screen readers skip it.

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

export function stateIcon(stateName) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", `state-icon state-${stateSlug(stateName)}`);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const [tag, attributes] of SHAPES[stateName] || OTHER) {
    const shape = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) shape.setAttribute(name, value);
    svg.append(shape);
  }
  return svg;
}
