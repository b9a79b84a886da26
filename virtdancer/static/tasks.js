// What takes longer than a request (cloning a VM; making, copying or uploading a volume; taking
// or reverting to a snapshot) answers 202 with a task, and the page follows it here: it asks
// for the task again (`GET tasks/<id>`) until it has ended, soon at first (a small task is often
// done at once), then every two seconds. A page without the live channel follows it as well as
// one with it, and a dropped answer only delays the next look.

import { ApiError, get, post } from "./api.js";

export const ENDED = new Set(["done", "failed", "cancelled"]);
const FIRST_PAUSE_MS = 300;
const LONGEST_PAUSE_MS = 2000;

export class FollowedTask {
  /**
   * task: the 202's task; told(task): each look at it; ended(task): once, at its end;
   * lost(problem): once, when it can no longer be followed (the session ended: 401, or the
   * task is gone: 404).
   */
  constructor(task, told, ended = () => {}, lost = () => {}) {
    Object.assign(this, { task, told, ended, lost });
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
      if (problem.status === 401 || problem.status === 404) {
        this.lost(problem);
        return;
      }
    }
    this.later();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/**
 * The result of `task` (a task's body) once it has ended. `onUpdate(task)` hears of the task
 * at each look while it is queued or running (its state and progress). A task that failed or
 * was cancelled rejects with an ApiError whose message is the task's `error` (status 502: the
 * host failed it after the request was accepted).
 */
export function finished(task, onUpdate = () => {}) {
  return new Promise((resolve, reject) => {
    const told = (now) => {
      if (!ENDED.has(now.state)) onUpdate(now);
    };
    const ended = (now) => {
      if (now.state === "done") resolve(now.result);
      else reject(new ApiError(502, now.error || `the task was ${now.state}`, { body: now }));
    };
    new FollowedTask(task, told, ended, reject).begin();
  });
}

/** POST `body` to `path`, an operation run as a task; resolve to its result (see finished). */
export async function postTask(path, body) {
  const { data } = await post(path, body);
  return finished(data);
}
