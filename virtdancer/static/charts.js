// Line charts drawn as SVG by the page itself: no chart library, so nothing to fetch from
// elsewhere and nothing third-party to trust. A chart is a <figure>: its title, one legend
// entry per series with the newest value, and the plot. Text stays in HTML around the SVG,
// because the plot is stretched to its box (preserveAspectRatio="none") and would stretch
// text with it; the lines keep their width through `vector-effect` in the stylesheet.
//
// Values may be null — the host's driver does not report them, or the VM was not running —
// and a null breaks the line rather than drawing a false zero. A chart whose values are all
// null says "no data".
//
// Every chart of the page shows the same time span, chosen in a menu by each group of charts
// (the last minute, the last 10 minutes, or all the history the server keeps), and says it
// under its plot. A chart's samples are asked for once in full and then only the new ones
// (`?since=`, kept in a `SampleWindow` of history.js).

import { duration } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 300;
const HEIGHT = 100;
const HEADROOM = 4;          // the top of the scale sits a little below the top edge
const MIN_WINDOW_S = 60;     // a chart of a fresh start still spans a minute, not two points
const GAP_INTERVALS = 2.5;   // samples further apart than this many intervals: a gap, not a line

// The spans to choose from: seconds, or null for all the history the server keeps.
const SPANS = [
  { value: "60", seconds: 60, label: "Last minute", says: "last minute" },
  { value: "600", seconds: 600, label: "Last 10 minutes", says: "last 10 minutes" },
  { value: "all", seconds: null, label: "Whole history", says: "whole history" },
];
const SPAN_KEY = "virtdancer.chartSpan";

/** The time span every chart shows; menus made by `spanMenu` choose it. */
class ChartSpan {
  constructor() {
    const stored = SPANS.find((span) => span.value === localStorage.getItem(SPAN_KEY));
    this.span = stored || SPANS[1];
    this.listeners = new Set();
  }

  get seconds() {
    return this.span.seconds;
  }

  get says() {
    return this.span.says;
  }

  choose(value) {
    this.span = SPANS.find((span) => span.value === value) || SPANS[1];
    localStorage.setItem(SPAN_KEY, this.span.value);
    for (const listener of this.listeners) listener();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }
}

export const chartSpan = new ChartSpan();

/** A labelled menu of the spans (for a group of charts), kept in step with every other one. */
export function spanMenu(id) {
  const wrap = htmlElement("div", "chart-span");
  const label = htmlElement("label", "", "Show");
  label.htmlFor = id;
  const select = htmlElement("select");
  select.id = id;
  select.dataset.chartSpan = "";
  select.append(...SPANS.map((span) => new Option(span.label, span.value)));
  select.value = chartSpan.span.value;
  select.addEventListener("change", () => chartSpan.choose(select.value));
  chartSpan.onChange(() => { select.value = chartSpan.span.value; });
  wrap.append(label, select);
  return wrap;
}

