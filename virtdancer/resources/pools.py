"""Host → "pools" → Pool (by name) → "volumes" → Volume (by name).

A volume's users are named only when the user sees them; one the user does not see makes the
volume `in_use` without a name.
"""

from ..schemas import well_formed


def volume_hold(host, pool, name):
    """What a task changing a volume holds (`TaskRunner.submit`'s `holds`), and its words."""
    return ("volume", host, pool, name), f"the volume {name} of the pool {pool}"


class PoolCollection:
    """Every storage pool of the host."""

    __name__ = "pools"

    def __init__(self, parent):
        self.__parent__ = parent
        self.host = parent
        self.storage = parent.storage
        self.hypervisor = parent.hypervisor
        self.sees = parent.sees

    def __getitem__(self, name):
        if not well_formed("pool", name):
            raise KeyError(name)
        return Pool(self, name)

    def pools(self):
        return self.storage.pools()

    def define(self, name, path, autostart, start):
        return self.storage.define_dir_pool(name, path, autostart=autostart, start=start)


class Pool:
    """One storage pool, named by its name."""

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name
        self.name = name
        self.host = parent.host
        self.storage = parent.storage
        self.hypervisor = parent.hypervisor
        self.sees = parent.sees

    def __getitem__(self, name):
        if name == "volumes":
            return VolumeCollection(self)
        raise KeyError(name)

    def info(self):
        return self.storage.pool(self.name)

    def run(self, action):
        return self.storage.run(self.name, action)

    def delete(self, delete_files):
        self.storage.delete_pool(self.name, delete_files=delete_files)


class VolumeCollection:
    """The volumes of one pool."""

    __name__ = "volumes"

    def __init__(self, parent):
        self.__parent__ = parent
        self.pool = parent
        self.host = parent.host
        self.storage = parent.storage
        self.hypervisor = parent.hypervisor
        self.sees = parent.sees

    def __getitem__(self, name):
        if not well_formed("volume", name):
            raise KeyError(name)
        return Volume(self, name)

    def volumes(self):
        return self.storage.volumes(self.pool.name)

    def held(self, name):
        """What a task making the volume `name` holds."""
        return volume_hold(self.host.name, self.pool.name, name)

    def check_new(self, name, fmt, capacity_mib):
        """Refuse now what `create` would refuse (a taken name, no room)."""
        self.storage.check_new_volume(self.pool.name, name, fmt, capacity_mib)

    def create(self, name, fmt, capacity_mib):
        return self.storage.create_volume(self.pool.name, name, fmt, capacity_mib)


class Volume:
    """One volume of a pool."""

    def __init__(self, parent, name):
        self.__parent__ = parent
        self.__name__ = name
        self.name = name
        self.pool = parent.pool
        self.host = parent.host
        self.storage = parent.storage
        self.hypervisor = parent.hypervisor
        self.sees = parent.sees

    def info(self):
        return self.storage.volume(self.pool.name, self.name)

    def resize(self, capacity_mib):
        return self.storage.resize_volume(self.pool.name, self.name, capacity_mib)

    def delete(self):
        self.storage.delete_volume(self.pool.name, self.name)

    def held(self):
        """What a task changing this volume holds, and how a refusal names it."""
        return volume_hold(self.host.name, self.pool.name, self.name)

    def check_upload(self, length):
        """Refuse now what `upload` would refuse; answer whether the volume will be made."""
        return self.hypervisor.uploads.check(self.pool.name, self.name, length)

    def upload(self, body, length, progress, stop_check):
        """`(VolumeInfo, created)`: the volume is made (raw) when it is not there."""
        return self.hypervisor.uploads.upload(self.pool.name, self.name, body, length,
                                              progress=progress, stop_check=stop_check)

    def check_clone(self, new_name, target_pool, fmt):
        self.hypervisor.volume_copies.check(self.pool.name, self.name, target_pool, new_name,
                                            fmt)

    def clone(self, new_name, target_pool, fmt, watch):
        """The copy's `VolumeInfo`; `watch` is given an estimate of its progress."""
        return self.hypervisor.volume_copies.copy(self.pool.name, self.name, target_pool,
                                                  new_name, fmt, watch=watch)
