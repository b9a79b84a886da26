// A chart's statistics history, asked for whole once and then only for what is new
// (`?history=1&since=<time of the newest sample held>`): a poll then brings a sample or two
// instead of the server's whole window, ten minutes of them by default.

// The server keeps `virtdancer.stats.history` seconds (600 by default); the page keeps at
// least as much, and never more than the longest span a whole answer has shown it.
const LEAST_KEPT_S = 600;

export class SampleWindow {
  constructor() {
    this.reset();
  }

  /** Forget what is held: the next request asks for the whole history. */
  reset() {
    this.data = null;
    this.keptS = LEAST_KEPT_S;
  }

  /** What to add to a `?history=1` URL: "" for the whole history, else "&since=<time>". */
  since() {
    const newest = this.data?.samples.at(-1)?.time;
    return newest === undefined ? "" : `&since=${newest}`;
  }

  /**
   * Take the answer to a URL made with `since()` (asked when `asked` was what since() said);
   * give back the whole history held, in the answer's shape.
   */
  take(answer, asked) {
    const samples = answer.samples || [];
    if (!asked || !this.data) {
      const span = samples.length ? samples.at(-1).time - samples[0].time : 0;
      this.keptS = Math.max(LEAST_KEPT_S, span);
      this.data = { ...answer, samples };
      return this.data;
    }
    const held = this.data.samples;
    const newest = held.at(-1)?.time ?? -Infinity;
    const merged = held.concat(samples.filter((sample) => sample.time > newest));
    const oldest = (merged.at(-1)?.time ?? 0) - this.keptS;
    this.data = { ...answer, samples: merged.filter((sample) => sample.time >= oldest) };
    return this.data;
  }
}
