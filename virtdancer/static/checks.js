// What VirtDancer's forms check before sending, so that a typing slip is told at
// once and next to its field. The server checks all of it again (schemas.py): these only spare
// a round trip, and say the same rules in the same words.

const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
export const NAME_WORDS = "at most 64 of A-Z a-z 0-9 . _ -, not starting with . or -";

/** Why `name` is not a name libvirt and file systems take, or "" when it is one. */
export function nameProblem(name, what) {
  if (!name) return `Give the ${what} a name.`;
  return NAME.test(name) ? "" : `“${name}” is not a ${what} name: ${NAME_WORDS}.`;
}

/** A dotted IPv4 address as a number, or null. */
export function ipv4(text) {
  const parts = String(text).trim().split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

export function dotted(value) {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/**
 * Check a NAT network's subnet and DHCP range as the API does: an IPv4 subnet with a prefix
 * of 8 to 30, DHCP bounds inside it, off the gateway (its first address) and in order.
 * Returns {problem, field} for the first thing wrong, or {problem: ""}.
 */
export function subnetProblem(subnet, dhcpStart, dhcpEnd) {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(subnet.trim());
  const base = match ? ipv4(match[1]) : null;
  if (base === null) {
    return { field: "subnet",
             problem: `“${subnet}” is not an IPv4 subnet such as 10.0.5.0/24.` };
  }
  const prefix = Number(match[2]);
  if (prefix < 8 || prefix > 30) {
    return { field: "subnet", problem: `A prefix of /${prefix} is outside 8 to 30.` };
  }
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  if (network !== base) {
    return { field: "subnet",
             problem: `${subnet} has host bits set: the subnet is ${dotted(network)}/${prefix}.` };
  }
  const gateway = network + 1;
  const broadcast = network + size - 1;
  const bounds = {};
  for (const [name, text] of [["dhcp_start", dhcpStart], ["dhcp_end", dhcpEnd]]) {
    if (!text) continue;
    const address = ipv4(text);
    const words = name === "dhcp_start" ? "The DHCP range's start" : "The DHCP range's end";
    if (address === null) {
      return { field: name, problem: `${words}, “${text}”, is not an IPv4 address.` };
    }
    if (address <= network || address >= broadcast) {
      return { field: name,
               problem: `${words}, ${text}, is outside ${dotted(network)}/${prefix}.` };
    }
    if (address === gateway) {
      return { field: name, problem: `${words}, ${text}, is the gateway's address.` };
    }
    bounds[name] = address;
  }
  if (bounds.dhcp_start !== undefined && bounds.dhcp_end !== undefined
      && bounds.dhcp_start > bounds.dhcp_end) {
    return { field: "dhcp_end", problem: "The DHCP range ends before it starts." };
  }
  return { problem: "" };
}
