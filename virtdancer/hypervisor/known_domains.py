"""The domains a request names by UUID, kept found between requests.

Finding a domain costs four libvirt calls (the lookup, its name, its ID, and freeing the
handle), each of which lets go of the interpreter lock: under load, each is a thread switch.
A domain's name and ID only change with a lifecycle event (started, stopped, defined, undefined:
a rename is an undefine and a define), so a found `DomainRef` is kept until one comes, until
VirtDancer changes the domain itself, and until the connection is lost. Without events nothing
is kept. A request that finds the domain's state at odds with a kept ID (its event has not
arrived yet) asks again (`Fleet.detail`).
"""

from .kept_per_domain import KeptPerDomain


class KnownDomains(KeptPerDomain):
    """The kept `DomainRef` of each UUID (lower case) of one host (a `HostConnection`)."""

    def events_told(self):
        return self._host.events_supported

    def dropped(self, refs):
        for ref in refs:
            # A request still holding it (one that changed the VM) must not answer what
            # another request shared before the change (`Fleet.detail`).
            ref.recent = None

    def on_host_event(self, event):
        # Handles belong to their connection: a lost one's are worth nothing.
        if event.state == "lost":
            self.forget(None)
