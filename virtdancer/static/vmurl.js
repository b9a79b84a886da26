// Each VM has its own URL: `#/hosts/<host>/vm/<uuid>`. It can be bookmarked or sent to a
// colleague (who sees the VM if their filters let them), and the browser's Back button goes
// back to the VM selected before. views.js takes any hash it does not know for the VMs view.

const PATTERN = /^#\/hosts\/([^/]+)\/vm\/([^/]+)$/;

/** The hash of a VM (a `GET fleet` VM, with its host). */
export function vmHash(vm) {
  return `#/hosts/${encodeURIComponent(vm.host)}/vm/${encodeURIComponent(vm.uuid)}`;
}

/** The page's key ("host/uuid") of the VM a hash names, or null for any other hash. */
export function keyOfHash(hash) {
  const found = PATTERN.exec(hash);
  if (!found) return null;
  try {
    // A UUID is unique whatever its case; the API's answers are lower case, and so the keys.
    return `${decodeURIComponent(found[1])}/${decodeURIComponent(found[2]).toLowerCase()}`;
  } catch {
    return null;   // typed by hand with a stray %
  }
}
