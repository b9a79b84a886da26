"""Storage pools and their volumes on one host, in plain Python values.

Which VMs use a volume is found once per question: one `listAllDomains` and each domain's XML,
matched against every volume's path, never one scan of the domains per volume.
"""

import functools
import os
import xml.etree.ElementTree as ET
from typing import NamedTuple
from xml.sax.saxutils import escape

import libvirt

from . import domainxml
from .errors import InvalidRequest, NoSuchStorage, Refused

POOL_ACTIONS = ("start", "stop", "refresh", "autostart", "noautostart")
VOLUME_FORMATS = ("qcow2", "raw")
POOL_STATES = {
    libvirt.VIR_STORAGE_POOL_INACTIVE: "inactive",
    libvirt.VIR_STORAGE_POOL_BUILDING: "building",
    libvirt.VIR_STORAGE_POOL_RUNNING: "running",
    libvirt.VIR_STORAGE_POOL_DEGRADED: "degraded",
    libvirt.VIR_STORAGE_POOL_INACCESSIBLE: "inaccessible",
}
MIB = 1024 * 1024


class PoolInfo(NamedTuple):
    name: str
    type: str
    state: str
    active: bool
    autostart: bool
    persistent: bool
    capacity: int           # bytes
    allocation: int
    available: int
    volumes: int            # 0 while the pool is not running (libvirt cannot list them)
    path: str


class VolumeUser(NamedTuple):
    uuid: str
    name: str


class VolumeInfo(NamedTuple):
    name: str
    format: str
    capacity: int           # bytes
    allocation: int
    path: str
    users: tuple            # of VolumeUser: every VM whose disks name the volume's path


