"""Domain → "cdroms" → CDROMDrive (by target); "disks" → Disk (by target); "nics" → NIC (by
MAC address).

A name of the wrong shape is a miss; whether the VM has such a device is the hypervisor's
answer when asked (a 404 then), so that a user without the permission learns nothing from it.
"""

from ..schemas import well_formed


class _Devices:
    """A kind of device of one VM."""

    parameter = ""      # the path parameter the items are named by

    def __init__(self, parent):
        self.__parent__ = parent
        self.domain = parent
        self.uuid = parent.uuid
        self.devices = parent.host.hypervisor.devices
        self.sees = parent.sees

    def __getitem__(self, name):
        if not well_formed(self.parameter, name):
            raise KeyError(name)
        return self.item(self, name)


class _Device:
    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name
        self.name = name
        self.uuid = parent.uuid
        self.devices = parent.devices
        self.sees = parent.sees


class CDROMDrive(_Device):
    """One CD-ROM drive of a VM, named by its target (sda, hdc, ...)."""

    def insert(self, pool, volume):
        return self.devices.change_medium(self.uuid, self.name, pool, volume)

    def eject(self):
        return self.devices.change_medium(self.uuid, self.name)


class CDROMDrives(_Devices):
    __name__ = "cdroms"
    parameter = "target"
    item = CDROMDrive


class Disk(_Device):
    """One disk of a VM, named by its target (vda, sdb, ...)."""

    def detach(self, live, persistent):
        return self.devices.detach_disk(self.uuid, self.name, live, persistent)


class Disks(_Devices):
    __name__ = "disks"
    parameter = "target"
    item = Disk

    def attach(self, spec):
        return self.devices.attach_disk(self.uuid, spec)


class NIC(_Device):
    """One NIC of a VM, named by its MAC address."""

    def detach(self, live, persistent):
        return self.devices.detach_nic(self.uuid, self.name, live, persistent)


class NICs(_Devices):
    __name__ = "nics"
    parameter = "mac"
    item = NIC

    def attach(self, spec):
        return self.devices.attach_nic(self.uuid, spec)


# By their names in the tree (a class's own __name__ is its Python name, not the instances').
DEVICE_KINDS = {"cdroms": CDROMDrives, "disks": Disks, "nics": NICs}
