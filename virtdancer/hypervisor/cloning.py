"""Cloning a shut-off VM on one host: a new name, UUID and MACs, and a copy of each disk.

Each disk volume is copied in its own pool (libvirt's storageVolCreateXMLFrom); CD-ROMs and
read-only or shareable disks keep pointing at the same file. When a step fails, every volume
made so far is deleted, so a refused clone leaves nothing behind.
"""

import uuid as uuidlib
import xml.etree.ElementTree as ET

import libvirt

from .errors import Refused
from .provisioning import define
from .storage import check_room, clone_volume, delete_quietly, volume_at


class Cloning:
    """Clone the VMs of one host (a `HostConnection`)."""

    def __init__(self, host):
        self.host = host

    def check(self, uuid, name):
        """Refuse now what cloning `uuid` as `name` would refuse: a running VM, a name taken,
        a disk not in a pool, a copy's volume name taken, a pool without room for the copies."""
        with self.host.session() as conn:
            dom, root = _original(conn, uuid, name)
            _check_copies(_disk_volumes(conn, root), dom.name(), name)

    def clone(self, uuid, name):
        """Make a copy of the shut-off VM `uuid` named `name`; answer the copy's UUID."""
        with self.host.session() as conn:
            # Checked again: a task runs a while after the request was checked.
            dom, root = _original(conn, uuid, name)
            disks = _disk_volumes(conn, root)
            _check_copies(disks, dom.name(), name)
            made = []
            try:
                for source, attribute, vol in disks:
                    copy = clone_volume(vol, _copy_name(vol.name(), dom.name(), name))
                    made.append(copy)
                    source.set(attribute,
                               copy.name() if attribute == "volume" else copy.path())
                _rename(root, name)
                return define(conn, ET.tostring(root, encoding="unicode")).UUIDString()
            except BaseException:
                for vol in made:
                    delete_quietly(vol)
                raise


def _original(conn, uuid, name):
    """The VM to copy and its inactive definition; refused when it runs or `name` is taken."""
    dom = conn.lookupByUUIDString(uuid)
    if dom.isActive():
        raise Refused(f"{dom.name()} is running: only a shut-off VM is cloned (its "
                      "disks would change while they are copied)")
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError as error:
        if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
    else:
        raise Refused(f"a VM named {name!r} exists already on this host")
    # SECURE: a copy keeps the original's display password, as a copy should.
    return dom, ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE
                                          | libvirt.VIR_DOMAIN_XML_SECURE))


def _rename(root, name):
    """A new name and UUID; no MAC (libvirt makes new ones) and no NVRAM file of the original."""
    root.find("name").text = name
    uuid = root.find("uuid")
    if uuid is None:
        uuid = ET.SubElement(root, "uuid")
    uuid.text = str(uuidlib.uuid4())
    for interface in root.iterfind("devices/interface"):
        for mac in interface.findall("mac"):
            interface.remove(mac)
    os_ = root.find("os")
    if os_ is not None:
        for nvram in os_.findall("nvram"):
            os_.remove(nvram)


def _disk_volumes(conn, root):
    """`(source element, attribute naming the volume, volume)` of each writable disk."""
    found = []
    for disk in root.iterfind("devices/disk"):
        source = disk.find("source")
        if disk.get("device", "disk") != "disk" or source is None \
                or disk.find("readonly") is not None or disk.find("shareable") is not None:
            continue
        target = disk.find("target")
        where = target.get("dev") if target is not None else "?"
        if source.get("pool") and source.get("volume"):     # <disk type='volume'>
            vol = conn.storagePoolLookupByName(source.get("pool")).storageVolLookupByName(
                source.get("volume"))
            attribute = "volume"
        else:
            attribute = "file" if source.get("file") else "dev" if source.get("dev") else None
            vol = volume_at(conn, source.get(attribute)) if attribute else None
        if vol is None:
            raise Refused(f"the disk {where} is not a volume of a pool: VirtDancer clones "
                          "only disks that are volumes of a pool")
        found.append((source, attribute, vol))
    return found


def _check_copies(disks, old_name, new_name):
    """Refuse copies whose names are taken, or that their pools have no room for together."""
    wanted = {}
    for _, _, vol in disks:
        pool = vol.storagePoolLookupByVolume()
        copy = _copy_name(vol.name(), old_name, new_name)
        if copy in pool.listVolumes():
            raise Refused(f"the pool {pool.name()} has a volume named {copy} already")
        taken, _ = wanted.get(pool.name(), (0, pool))
        wanted[pool.name()] = (taken + vol.info()[2], pool)
    for taken, pool in wanted.values():
        check_room(pool, taken)


def _copy_name(volume, old_name, new_name):
    """`web-1-disk0.qcow2` of `web-1` is `web-2-disk0.qcow2` for `web-2`; others get a prefix."""
    if volume.startswith(old_name):
        return new_name + volume[len(old_name):]
    return f"{new_name}-{volume}"