def shown_in_details(method):
    """A change that may alter what VMs' details show of their disks (a volume's pool, its
    sizes): their kept devices are read again (device_cache), not a few seconds later."""
    @functools.wraps(method)
    def changing(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            self.host.changed(None)
    return changing


class Storage:
    """Queries and changes of the storage pools of one host."""

    def __init__(self, host):
        self.host = host

    # -- pools -----------------------------------------------------------------------------

    def pools(self):
        """The `PoolInfo` of every pool, sorted by name."""
        with self.host.session() as conn:
            return sorted((_pool_info(pool) for pool in conn.listAllStoragePools(0)),
                          key=lambda info: info.name)

    def pool(self, name):
        """The `PoolInfo` of one pool, or `NoSuchStorage`."""
        with self.host.session() as conn:
            return _pool_info(_lookup_pool(conn, name))

    @shown_in_details
    def define_dir_pool(self, name, path, *, autostart=False, start=True):
        """Define a `dir` pool at `path`; build the folder and start it when asked."""
        xml = (f"<pool type='dir'><name>{escape(name)}</name>"
               f"<target><path>{escape(path)}</path></target></pool>")
        with self.host.session() as conn:
            pools = conn.listAllStoragePools(0)
            if name in {pool.name() for pool in pools}:
                raise Refused(f"a storage pool named {name} exists already")
            # libvirt refuses a second pool on a folder with an "operation failed" (a 502):
            # said here in words, as the conflict it is.
            wanted = os.path.normpath(path)
            for other in pools:
                target = ET.fromstring(other.XMLDesc(0)).findtext("target/path") or ""
                if target and os.path.normpath(target) == wanted:
                    raise Refused(f"the storage pool {other.name()} is at {path} already")
            pool = conn.storagePoolDefineXML(xml, 0)
            try:
                if start:
                    pool.build(0)   # makes the folder when it is missing
                    pool.create(0)
                if autostart:
                    pool.setAutostart(1)
            except libvirt.libvirtError:
                pool.undefine()     # no half-made pool behind a failed request
                raise
            return _pool_info(pool)

    @shown_in_details
    def run(self, name, action):
        """Run a pool action (`POOL_ACTIONS`); answer the pool as it is afterwards."""
        if action not in POOL_ACTIONS:
            raise ValueError(f"unknown pool action {action!r}")
        with self.host.session() as conn:
            pool = _lookup_pool(conn, name)
            active = bool(pool.isActive())
            if action == "start":
                if active:
                    raise Refused(f"the pool {name} is running already")
                pool.create(0)
            elif action == "stop":
                if not active:
                    raise Refused(f"the pool {name} is not running")
                pool.destroy()
            elif action == "refresh":
                if not active:
                    raise Refused(f"the pool {name} is not running: start it first")
                pool.refresh(0)
            else:
                pool.setAutostart(1 if action == "autostart" else 0)
            return _pool_info(pool)

    @shown_in_details
    def delete_pool(self, name, *, delete_files=False):
        """Stop and undefine a pool; refuse one whose volumes a VM uses.

        Its folder and files stay unless `delete_files` (then its volumes and the folder go).
        """
        with self.host.session() as conn:
            pool = _lookup_pool(conn, name)
            if pool.isActive():
                users = users_by_path(conn)
                used = [(vol.name(), users[vol.path()]) for vol in pool.listAllVolumes(0)
                        if vol.path() in users]
                if used:
                    raise VolumesInUse(name, used)
                if delete_files:
                    for vol in pool.listAllVolumes(0):
                        vol.delete(0)
                    pool.destroy()
                    pool.delete(0)
                else:
                    pool.destroy()
            if pool.isPersistent():
                pool.undefine()

    # -- volumes ---------------------------------------------------------------------------

    def volumes(self, pool_name):
        """The `VolumeInfo` of every volume of a running pool, sorted by name."""
        with self.host.session() as conn:
            pool = running_pool(conn, pool_name)
            users = users_by_path(conn)
            return sorted((volume_info(vol, users) for vol in pool.listAllVolumes(0)),
                          key=lambda info: info.name)

    def volume(self, pool_name, name):
        with self.host.session() as conn:
            pool = running_pool(conn, pool_name)
            return volume_info(lookup_volume(pool, name), users_by_path(conn))

    @shown_in_details
    def create_volume(self, pool_name, name, fmt, capacity_mib):
        """Make a volume of `capacity_mib` MiB; refuse more than the pool has available."""
        with self.host.session() as conn:
            pool = _new_volume_pool(conn, pool_name, name, fmt, capacity_mib)
            return volume_info(pool.createXML(volume_xml(name, capacity_mib * MIB, fmt), 0),
                                {})

    def check_new_volume(self, pool_name, name, fmt, capacity_mib):
        """Refuse now what `create_volume` would refuse: no such pool, a name taken, no room."""
        with self.host.session() as conn:
            _new_volume_pool(conn, pool_name, name, fmt, capacity_mib)

    @shown_in_details
    def resize_volume(self, pool_name, name, capacity_mib):
        """Grow a volume to `capacity_mib` MiB (shrinking is refused: it loses data)."""
        with self.host.session() as conn:
            pool = running_pool(conn, pool_name)
            vol = lookup_volume(pool, name)
            now = vol.info()[1]
            wanted = capacity_mib * MIB
            if wanted < now:
                raise InvalidRequest(f"the volume {name} holds {bytes_in_words(now)}; VirtDancer "
                                     f"only grows volumes, and {bytes_in_words(wanted)} is less")
            check_room(pool, wanted - now)
            if wanted > now:
                vol.resize(wanted, 0)
            return volume_info(vol, users_by_path(conn))

    @shown_in_details
    def delete_volume(self, pool_name, name):
        """Delete a volume and its data; refuse one a VM uses."""
        with self.host.session() as conn:
            pool = running_pool(conn, pool_name)
            vol = lookup_volume(pool, name)
            users = users_by_path(conn).get(vol.path())
            if users:
                raise VolumesInUse(pool_name, [(name, users)])
            vol.delete(0)


class VolumesInUse(Refused):
    """Volumes that VMs use: `used` is `[(volume name or path, (VolumeUser, ...))]`."""

    def __init__(self, pool_name, used):
        named = "; ".join(f"{volume} by {', '.join(user.name for user in users)}"
                          for volume, users in used)
        of_pool = f" of the pool {pool_name}" if pool_name else ""
        super().__init__(f"volumes{of_pool} are in use: {named}")
        self.used = used


def bytes_in_words(size):
    """Bytes in words, as `16 MiB (16777216 bytes)`."""
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", MIB), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit} ({size} bytes)"
    return f"{size} bytes"


def _new_volume_pool(conn, pool_name, name, fmt, capacity_mib):
    """The running pool where a new volume `name` of `capacity_mib` MiB may be made."""
    if fmt not in VOLUME_FORMATS:
        raise ValueError(f"unknown volume format {fmt!r}")
    pool = running_pool(conn, pool_name)
    if name in pool.listVolumes():
        raise Refused(f"the pool {pool_name} has a volume named {name} already")
    check_room(pool, capacity_mib * MIB)
    return pool


def check_room(pool, size):
    """Refuse (400) `size` bytes more than the pool has available."""
    available = pool.info()[3]
    if size > available:
        raise InvalidRequest(f"the pool {pool.name()} has {bytes_in_words(available)} available, "
                             f"less than the {bytes_in_words(size)} asked for")


def _lookup_pool(conn, name):
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise NoSuchStorage(f"no storage pool named {name}") from None
        raise


def running_pool(conn, name):
    """The pool `name` if it runs, else `Refused`; `NoSuchStorage` if there is none."""
    pool = _lookup_pool(conn, name)
    if not pool.isActive():
        raise Refused(f"the pool {name} is not running: start it first")
    return pool


def lookup_volume(pool, name):
    """The volume `name` of `pool`, or `NoSuchStorage`."""
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise NoSuchStorage(f"no volume named {name} in the pool {pool.name()}") from None
        raise


def _pool_info(pool):
    state, capacity, allocation, available = pool.info()
    root = ET.fromstring(pool.XMLDesc(0))
    active = bool(pool.isActive())
    return PoolInfo(
        name=pool.name(), type=root.get("type", ""), state=POOL_STATES.get(state, "unknown"),
        active=active, autostart=bool(pool.autostart()), persistent=bool(pool.isPersistent()),
        capacity=capacity, allocation=allocation, available=available,
        volumes=pool.numOfVolumes() if active else 0,
        path=root.findtext("target/path") or "")


def volume_info(vol, users):
    """The `VolumeInfo` of `vol`, its users found in `users` (what `users_by_path` answers)."""
    root = ET.fromstring(vol.XMLDesc(0))
    _, capacity, allocation = vol.info()
    path = vol.path()
    fmt = root.find("target/format")
    return VolumeInfo(name=vol.name(), format=fmt.get("type", "") if fmt is not None else "",
                      capacity=capacity, allocation=allocation, path=path,
                      users=tuple(users.get(path, ())))


def users_by_path(conn):
    """`{disk source path: (VolumeUser, ...)}` of every domain: one listing, one XML each."""
    users, volumes = {}, {}
    for dom in conn.listAllDomains(0):
        try:
            paths = disk_files(conn, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), volumes)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue    # undefined meanwhile
            raise
        user = VolumeUser(dom.UUIDString(), dom.name())
        for path, _ in paths:
            if user not in users.get(path, ()):
                users[path] = (*users.get(path, ()), user)
    # libvirt lists domains in no set order: by name, so that answers do not shuffle.
    return {path: tuple(sorted(found, key=lambda user: user.name))
            for path, found in users.items()}


