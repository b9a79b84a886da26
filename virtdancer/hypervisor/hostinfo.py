"""What only the machine VirtDancer runs on can tell: swap and network interface counters.

libvirt's node API has neither, so these figures exist only when the libvirt host is this
machine (a local URI such as qemu:///system).
"""

import os
from urllib.parse import urlsplit

SYS_NET = "/sys/class/net"
PROC_MEMINFO = "/proc/meminfo"


def is_local_uri(uri):
    """True when the libvirt URI names a hypervisor on this machine.

    The test driver is not: its host is imaginary, and this machine's figures would lie about it.
    """
    parts = urlsplit(uri)
    return not parts.netloc and not parts.scheme.startswith("test")


def swap():
    """{total, free} swap in bytes, from /proc/meminfo."""
    fields = {}
    with open(PROC_MEMINFO, encoding="ascii") as meminfo:
        for line in meminfo:
            key, _, value = line.partition(":")
            if key in ("SwapTotal", "SwapFree"):
                fields[key] = int(value.split()[0]) * 1024
    return {"total": fields.get("SwapTotal"), "free": fields.get("SwapFree")}


def nic_names(physical_only=False):
    """Names of the host's network interfaces; with physical_only, those backed by a device."""
    # Interfaces are folders (links to them); /sys/class/net may hold plain files too
    # (bonding_masters, when the bonding module is loaded).
    names = sorted(name for name in os.listdir(SYS_NET)
                   if os.path.isdir(os.path.join(SYS_NET, name)))
    if physical_only:
        names = [name for name in names if os.path.exists(os.path.join(SYS_NET, name, "device"))]
    return names


def nic_counters(names=None):
    """{name: {rx, tx}} byte counters of the host's interfaces (all of them by default).

    Only names that `nic_names` lists are read, so a name from a URL can never reach another
    file: anything else is simply not an interface.
    """
    known = nic_names()
    counters = {}
    for name in known if names is None else [name for name in names if name in known]:
        statistics = os.path.join(SYS_NET, name, "statistics")
        try:
            counters[name] = {"rx": _read_int(os.path.join(statistics, "rx_bytes")),
                              "tx": _read_int(os.path.join(statistics, "tx_bytes"))}
        except OSError:
            continue   # the interface went away between the listing and the read
    return counters


def _read_int(path):
    with open(path, encoding="ascii") as counter:
        return int(counter.read().strip())
