"""/vm/<uuid>/snapshots: the snapshots of one VM, by name (virtdancer/hypervisor/snapshots.py)."""

from ..hypervisor.snapshots import NoSuchSnapshot
from ..schemas import well_formed


class SnapshotCollection:
    """Every snapshot of the VM."""

    __name__ = "snapshots"

    def __init__(self, parent):
        self.__parent__ = parent
        self.domain = parent
        self.service = parent.host.hypervisor.snapshots

    def __getitem__(self, name):
        if not well_formed("snapshot", name):
            raise KeyError(name)
        try:
            found = self.service.one(self.domain.uuid, name)
        except NoSuchSnapshot:
            raise KeyError(name) from None
        return Snapshot(self, found)

    def tree(self):
        return self.service.tree(self.domain.uuid)

    def check_new(self, name, memory):
        """`Refused` (409) in words unless the snapshot can be taken now."""
        self.service.check_new(self.domain.uuid, name, memory)

    def create(self, name, description, memory):
        return self.service.create(self.domain.uuid, name, description, memory)


class Snapshot:
    """One snapshot of a VM, named in the tree by its name."""

    def __init__(self, parent, found):
        self.__parent__ = parent
        self.__name__ = found["name"]
        self.name = found["name"]
        self.found = found
        self.domain = parent.domain
        self.service = parent.service

    def revert(self, start):
        return self.service.revert(self.domain.uuid, self.name, start)

    def delete(self, children):
        return self.service.delete(self.domain.uuid, self.name, children)
