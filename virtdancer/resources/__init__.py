"""The traversal tree: Root → "vm" (the fleet) → Domain, by UUID.

Resources are location-aware and know nothing of HTTP: a miss is a `KeyError`, which Pyramid
turns into a 404. They ask the hypervisor service for everything they know.
"""

import re

from ..hypervisor.errors import NoSuchDomain

# Only the canonical, hyphenated form: one VM, one URL.
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Root:
    """The top of VirtDancer's tree, wherever the application is mounted."""

    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.request = request
        self.fleet = request.hypervisor.fleet

    def __getitem__(self, name):
        if name == "vm":
            return VMCollection(self)
        raise KeyError(name)


class VMCollection:
    """Every VM of the host."""

    __name__ = "vm"

    def __init__(self, parent):
        self.__parent__ = parent
        self.fleet = parent.fleet

    def __getitem__(self, uuid):
        if not _UUID.match(uuid):
            raise KeyError(uuid)
        try:
            found = self.fleet.find(uuid)
        except NoSuchDomain:
            raise KeyError(uuid) from None
        return Domain(self, found)

    def summaries(self):
        return self.fleet.summaries()

    def details(self):
        return self.fleet.details()


class Domain:
    """One VM, named in the tree by its UUID."""

    def __init__(self, parent, found):
        self.__parent__ = parent
        self.__name__ = found.uuid
        self.uuid = found.uuid
        self.name = found.name
        self.fleet = parent.fleet
        self._found = found

    def detail(self):
        """The VM's detail object, or None once it no longer exists."""
        return self.fleet.detail(self._found) if self._found is not None else None

    def run(self, action):
        self._found = self.fleet.run(self._found, action)


def root_factory(request):
    return Root(request)
