// What the page says about hosts: where a thing on a host is (`hosts/<name>/...`, relative like
// every URL of the page), which VM is which (a UUID is unique on its host only), and a host's
// state in words.

import { clock } from "./format.js";

/** The URL of `path` on `host` (a name): "hosts/lab/vm/<uuid>/action". */
export function onHost(host, path) {
  return `hosts/${encodeURIComponent(host)}/${path}`;
}

/** A VM's key on the page: its host's name and its UUID. */
export function vmKey(vm) {
  return `${vm.host}/${vm.uuid}`;
}

/** True when the host answers: its VMs can be acted on and its statistics asked for. */
export function answers(host) {
  return host?.state === "connected";
}

const STATE_WORDS = {
  connected: "connected",
  connecting: "connecting…",
  unavailable: "unavailable",
};

export function stateWords(host) {
  return STATE_WORDS[host?.state] || String(host?.state ?? "unknown");
}

/** That a host does not answer, in a few words: "lab is unavailable", "lab is connecting…". */
export function notAnswering(host) {
  return host ? `${host.name} is ${stateWords(host)}` : "";
}

/** Why a host does not answer, in one line: "unavailable: Failed to connect socket …". */
export function whyNot(host) {
  if (!host || answers(host)) return "";
  if (host.state === "connecting" || !host.reason) return notAnswering(host);
  return `${notAnswering(host)}: ${host.reason}`;
}

/** "since 14:02", from the host's Unix time of its state's beginning. */
export function sinceWords(host) {
  const time = clock(host?.since);
  return time ? `since ${time}` : "";
}
