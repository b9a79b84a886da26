// Following one task of the Snapshots view to its end, and saying where it is in words. The
// task is asked for again (`GET tasks/<id>`) until it has ended: a page without the live
// channel follows it as well as one with it, and a dropped answer only delays the next one.

import { get } from "./api.js";
import { sentence } from "./format.js";

const ENDED = new Set(["done", "failed", "cancelled"]);
const FIRST_PAUSE_MS = 300;    // a snapshot of a small VM is often done at once
const LONGEST_PAUSE_MS = 2000;

/** Where a snapshot or revert task about snapshot `name` of `vm` is, in one sentence. */
export function snapshotTaskWords(task, vm, name) {
  const taking = task.type === "snapshot";
  const progress = Number.isFinite(task.progress) && task.progress > 0 && task.progress < 1
    ? ` (${Math.round(task.progress * 100)} %)` : "";
  switch (task.state) {
    case "refused":
      return taking ? `${name} was not taken: ${sentence(task.error)}`
        : `${vm.name} was not reverted to ${name}: ${sentence(task.error)}`;
    case "queued":
      return `Waiting for a free turn on ${vm.host} to ${taking ? `take ${name}`
        : `revert to ${name}`}…`;
    case "running":
      return taking ? `Taking snapshot ${name} of ${vm.name}…${progress}`
        : `Reverting ${vm.name} to ${name}…${progress}`;
    case "done":
      if (taking) return `Took snapshot ${name} of ${vm.name}.`;
      return `${vm.name} is back at ${name}; it is ${stateAfter(task.result?.state)} now.`;
    case "cancelled":
      return `${taking ? `Taking ${name}` : `Reverting to ${name}`} was cancelled: `
        + sentence(task.error || "no reason given");
    default:
      return taking ? `Taking ${name} failed: ${sentence(task.error || "no reason given")}`
        : `Reverting ${vm.name} to ${name} failed: ${sentence(task.error || "no reason given")}`;
  }
}

function stateAfter(state) {
  return state === "shutoff" ? "shut off" : state || "in an unknown state";
}

export class FollowedTask {
  /** task: the 202's task; told(task): each new look at it; ended(task): once, at its end. */
  constructor(task, told, ended = () => {}) {
    this.task = task;
    this.told = told;
    this.ended = ended;
    this.timer = null;
    this.stopped = false;
    this.pause = FIRST_PAUSE_MS;
  }

  begin() {
    this.told(this.task);
    if (ENDED.has(this.task.state)) this.ended(this.task);
    else this.later();
  }

  later() {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.look(), this.pause);
    this.pause = Math.min(this.pause * 2, LONGEST_PAUSE_MS);
  }

  async look() {
    this.timer = null;
    try {
      const { data } = await get(`tasks/${encodeURIComponent(this.task.id)}`);
      if (this.stopped) return;
      this.task = data;
      this.told(data);
      if (ENDED.has(data.state)) {
        this.ended(data);
        return;
      }
    } catch (problem) {
      // The session ended (the page goes back to its login) or the task is gone: stop.
      if (problem.status === 401 || problem.status === 404) return;
    }
    this.later();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
