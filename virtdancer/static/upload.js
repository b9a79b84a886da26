// Uploads a file into a volume: `PUT hosts/<host>/pools/<pool>/volumes/<vol>/content`, the file's
// bytes as they are. XMLHttpRequest rather than fetch, because only it reports how much of the
// body has gone out (upload progress), and it can be cancelled half-way. The browser sends the
// file's Content-Length itself; once the server has it all, a task streams it to libvirt.

import { ApiError, messageOfText, sessionEnded, writeHeaders } from "./api.js";
import { bytes, sentence } from "./format.js";

/** Why an upload failed, in words: the statuses an upload can get, each said plainly. */
export function uploadProblem(error) {
  // The task that writes the file into the volume failed (the server had the whole file).
  if (error.body?.state === "failed") {
    return `VirtDancer could not write it into the volume: ${sentence(error.message)}`;
  }
  const server = error.message ? ` The server said: ${sentence(error.message)}` : "";
  switch (error.status) {
    case 0: return "the upload stopped: VirtDancer cannot be reached. Check the connection.";
    case 411:
      return "the server needs the file's length before it takes an upload, and none was "
        + `sent (411).${server}`;
    case 413:
      return "the file is larger than this server takes for an upload (413): the limit is "
        + "virtdancer.upload.max_bytes, 8 GiB unless the administrator changed it, and "
        + `waitress's max_request_body_size bounds it too.${server}`;
    case 501:
      return `this host's libvirt driver cannot upload into a volume (501).${server}`;
    default:
      return sentence(error.message);
  }
}

/**
 * Send `file` to `url`. Returns {done, cancel}: `done` resolves to the answer's JSON (the
 * task that writes it into the volume) or rejects with an ApiError (status 0 when the server could not be reached) or an
 * AbortError after cancel(). onProgress(sent, total) is called as the body goes out.
 */
export function upload(url, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(writeHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(JSON.parse(xhr.responseText || "null"));
        return;
      }
      const error = new ApiError(xhr.status,
                                 messageOfText(xhr.status, xhr.statusText, xhr.responseText));
      if (xhr.status === 401) sessionEnded(error);
      reject(error);
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "")));
    xhr.addEventListener("abort", () => {
      reject(new DOMException(`the upload of ${file.name} was cancelled`, "AbortError"));
    });
    xhr.send(file);
  });
  return { done, cancel: () => xhr.abort() };
}

/** "12 MiB of 40 MiB (30 %)". */
export function progressWords(sent, total) {
  const share = total ? Math.floor((sent / total) * 100) : 100;
  return `${bytes(sent)} of ${bytes(total)} (${share} %)`;
}

/** "VirtDancer writes it into the volume: 40 %" (a task's progress), "… is waiting" when queued. */
export function writingWords(task) {
  if (task.state === "queued") return "VirtDancer will write it into the volume (waiting).";
  const share = task.progress === null ? 0 : Math.floor(task.progress * 100);
  return `VirtDancer writes it into the volume: ${share} %`;
}
