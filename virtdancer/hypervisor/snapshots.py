"""Snapshots of a VM: its tree, and taking, reverting to and deleting internal snapshots.

VirtDancer takes libvirt's internal snapshots: kept inside the VM's qcow2 disks, with the
VM's memory when it runs. So a VM without disks, or with a disk of another format (raw), cannot
have one, and libvirt's QEMU driver keeps a running VM's internal snapshot only with its memory:
each refusal is a `Refused` in words, before libvirt is asked.
"""

import xml.etree.ElementTree as ET

import libvirt

from .errors import NoSuchDomain, Refused
from .fleet import state_name


class NoSuchSnapshot(NoSuchDomain):
    """The VM has no snapshot of this name (a 404, like a missing domain)."""


def _text(root, path, default=None):
    found = root.find(path)
    return found.text if found is not None and found.text is not None else default


def describe(snapshot, current_name):
    """The snapshot as the API answers it."""
    root = ET.fromstring(snapshot.getXMLDesc(0))
    name = _text(root, "name")
    memory = root.find("memory")
    with_memory = memory is not None and memory.get("snapshot") not in (None, "no")
    return {"name": name, "parent": _text(root, "parent/name"),
            "created": float(_text(root, "creationTime", "0")),
            "state": _text(root, "state", "unknown"),
            "description": _text(root, "description", ""),
            "memory": with_memory, "current": name == current_name}


def _snapshot_disks(dom):
    """(target, format) of each disk of the VM an internal snapshot keeps."""
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    disks = []
    for disk in root.iterfind("devices/disk"):
        if disk.get("device", "disk") != "disk" or disk.find("readonly") is not None:
            continue
        driver = disk.find("driver")
        disks.append((disk.find("target").get("dev") if disk.find("target") is not None
                      else "?", driver.get("type", "raw") if driver is not None else "raw"))
    return disks


class Snapshots:
    """The snapshots of one host's VMs (a `HostConnection`)."""

    def __init__(self, host):
        self.host = host

    def tree(self, uuid):
        """Every snapshot of the VM, parents before their children, oldest first."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            current = self._current_name(dom)
            found = [describe(snapshot, current) for snapshot in dom.listAllSnapshots(0)]
        found.sort(key=lambda snapshot: (snapshot["created"], snapshot["name"]))
        return _parents_first(found)

    def one(self, uuid, name):
        """The snapshot `name` of the VM; `NoSuchSnapshot` if it has none of that name."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            return describe(self._lookup(dom, name), self._current_name(dom))

    def check_new(self, uuid, name, memory):
        """`Refused`, in words, unless a snapshot `name` (with `memory`) can be taken now."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            vm = dom.name()
            disks = _snapshot_disks(dom)
            if not disks:
                raise Refused(f"{vm} has no disk: a snapshot is kept in the VM's qcow2 disks")
            other = [f"{target} is {fmt}" for target, fmt in disks if fmt != "qcow2"]
            if other:
                raise Refused(f"{vm} cannot have internal snapshots: its disk "
                              f"{', '.join(other)}, and only qcow2 disks keep them")
            running = dom.isActive()
            if memory and not running:
                raise Refused(f"{vm} is {state_name(dom.state()[0])}: only a running VM's "
                              "memory can be kept (take it with memory false)")
            if running and not memory:
                raise Refused(f"{vm} is running: libvirt keeps a running VM's snapshot only "
                              "with its memory (take it with memory true, or shut it down "
                              "first)")
            try:
                dom.snapshotLookupByName(name, 0)
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                    raise
            else:
                raise Refused(f"{vm} has a snapshot named {name!r} already")

    def create(self, uuid, name, description, memory):
        """Take the snapshot (checked by `check_new`); answer it as `tree` lists it."""
        self.check_new(uuid, name, memory)
        root = ET.Element("domainsnapshot")
        ET.SubElement(root, "name").text = name
        ET.SubElement(root, "description").text = description or ""
        ET.SubElement(root, "memory", snapshot="internal" if memory else "no")
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            snapshot = dom.snapshotCreateXML(ET.tostring(root, encoding="unicode"), 0)
            return describe(snapshot, name)

    def revert(self, uuid, name, start):
        """Bring the VM back to the snapshot; running afterwards if `start`, else as it was
        when taken. Answers `{snapshot, state}` of the VM afterwards."""
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING if start else 0
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            dom.revertToSnapshot(self._lookup(dom, name), flags)
            if start and not dom.isActive():    # a driver that ignores the flag (test:///)
                dom.create()
            return {"snapshot": name, "state": state_name(dom.state()[0])}

    def delete(self, uuid, name, children):
        """Delete the snapshot (and its descendants if `children`); answer the names removed."""
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            snapshot = self._lookup(dom, name)
            removed = [name]
            if children:
                removed += [child.getName() for child in snapshot.listAllChildren(
                    libvirt.VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS)]
            snapshot.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN if children else 0)
            return removed

    def _lookup(self, dom, name):
        try:
            return dom.snapshotLookupByName(name, 0)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                raise NoSuchSnapshot(f"{dom.name()} has no snapshot named {name!r}") from None
            raise

    @staticmethod
    def _current_name(dom):
        try:
            return dom.snapshotCurrent(0).getName() if dom.hasCurrentSnapshot(0) else None
        except libvirt.libvirtError:
            return None


def _parents_first(snapshots):
    """The snapshots in tree order: each parent before its children, siblings oldest first."""
    children = {}
    for snapshot in snapshots:
        children.setdefault(snapshot["parent"], []).append(snapshot)
    known = {snapshot["name"] for snapshot in snapshots}
    ordered, stack = [], [s for s in snapshots if s["parent"] not in known][::-1]
    while stack:
        snapshot = stack.pop()
        ordered.append(snapshot)
        stack.extend(children.get(snapshot["name"], [])[::-1])
    return ordered
