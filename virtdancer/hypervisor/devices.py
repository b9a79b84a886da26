"""The devices of one VM: what its disks, CD-ROMs, NICs and displays are, and changing them.

Operators change a CD-ROM's medium; admins attach and detach disks and NICs, live (the
running VM), persistent (its definition) or both. Reading the XML is domainxml's job, showing
the devices device_detail's; this module finds them where they are and makes the changes. A
failed attach deletes the volume made for it.
"""

import math
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import libvirt

from . import domainxml
from .device_cache import DeviceCache, DeviceEntry
from .device_detail import cdrom_answer, disk_answer, guest_addresses, nic_answer
from .errors import (
    HypervisorFailure,
    InvalidRequest,
    NoSuchDevice,
    NoSuchNetwork,
    Refused,
)
from .fleet import state_name
from .storage import (
    VolumesInUse,
    VolumeUser,
    delete_quietly,
    disk_files,
    refuse_others_disks,
    volume_xml,
)

GIB = 1024 ** 3
_LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
_CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
# What libvirt answers when a device change is not possible in the VM's state (a bus that
# cannot be hot-plugged, a locked tray): a 409 that says so, rather than a 502.
_REFUSALS = {libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_OPERATION_FAILED,
             libvirt.VIR_ERR_OPERATION_UNSUPPORTED}
# Buses QEMU cannot plug a disk into while the VM runs.
COLD_PLUG_BUSES = ("sata", "ide")


