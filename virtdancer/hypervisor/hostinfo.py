"""What only the machine VirtDancer runs on can tell: CPU time, swap, network interface counters.

libvirt's node API has no swap or interface counters, and its CPU times lump interrupts in with
the kernel and leave steal time out; so these figures exist only when the libvirt host is this
machine (a local URI such as qemu:///system).
"""

import os
from urllib.parse import urlsplit

SYS_NET = "/sys/class/net"
PROC_MEMINFO = "/proc/meminfo"
PROC_STAT = "/proc/stat"

# The columns of /proc/stat's "cpu" line that together make up all CPU time, in their order
# (proc(5)). guest and guest_nice come after them and are left out: the kernel already counts
# them in user and nice, and adding them would count that time twice.
CPU_TIME_COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def is_local_uri(uri):
    """True when the libvirt URI names a hypervisor on this machine.

    The test driver is not: its host is imaginary, and this machine's figures would lie about it.
    """
    parts = urlsplit(uri)
    return not parts.netloc and not parts.scheme.startswith("test")


def runs_in_process(uri):
    """True when the libvirt URI names a driver that runs inside this process (the test
    driver): its calls have nothing to wait for."""
    return urlsplit(uri).scheme == "test"


def swap():
    """{total, free} swap in bytes, from /proc/meminfo."""
    fields = {}
    with open(PROC_MEMINFO, encoding="ascii") as meminfo:
        for line in meminfo:
            key, _, value = line.partition(":")
            if key in ("SwapTotal", "SwapFree"):
                fields[key] = int(value.split()[0]) * 1024
    return {"total": fields.get("SwapTotal"), "free": fields.get("SwapFree")}


def cpu_times(path=None):
    """This machine's CPU time since boot, {user, nice, system, ...} in ticks (USER_HZ).

    Read from the aggregate "cpu" line of /proc/stat (or of `path`); a column an older kernel
    lacks is absent from the answer.
    """
    with open(path or PROC_STAT, encoding="ascii") as stat:
        for line in stat:
            label, *columns = line.split()
            if label == "cpu":
                return dict(zip(CPU_TIME_COLUMNS, map(int, columns)))
    raise OSError(f"no aggregate cpu line in {path or PROC_STAT}")


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