def refuse_others_disks(conn, paths, but=None):
    """Raise `VolumesInUse` if a VM other than `but` (a UUID) has one of `paths` as a disk.

    A disk is its VM's data: another VM given it (as a disk or a CD-ROM) would read it, even
    where its users do not see that VM. An ISO in other VMs' CD-ROM drives is for all to share.
    """
    wanted, users, volumes = set(paths), {}, {}
    for dom in conn.listAllDomains(0) if wanted else ():
        user = VolumeUser(dom.UUIDString(), dom.name())
        if but is not None and user.uuid.lower() == but.lower():
            continue
        try:
            # A running VM's too: a disk attached live only is not in its definition.
            xmls = [dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)]
            if dom.isActive():
                xmls.append(dom.XMLDesc(0))
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue    # undefined meanwhile
            raise
        for xml in xmls:
            for path, device in disk_files(conn, xml, volumes):
                if path in wanted and device != "cdrom" and user not in users.get(path, ()):
                    users[path] = (*users.get(path, ()), user)
    if users:
        raise VolumesInUse(None, [(path, tuple(sorted(users[path], key=lambda u: u.name)))
                                  for path in sorted(users)])


def disk_files(conn, xml, volumes=None):
    """`[(path, device)]` of the disks and CD-ROMs of a domain's XML; a `<disk type='volume'>`
    by its volume's path (`volumes` keeps those looked up, for the next XML)."""
    volumes = {} if volumes is None else volumes
    found = []
    for disk in domainxml.parse(xml).disks:
        path = disk.path
        if path is None and disk.pool and disk.volume:
            if (disk.pool, disk.volume) not in volumes:
                volumes[disk.pool, disk.volume] = _volume_path(conn, disk.pool, disk.volume)
            path = volumes[disk.pool, disk.volume]
        if path:
            found.append((path, disk.device))
    return found


def _volume_path(conn, pool, volume):
    try:
        return conn.storagePoolLookupByName(pool).storageVolLookupByName(volume).path()
    except libvirt.libvirtError as error:
        if error.get_error_code() in (libvirt.VIR_ERR_NO_STORAGE_POOL,
                                      libvirt.VIR_ERR_NO_STORAGE_VOL):
            return None     # libvirt's own check of the definition says what is missing
        raise


# -- volumes for the rest of the service (making and cloning VMs) -------------------------------

def volume_xml(name, capacity, fmt, allocation=None):
    """The XML of a new volume of `capacity` bytes in the format `fmt` (`allocation` bytes of
    it taken at once; libvirt's default is all of it)."""
    taken = "" if allocation is None else f"<allocation unit='bytes'>{allocation}</allocation>"
    return (f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
            f"{taken}<target><format type='{escape(fmt)}'/></target></volume>")


def volume_at(conn, path):
    """The volume of a pool at `path`, or None when no pool holds that file."""
    try:
        return conn.storageVolLookupByPath(path)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None
        raise


def clone_volume(vol, name):
    """A copy of `vol` named `name` in the same pool (its format kept); refused when the name
    is taken or the pool lacks room for the data."""
    pool = vol.storagePoolLookupByVolume()
    if name in pool.listVolumes():
        raise Refused(f"the pool {pool.name()} has a volume named {name} already")
    _, capacity, allocation = vol.info()
    check_room(pool, allocation)
    fmt = ET.fromstring(vol.XMLDesc(0)).find("target/format")
    kind = fmt.get("type", "raw") if fmt is not None else "raw"
    # The copy takes what the original takes, as the room check assumed (not its capacity).
    return pool.createXMLFrom(volume_xml(name, capacity, kind, allocation), vol, 0)


def delete_quietly(vol):
    """Delete a volume made for a request that failed; one already gone is fine."""
    try:
        vol.delete(0)
    except libvirt.libvirtError:
        pass