class Devices:
    """The devices of the VMs of one host (a `HostConnection`)."""

    def __init__(self, host):
        self.host = host
        self.cache = DeviceCache(host)

    # -- reading ---------------------------------------------------------------------------

    def describe(self, ref):
        """`{disks, cdroms, nics, graphics, boot}` of the VM `ref` (a `DomainRef`: found by
        the request already, so neither looked up nor asked its state again), as the detail
        of one VM shows them.

        All from the one XML it reads: a running VM's as it runs, so a boot order changed in
        its definition shows from its next boot on (the PATCH answer's `next_boot` says so).
        The XML's parse is kept until libvirt says the VM changed; volumes and addresses are
        asked again when older than the cache's `fresh_for` (see device_cache).
        """
        cache = self.cache
        with self.host.session() as conn:
            dom = ref.handle
            entry, stamp = cache.entry(ref.uuid, ref.id)
            if entry is None:
                entry = DeviceEntry(ref.id, domainxml.parse(dom.XMLDesc(0)))
                cache.keep(ref.uuid, stamp, entry)
            found = entry.found
            if cache.stale(entry.sizes_at):
                disks = [disk_answer(conn, dom, disk) for disk in found.disks
                         if disk.device != "cdrom"]
                cdroms = [cdrom_answer(conn, disk) for disk in found.disks
                          if disk.device == "cdrom"]
                entry.disks, entry.cdroms, entry.sizes_at = disks, cdroms, cache.clock()
            else:
                disks, cdroms = entry.disks, entry.cdroms
            if not ref.active:
                addresses = {}
            elif cache.stale(entry.addresses_at):
                addresses = guest_addresses(dom, found)
                entry.addresses, entry.addresses_at = addresses, cache.clock()
            else:
                addresses = entry.addresses
            # Fresh lists each time: the entry's are shared by every request that reads it.
            return {
                "disks": list(disks),
                "cdroms": list(cdroms),
                "nics": [nic_answer(nic, addresses.get(nic.mac, [])) for nic in found.nics],
                "graphics": [graphics._asdict() for graphics in found.graphics],
                "boot": list(found.boot),
            }

    @contextmanager
    def _changing(self, uuid):
        """The session of a change to the VM `uuid`: whatever came of it, its devices are
        read again at its next detail (libvirt's event would say so, but later)."""
        try:
            with self.host.session() as conn:
                yield conn
        finally:
            self.host.changed(uuid)

    # -- CD-ROM media ----------------------------------------------------------------------

    def change_medium(self, uuid, target, pool=None, volume=None):
        """Insert the ISO `volume` of `pool` into the CD-ROM drive `target`, or eject its
        medium (no volume); in the running VM and in its definition."""
        with self._changing(uuid) as conn:
            dom = conn.lookupByUUIDString(uuid)
            path = _volume(conn, pool, volume).path() if volume else None
            if path is not None:
                refuse_others_disks(conn, [path], but=uuid)
            placed = _placed(dom, target, live=None, persistent=None)
            drive = placed.device
            if drive.device != "cdrom":
                raise NoSuchDevice(f"the VM has no CD-ROM drive {target} ({target} is a "
                                   f"{drive.device})")
            doing = f"insert {volume} into {target}" if volume else f"eject {target}"
            with _refusing(dom, doing):
                dom.updateDeviceFlags(_medium_xml(drive, path), placed.flags)
            return cdrom_answer(conn, _placed(dom, target, None, None).device)

    # -- disks -----------------------------------------------------------------------------

    def attach_disk(self, uuid, spec):
        """Attach an existing volume or a new one (`size_gib`, `format`) of `spec["pool"]`;
        answer the disk as the detail shows it."""
        with self._changing(uuid) as conn:
            dom = conn.lookupByUUIDString(uuid)
            flags = _flags(dom, spec.get("live"), spec.get("persistent"))
            bus = spec.get("bus") or "virtio"
            taken = _targets(dom)
            target = spec.get("target") or domainxml.next_target(taken, bus)
            prefix = domainxml.BUS_PREFIXES.get(bus, "sd")
            if not target.startswith(prefix):
                raise InvalidRequest(f"target: a drive on the {bus} bus is named {prefix}a, "
                                     f"{prefix}b, ..., not {target}")
            if target in taken:
                raise Refused(f"the VM has a drive {target} already")
            if flags & _LIVE and bus in COLD_PLUG_BUSES:
                # QEMU answers this with an "internal error" (a 502): said here, as the 409 it is.
                raise Refused(f"a disk on the {bus} bus cannot be attached to a running VM: "
                              f"attach it with live=false (it is there from the next boot) "
                              f"or on the virtio or scsi bus")
            pool = _pool(conn, spec["pool"])
            made = None
            if spec.get("volume"):
                vol = _volume(conn, spec["pool"], spec["volume"])
                users = _users_of(conn, vol.path())
                if users:
                    raise VolumesInUse(spec["pool"], [(spec["volume"], users)])
            else:
                vol = made = _new_volume(pool, f"{dom.name()}-{target}", spec)
            try:
                with _refusing(dom, f"attach the disk {target}"):
                    dom.attachDeviceFlags(_disk_xml(vol, target, bus), flags)
            except BaseException:
                if made is not None:
                    delete_quietly(made)
                raise
            return disk_answer(conn, dom, _find(_xml_of(dom, flags), target))

    def detach_disk(self, uuid, target, live=None, persistent=None):
        """Detach the disk `target` (its volume stays); `{..., pending}` says when the running
        VM has not let go of it yet (its guest must agree)."""
        with self._changing(uuid) as conn:
            dom = conn.lookupByUUIDString(uuid)
            placed = _placed(dom, target, live, persistent)
            if placed.device.device == "cdrom":
                raise Refused(f"{target} is a CD-ROM drive: change or eject its medium with "
                              f"PUT or DELETE /vm/{uuid}/cdroms/{target}")
            with _refusing(dom, f"detach the disk {target}"):
                dom.detachDeviceFlags(ET.tostring(placed.device.element, encoding="unicode"),
                                      placed.flags)
            pending = bool(placed.flags & _LIVE) and _has_target(dom, target)
            return _detached(placed.flags, pending)

    # -- NICs ------------------------------------------------------------------------------

    def attach_nic(self, uuid, spec):
        """Attach a NIC on a virtual network or a host bridge; answer it as the detail shows
        it (a MAC libvirt chose when none was asked)."""
        with self._changing(uuid) as conn:
            dom = conn.lookupByUUIDString(uuid)
            flags = _flags(dom, spec.get("live"), spec.get("persistent"))
            if spec.get("network"):
                _network(conn, spec["network"])
            mac = (spec.get("mac") or "").lower() or None
            if mac:
                _refuse_taken_mac(conn, mac)
            before = {nic.mac for nic in domainxml.parse(_xml_of(dom, flags)).nics}
            with _refusing(dom, "attach the NIC"):
                dom.attachDeviceFlags(_nic_xml(spec, mac), flags)
            added = [nic for nic in domainxml.parse(_xml_of(dom, flags)).nics
                     if nic.mac == mac or (mac is None and nic.mac not in before)]
            if not added:
                raise HypervisorFailure("libvirt attached the NIC but does not list it")
            return nic_answer(added[0], [])

    def detach_nic(self, uuid, mac, live=None, persistent=None):
        """Detach the NIC with this MAC; `{..., pending}` as `detach_disk`'s."""
        mac = mac.lower()
        with self._changing(uuid) as conn:
            dom = conn.lookupByUUIDString(uuid)
            placed = _placed_nic(dom, mac, live, persistent)
            with _refusing(dom, f"detach the NIC {mac}"):
                dom.detachDeviceFlags(ET.tostring(placed.device.element, encoding="unicode"),
                                      placed.flags)
            pending = bool(placed.flags & _LIVE) and any(
                nic.mac == mac for nic in domainxml.parse(dom.XMLDesc(0)).nics)
            return _detached(placed.flags, pending)


