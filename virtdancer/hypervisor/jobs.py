"""What tasks ask of libvirt about a VM: the progress of its job, aborting it, its state in
words, and a shutdown that waits for the guest.
"""

import time

import libvirt

from .errors import HypervisorFailure, Refused
from .fleet import state_name


class Jobs:
    """The long-running side of one host's VMs (a `HostConnection`)."""

    def __init__(self, host, fleet):
        self.host = host
        self.fleet = fleet

    def progress(self, uuid):
        """How far the VM's current libvirt job is (0..1), or None if it has none or libvirt
        cannot tell (a job of unknown size)."""
        with self.host.session() as conn:
            stats = conn.lookupByUUIDString(uuid).jobStats(0)
        if stats.get("type", libvirt.VIR_DOMAIN_JOB_NONE) in (libvirt.VIR_DOMAIN_JOB_NONE,
                                                               libvirt.VIR_DOMAIN_JOB_UNBOUNDED):
            return None
        for processed, total in (("data_processed", "data_total"),
                                 ("memory_processed", "memory_total"),
                                 ("disk_processed", "disk_total")):
            if stats.get(total):
                return stats.get(processed, 0) / stats[total]
        return None

    def abort(self, uuid):
        """Abort the VM's current libvirt job; `Refused` when it has none to abort."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            try:
                dom.abortJob()
            except libvirt.libvirtError as error:
                raise Refused(f"libvirt cannot abort the job of {dom.name()}: "
                              f"{error.get_error_message()}") from None

    def state_words(self, uuid):
        """What libvirt says of the VM now, in words (for a task a restart interrupted)."""
        try:
            with self.host.session() as conn:
                dom = conn.lookupByUUIDString(uuid)
                return f"libvirt says {dom.name()} is {state_name(dom.state()[0])}"
        except HypervisorFailure as error:
            return f"libvirt could not say what became of the VM ({error.message})"
        except Exception as error:   # NoSuchDomain, HostUnavailable: both worth saying
            message = getattr(error, "message", str(error))
            return f"libvirt could not say what became of the VM ({message})"

    def shutdown_and_wait(self, uuid, seconds, pause):
        """Ask the guest to shut down, then wait for it to be off for at most `seconds`.

        `pause(s)` sleeps between looks (and raises to give up, when the task is cancelled).
        `Refused` if it still runs at the end: the guest ignored the request (no ACPI).
        """
        ref = self.fleet.find(uuid)
        self.fleet.run(ref, "shutdown")
        deadline = time.monotonic() + seconds
        while True:
            with self.host.session() as conn:
                dom = conn.lookupByUUIDString(uuid)
                state = dom.state()[0]
                if state in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED) \
                        or dom.ID() < 0:
                    return {"state": state_name(state)}
            left = deadline - time.monotonic()
            if left <= 0:
                raise Refused(f"{ref.name} is still {state_name(state)} after {seconds:g} s: "
                              "its guest did not shut down (does it answer ACPI?)")
            pause(min(0.5, left))
