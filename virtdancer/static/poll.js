// Runs a task again and again, a fixed pause after each run ends (never two runs at once, so
// a slow server never piles up requests), and at once on demand: after an action the page
// wants the fresh state now, not in two seconds.

export class Poller {
  /**
   * task(): a promise; it may resolve to a number of milliseconds to wait before the next
   * run instead of the usual interval (a 503's Retry-After, say).
   */
  constructor(task, intervalMs) {
    this.task = task;
    this.intervalMs = intervalMs;
    this.timer = null;
    this.running = false;
    this.again = false;     // now() was called during a run: run once more right after it
    this.active = false;
    this.current = null;    // the run in progress (its promise), if any
  }

  start() {
    if (this.active) return;
    this.active = true;
    this.now();
  }

  stop() {
    this.active = false;
    this.again = false;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** Resolves once the run in progress, if any, has ended (after `stop()`, none follows). */
  async idle() {
    await this.current?.catch(() => {});
  }

  // Run at once (or right after the run in progress), then keep the usual rhythm.
  now() {
    if (!this.active) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.running) {
      this.again = true;
      return;
    }
    this.run();
  }

  async run() {
    this.running = true;
    let delay = this.intervalMs;
    try {
      this.current = this.task();
      const wanted = await this.current;
      if (typeof wanted === "number" && wanted > 0) delay = wanted;
    } catch (problem) {
      // The task reports its own failures; a bug here must not stop the polling for good.
      console.warn("poll task failed:", problem);
    } finally {
      this.running = false;
      this.current = null;
    }
    if (!this.active) return;
    if (this.again) {
      this.again = false;
      this.run();
    } else {
      this.timer = setTimeout(() => this.now(), delay);
    }
  }
}