function svgElement(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function htmlElement(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// The smallest "round" number (1, 2 or 5 times a power of ten) at least `value`.
function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

// Same for byte figures, in powers of 1024 so that axis labels read "4 GiB", not "4.29 GB".
function niceBytesCeiling(value) {
  if (!(value > 0)) return 1024;
  let unit = 1;
  while (value / unit >= 1024) unit *= 1024;
  return niceCeiling(value / unit) * unit;
}

/** An SVG path through the points; null values and long pauses between samples break it. */
function linePath(points, maxGapS) {
  let path = "";
  let previous = null;
  for (const point of points) {
    if (point.y === null) {
      previous = null;
      continue;
    }
    const joined = previous !== null && point.time - previous.time <= maxGapS;
    // A lone point is a zero-length segment; its round caps draw it as a dot.
    path += joined ? `L${point.x.toFixed(2)} ${point.y.toFixed(2)}`
                   : `M${point.x.toFixed(2)} ${point.y.toFixed(2)}h0`;
    previous = point;
  }
  return path;
}

/** The area under the first series, closed down to the baseline at each break. */
function areaPath(points, maxGapS) {
  let path = "";
  let run = [];
  const flush = () => {
    if (run.length > 1) {
      path += `M${run[0].x.toFixed(2)} ${HEIGHT}`;
      for (const point of run) path += `L${point.x.toFixed(2)} ${point.y.toFixed(2)}`;
      path += `L${run.at(-1).x.toFixed(2)} ${HEIGHT}Z`;
    }
    run = [];
  };
  for (const point of points) {
    if (point.y === null || (run.length && point.time - run.at(-1).time > maxGapS)) flush();
    if (point.y !== null) run.push(point);
  }
  flush();
  return path;
}

export class LineChart {
  /**
   * title: the chart's name. series: [{label, value: (sample) => number|null}].
   * format: a number in words ("12 %", "3 MiB/s"). max: a fixed top of the scale, or
   * (samples, highest) => top, or undefined for a round number above the highest value.
   * bytes: true to round the scale in powers of 1024. note: (samples) => extra caption text.
   */
  constructor({ key, title, series, format, max, bytes = false, note }) {
    this.series = series;
    this.format = format;
    this.max = max;
    this.bytes = bytes;
    this.note = note;

    this.element = htmlElement("figure", "chart");
    this.element.dataset.chart = key;
    const caption = htmlElement("figcaption");
    caption.append(htmlElement("span", "chart-title", title));
    this.noteElement = htmlElement("span", "chart-note");
    caption.append(this.noteElement);
    this.legend = htmlElement("ul", "chart-legend");
    this.values = series.map((line, index) => {
      const item = htmlElement("li", `series-${index}`);
      item.append(htmlElement("span", "swatch"), htmlElement("span", "label", line.label));
      const value = htmlElement("span", "value", "—");
      item.append(value);
      this.legend.append(item);
      return value;
    });

    const plot = htmlElement("div", "chart-plot");
    this.svg = svgElement("svg", {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `${title} over time`,
    });
    for (const step of [0, 1, 2, 3, 4]) {
      const y = HEADROOM + (step * (HEIGHT - HEADROOM)) / 4;
      this.svg.append(svgElement("line", { x1: 0, x2: WIDTH, y1: y, y2: y, class: "grid" }));
    }
    this.area = svgElement("path", { class: "area series-0" });
    this.svg.append(this.area);
    this.lines = series.map((line, index) => {
      const path = svgElement("path", { class: `line series-${index}` });
      this.svg.append(path);
      return path;
    });
    this.empty = htmlElement("p", "chart-empty", "no data");
    plot.append(this.svg, this.empty);
    // The scale sits above the plot, not on it, where it would hide the lines.
    const scale = htmlElement("div", "chart-scale");
    this.topLabel = htmlElement("span", "chart-top");
    this.windowLabel = htmlElement("span", "chart-window");
    scale.append(this.topLabel, this.windowLabel);

    this.element.append(caption, this.legend, scale, plot);
    this.clear();
    chartSpan.onChange(() => this.redraw());
  }

  redraw() {
    if (this.shown) this.update(...this.shown);
  }

  /** Show nothing: no samples yet, or `message` (say "not available for this host"). */
  clear(message = "no data") {
    this.update({ interval: 2, samples: [] }, message);
  }

  /** Draw a `?history=1` answer: {interval, samples: [{time, ...}]}, oldest first. */
  update({ interval, samples: all }, emptyMessage = "no data") {
    this.shown = [{ interval, samples: all }, emptyMessage];
    // Only the chosen span, up to the newest sample.
    const newestTime = all.at(-1)?.time;
    const spanSeconds = chartSpan.seconds;
    const samples = spanSeconds === null || newestTime === undefined ? all
      : all.filter((sample) => sample.time >= newestTime - spanSeconds);
    const columns = this.series.map((line) => samples.map((sample) => {
      const value = line.value(sample);
      return Number.isFinite(value) ? value : null;
    }));
    const known = columns.flat().filter((value) => value !== null);
    const hasData = known.length > 0;

    this.noteElement.textContent = this.note ? this.note(samples) : "";
    this.element.classList.toggle("is-empty", !hasData);
    this.empty.hidden = hasData;
    this.empty.textContent = emptyMessage;
    this.values.forEach((element, index) => {
      const newest = columns[index].findLast((value) => value !== null);
      element.textContent = newest === undefined ? "—" : this.format(newest);
    });
    if (!hasData) {
      for (const path of [this.area, ...this.lines]) path.setAttribute("d", "");
      this.topLabel.textContent = "";
      this.windowLabel.textContent = "";
      return;
    }

    const highest = Math.max(...known);
    let top = typeof this.max === "function" ? this.max(samples, highest) : this.max;
    if (!(top > 0)) top = this.bytes ? niceBytesCeiling(highest) : niceCeiling(highest);
    top = Math.max(top, highest);

    const last = samples.at(-1).time;
    // A chosen span is the width of the plot even while the samples do not fill it yet.
    const span = spanSeconds ?? Math.max(MIN_WINDOW_S, last - samples[0].time);
    const first = last - span;
    const maxGap = GAP_INTERVALS * (interval || 2);

    columns.forEach((column, index) => {
      const points = column.map((value, at) => ({
        time: samples[at].time,
        x: ((samples[at].time - first) / span) * WIDTH,
        y: value === null ? null : HEIGHT - (value / top) * (HEIGHT - HEADROOM),
      }));
      this.lines[index].setAttribute("d", linePath(points, maxGap));
      if (index === 0) this.area.setAttribute("d", areaPath(points, maxGap));
    });
    this.topLabel.textContent = this.format(top);
    this.windowLabel.textContent = spanSeconds === null
      ? `whole history: ${duration(last - samples[0].time)}`
      : chartSpan.says;
  }
}