# -- where a device is: the running VM, its definition or both ----------------------------------

class _Placed:
    """A device found in the configurations asked for, and the flags that change it there."""

    def __init__(self, device, flags):
        self.device = device
        self.flags = flags


def _flags(dom, live, persistent):
    """The AFFECT flags of a change: by default the running VM (if it runs) and the
    definition (if it has one); refused where the VM lacks what was asked for."""
    active, defined = bool(dom.isActive()), bool(dom.isPersistent())
    live = active if live is None else live
    persistent = defined if persistent is None else persistent
    if live and not active:
        raise Refused("the VM is not running: a live change needs a running VM (ask with "
                      "live=false)")
    if persistent and not defined:
        raise Refused("the VM is transient: it has no definition to change (ask with "
                      "persistent=false)")
    if not (live or persistent):
        raise InvalidRequest("live and persistent are both false: nothing would change")
    return (_LIVE if live else 0) | (_CONFIG if persistent else 0)


def _configs(dom, flags):
    """`[(flag, devices)]` of each configuration `flags` names."""
    found = []
    if flags & _LIVE:
        found.append((_LIVE, domainxml.parse(dom.XMLDesc(0))))
    if flags & _CONFIG:
        found.append((_CONFIG, domainxml.parse(
            dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))))
    return found


def _placed(dom, target, live, persistent):
    """The disk or CD-ROM drive `target` where it is (or where asked): `NoSuchDevice` if it
    is in none of them, or missing from one that was asked for explicitly."""
    return _place(dom, live, persistent, lambda devices: _find_in(devices.disks, target),
                  f"no drive {target}")


def _placed_nic(dom, mac, live, persistent):
    return _place(dom, live, persistent,
                  lambda devices: next((nic for nic in devices.nics if nic.mac == mac), None),
                  f"no NIC with the MAC {mac}")


def _place(dom, live, persistent, pick, missing):
    asked = _flags(dom, live, persistent)
    device, flags = None, 0
    for flag, devices in _configs(dom, asked):
        found = pick(devices)
        explicit = (live if flag == _LIVE else persistent) is not None
        if found is None:
            if explicit:
                where = "the running VM" if flag == _LIVE else "the VM's definition"
                raise NoSuchDevice(f"{missing} in {where}")
            continue
        device = device or found
        flags |= flag
    if device is None:
        raise NoSuchDevice(f"the VM has {missing}")
    return _Placed(device, flags)


def _find_in(disks, target):
    return next((disk for disk in disks if disk.target == target), None)


def _find(xml, target):
    return _find_in(domainxml.parse(xml).disks, target)


def _xml_of(dom, flags):
    """The live XML when the change was live, else the definition's."""
    return dom.XMLDesc(0 if flags & _LIVE else libvirt.VIR_DOMAIN_XML_INACTIVE)


def _targets(dom):
    """Every drive name the VM has, running or defined."""
    names = {disk.target for disk in domainxml.parse(dom.XMLDesc(0)).disks}
    if dom.isActive() and dom.isPersistent():
        names |= {disk.target for disk in domainxml.parse(
            dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).disks}
    return names


def _has_target(dom, target):
    return _find(dom.XMLDesc(0), target) is not None


def _detached(flags, pending):
    return {"result": "detached", "live": bool(flags & _LIVE),
            "persistent": bool(flags & _CONFIG), "pending": pending}


