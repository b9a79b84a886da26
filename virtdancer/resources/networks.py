"""A host's virtual networks (`networks`), each by name, and which VMs use one."""

from ..hypervisor.errors import NoSuchNetwork
from ..schemas import well_formed


class NetworkCollection:
    """Every virtual network of the host."""

    __name__ = "networks"

    def __init__(self, parent):
        self.__parent__ = parent
        self.host = parent
        self.networks = parent.hypervisor.networks
        self.sees = parent.sees

    def __getitem__(self, name):
        if not well_formed("network", name) or not self.networks.exists(name):
            raise KeyError(name)
        return Network(self, name)

    def all(self, with_leases):
        return self.networks.all(with_leases)

    def define(self, name, xml, autostart=False, start=False):
        return self.networks.define(name, xml, autostart=autostart, start=start)


class Network:
    """One virtual network, named in the tree by its name."""

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name
        self.name = name
        self.networks = parent.networks
        self.sees = parent.sees

    def __getitem__(self, name):
        raise KeyError(name)

    def describe(self, with_leases):
        try:
            return self.networks.one(self.name, with_leases)
        except NoSuchNetwork:
            raise KeyError(self.name) from None

    def run(self, action):
        self.networks.run(self.name, action)

    def visible_users(self, running_only=False):
        """Names of the VMs the user sees that have an interface on the network."""
        return [name for name, running in self.networks.users(self.name)
                if self.sees(name) and (running or not running_only)]

    def running_users(self):
        """`(names the user sees, how many in all)` of running VMs on the network."""
        running = [name for name, active in self.networks.users(self.name) if active]
        return [name for name in running if self.sees(name)], len(running)

    def remove(self):
        self.networks.remove(self.name)
