// What takes longer than a request (cloning a VM, making, copying or uploading a volume) answers
// 202 with a task; the page follows it here, GET tasks/<id> every half second, until it ends.

import { ApiError, get, post } from "./api.js";

const POLL_MS = 500;

const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * POST `body` to `path`, an operation run as a task; resolve to the task's result once done.
 * A task that failed or was cancelled throws an ApiError whose message is the task's `error`
 * (status 502: the host failed it after the request was accepted).
 */
export async function postTask(path, body) {
  const { data } = await post(path, body);
  return finished(data);
}

/**
 * The result of `task` (a task's body) once it has ended; see postTask. `onUpdate(task)` hears
 * of the task each time it is asked for (its state and progress), until it ends.
 */
export async function finished(task, onUpdate = () => {}) {
  let now = task;
  while (now.state === "queued" || now.state === "running") {
    onUpdate(now);
    await pause(POLL_MS);
    ({ data: now } = await get(`tasks/${encodeURIComponent(task.id)}`));
  }
  if (now.state === "done") return now.result;
  throw new ApiError(502, now.error || `the task was ${now.state}`, { body: now });
}
