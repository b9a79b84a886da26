"""What the detail of one VM shows of its devices, kept between requests.

Reading a VM's devices costs its XML, the XML's parse and, per disk, two or three volume
lookups: half of what `GET /vm/<uuid>` cost. What the XML says only changes when libvirt
announces it (lifecycle, device, tray, disk, block job, agent and metadata events: see
`events.CHANGE_EVENTS`) or when VirtDancer changes the VM itself (`HostConnection.changed`), so
the parsed XML is kept until then, and for as long as the VM keeps its domain ID. Without those
events (a driver that lacks one) nothing is kept.

Two things change with no event: a volume's sizes (the guest writes, someone resizes it) and
the guest's addresses (DHCP, the guest agent). They are asked again once they are older than
`FRESH_FOR` seconds, the statistics' own interval: the detail is then no staler than the
figures beside it, and a burst of requests for one VM asks libvirt once.
"""

import time

from .kept_per_domain import KeptPerDomain

# Seconds a volume's sizes and pool, and a running VM's addresses, are shown without asking
# libvirt again (virtdancer.stats.interval's default).
FRESH_FOR = 2.0


class DeviceEntry:
    """One VM's devices as last read: its parsed XML for the domain ID it had then, and what
    only libvirt adds, with the time it was asked (None: not yet)."""

    __slots__ = ("domain_id", "found", "disks", "cdroms", "sizes_at", "addresses",
                 "addresses_at")

    def __init__(self, domain_id, found):
        self.domain_id = domain_id
        self.found = found
        self.disks = self.cdroms = self.addresses = None
        self.sizes_at = self.addresses_at = None


class DeviceCache(KeptPerDomain):
    """The `DeviceEntry` of each VM of one host (a `HostConnection`, whose listener it is)."""

    def __init__(self, host, fresh_for=FRESH_FOR, clock=time.monotonic):
        super().__init__(host)
        self.fresh_for = fresh_for
        self.clock = clock

    def events_told(self):
        return self._host.change_events_supported

    # For Devices.describe.

    def entry(self, uuid, domain_id):
        """`(entry, stamp)`: the VM's kept entry if it is for this domain ID (else None), and
        the stamp `keep` needs to keep a new one."""
        entry, stamp = self.get(uuid)
        if entry is not None and entry.domain_id != domain_id:
            entry = None
        return entry, stamp

    def stale(self, asked_at):
        """Whether a figure asked at `asked_at` (None: never) must be asked again."""
        return asked_at is None or self.clock() - asked_at >= self.fresh_for