@contextmanager
def _refusing(dom, doing):
    """Turn libvirt's refusal of a device change into a 409 that names the VM's state."""
    try:
        yield
    except libvirt.libvirtError as error:
        if error.get_error_code() not in _REFUSALS:
            raise
        try:
            state = state_name(dom.state()[0])
        except libvirt.libvirtError:
            state = "in an unknown state"
        raise Refused(f"libvirt refuses to {doing} while the VM is {state}: "
                      f"{error.get_error_message() or error}") from None


# -- storage and networks -----------------------------------------------------------------------

def _pool(conn, name):
    # A missing pool is libvirt's VIR_ERR_NO_STORAGE_POOL, which the session makes a 404.
    return conn.storagePoolLookupByName(name)


def _volume(conn, pool, name):
    return _pool(conn, pool).storageVolLookupByName(name)


def _new_volume(pool, stem, spec):
    fmt = spec.get("format") or "qcow2"
    size = math.ceil(spec["size_gib"] * GIB)
    available = pool.info()[3]
    if size > available:
        raise InvalidRequest(f"size_gib: {spec['size_gib']} GiB is more than the pool "
                             f"{pool.name()}'s {available / GIB:.2f} GiB available")
    name = f"{stem}.{fmt}"
    if name in pool.listVolumes():
        raise Refused(f"the pool {pool.name()} has a volume named {name} already")
    return pool.createXML(volume_xml(name, size, fmt), 0)


def _users_of(conn, path):
    """The VMs (`VolumeUser`) whose disks or CD-ROM drives name `path`, sorted by name."""
    users = []
    volumes = {}
    for dom in conn.listAllDomains(0):
        try:
            paths = disk_files(conn, dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), volumes)
            if dom.isActive():
                paths += disk_files(conn, dom.XMLDesc(0), volumes)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue    # undefined meanwhile
            raise
        if any(found == path for found, _ in paths):
            users.append(VolumeUser(dom.UUIDString(), dom.name()))
    return tuple(sorted(users, key=lambda user: user.name))


def _network(conn, name):
    try:
        return conn.networkLookupByName(name)
    except libvirt.libvirtError as error:
        if error.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
            raise NoSuchNetwork(f"no virtual network named {name}") from None
        raise


def _refuse_taken_mac(conn, mac):
    for dom in conn.listAllDomains(0):
        try:
            nics = domainxml.parse(dom.XMLDesc(0)).nics
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue
            raise
        if any(nic.mac == mac for nic in nics):
            raise Refused(f"the MAC address {mac} is taken by a NIC of a VM on this host")


# -- device XML ---------------------------------------------------------------------------------

def _is_block(vol):
    return vol.info()[0] == libvirt.VIR_STORAGE_VOL_BLOCK


def _disk_xml(vol, target, bus):
    fmt = ET.fromstring(vol.XMLDesc(0)).find("target/format")
    block = _is_block(vol)
    disk = ET.Element("disk", type="block" if block else "file", device="disk")
    ET.SubElement(disk, "driver", name="qemu",
                  type=fmt.get("type", "raw") if fmt is not None else "raw")
    ET.SubElement(disk, "source", **({"dev": vol.path()} if block else {"file": vol.path()}))
    ET.SubElement(disk, "target", dev=target, bus=bus)
    return ET.tostring(disk, encoding="unicode")


def _medium_xml(drive, path):
    """The CD-ROM drive `drive` with `path` as its medium (None: empty)."""
    disk = ET.Element("disk", type="file", device="cdrom")
    old = drive.element
    driver = old.find("driver")
    ET.SubElement(disk, "driver", name=driver.get("name", "qemu") if driver is not None
                  else "qemu", type="raw")
    if path:
        ET.SubElement(disk, "source", file=path)
    ET.SubElement(disk, "target", **{key: value for key, value
                                     in old.find("target").attrib.items()
                                     if key in ("dev", "bus")})
    ET.SubElement(disk, "readonly")
    address = old.find("address")
    if address is not None:
        disk.append(address)
    return ET.tostring(disk, encoding="unicode")


def _nic_xml(spec, mac):
    if spec.get("bridge"):
        nic = ET.Element("interface", type="bridge")
        ET.SubElement(nic, "source", bridge=spec["bridge"])
    else:
        nic = ET.Element("interface", type="network")
        ET.SubElement(nic, "source", network=spec["network"])
    if mac:
        ET.SubElement(nic, "mac", address=mac)
    ET.SubElement(nic, "model", type=spec.get("model") or "virtio")
    return ET.tostring(nic, encoding="unicode")
