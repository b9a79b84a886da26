// Where a task of the Snapshots view is, in words (tasks.js follows it to its end).

import { sentence } from "./format.js";

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
