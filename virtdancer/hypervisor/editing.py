"""Changing a VM's definition on one host: a few settings at once, or its whole XML.

A settings change is written into the persistent definition in one define (libvirt validates
it whole), then applied to the running VM where libvirt can; what it cannot apply live waits for
the next boot, and the caller is told which. A step that fails restores what the earlier ones
changed, so a refused request leaves the VM as it was.
"""

import hashlib
import xml.etree.ElementTree as ET

import libvirt

from .errors import DefinitionChanged, InvalidRequest, Refused
from .provisioning import define
from .storage import disk_files, refuse_others_disks

KIB_PER_MIB = 1024
# The PATCH fields that only the persistent definition holds: a running VM never changes them.
_DEFINITION_ONLY = ("max_memory",)


def xml_version(xml):
    """A digest of a definition: two versions of it differ exactly when their XML does."""
    return hashlib.sha256(xml.encode("utf-8")).hexdigest()[:40]


def definition_of(dom, secrets=False):
    """The XML a VM is defined with (a transient VM's live one); its secrets only if asked."""
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE if dom.isPersistent() else 0
    return dom.XMLDesc(flags | (libvirt.VIR_DOMAIN_XML_SECURE if secrets else 0))


class Editing:
    """Edit the definitions of the VMs of one host (a `HostConnection`)."""

    def __init__(self, host, provisioning):
        self.host = host
        self.provisioning = provisioning

    # -- settings (PATCH) -------------------------------------------------------------------

    def update(self, uuid, changes):
        """Apply `changes` (vcpus, memory, max_memory in MiB, autostart, description, boot).

        Answers the names of the changed fields that wait for the VM's next boot.
        """
        sized = {"vcpus", "memory", "max_memory"} & set(changes)
        caps = self.provisioning.capabilities() if sized else None
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            if not dom.isPersistent():
                raise Refused(f"{dom.name()} is transient: it has no definition to edit")
            # With its secrets: what is defined again keeps its display's password.
            before = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
            root = ET.fromstring(before)
            if caps is not None:
                _check_bounds(root, changes, caps)
            undo = []
            try:
                if set(changes) - {"autostart"}:
                    define(conn, ET.tostring(edited(root, changes), encoding="unicode"))
                    undo.append(lambda: define(conn, before))
                if "autostart" in changes:
                    was = bool(dom.autostart())
                    dom.setAutostart(1 if changes["autostart"] else 0)
                    undo.append(lambda: dom.setAutostart(1 if was else 0))
                return _apply_live(dom, changes, undo) if dom.isActive() else []
            except BaseException:
                _undo(undo)
                raise

    # -- the whole definition (GET and PUT .../xml, POST /vm as XML) -------------------------

    def definition(self, uuid):
        """The VM's definition as XML."""
        with self.host.session() as conn:
            return definition_of(conn.lookupByUUIDString(uuid))

    def replace(self, uuid, xml, versions):
        """Define `xml` in place of the VM's definition, if that is still of one of `versions`
        (of `xml_version`; None: whatever it is now).

        The name and UUID stay: a new name or UUID would be another VM.
        """
        with self.host.session() as conn:
            dom = conn.lookupByUUIDString(uuid)
            if versions is not None and xml_version(definition_of(dom)) not in versions:
                raise DefinitionChanged(f"the definition of {dom.name()} changed since that "
                                        "version was read: read it again and redo the edit")
            root = ET.fromstring(xml)
            if root.findtext("name") != dom.name():
                raise InvalidRequest(f"the XML renames the VM: its <name> is to stay "
                                     f"{dom.name()}")
            named = root.findtext("uuid")
            if named is not None and named.strip().lower() != uuid.lower():
                raise InvalidRequest(f"the XML changes the VM's UUID: its <uuid> is to stay "
                                     f"{uuid} (or be left out)")
            refuse_others_disks(conn, _paths(conn, xml), but=uuid)
            define(conn, _keeping_passwords(root, definition_of(dom, secrets=True)) or xml)

    def define_new(self, xml):
        """Define a new VM from its XML; answer its UUID. A name or UUID in use is refused."""
        root = ET.fromstring(xml)
        name, named_uuid = root.findtext("name"), (root.findtext("uuid") or "").strip()
        with self.host.session() as conn:
            # libvirt would take a known name and UUID as an edit of that VM: refused here.
            if _exists(lambda: conn.lookupByName(name)):
                raise Refused(f"a VM named {name!r} exists already on this host")
            if named_uuid and _exists(lambda: conn.lookupByUUIDString(named_uuid)):
                raise Refused(f"a VM with the UUID {named_uuid} exists already on this host")
            refuse_others_disks(conn, _paths(conn, xml))
            return define(conn, xml).UUIDString()


def _keeping_passwords(root, current):
    """`root` as XML with each display that names no password given the one the VM's display
    of that type has (GET .../xml never shows them, so an edit of it must not remove them);
    None when there was none to give."""
    kept = {}
    for display in ET.fromstring(current).iterfind("devices/graphics"):
        if display.get("passwd") is not None:
            kept.setdefault(display.get("type"), []).append(display)
    given = False
    for display in root.iterfind("devices/graphics"):
        if display.get("passwd") is None and kept.get(display.get("type")):
            old = kept[display.get("type")].pop(0)
            for attribute in ("passwd", "passwdValidTo"):
                if old.get(attribute) is not None:
                    display.set(attribute, old.get(attribute))
            given = True
    return ET.tostring(root, encoding="unicode") if given else None


def _paths(conn, xml):
    """The files and devices the disks and CD-ROMs of a domain's XML name."""
    return [path for path, _ in disk_files(conn, xml)]


def _exists(lookup):
    try:
        lookup()
    except libvirt.libvirtError as error:
        if error.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_INVALID_ARG):
            return False
        raise
    return True


def _mib(element, default=None):
    """A memory element's size in MiB (libvirt writes KiB)."""
    if element is None or not (element.text or "").strip():
        return default
    scale = {"b": 1 / 1024 ** 2, "bytes": 1 / 1024 ** 2, "k": 1 / 1024, "kib": 1 / 1024,
             "m": 1, "mib": 1, "g": 1024, "gib": 1024}
    return int(element.text) * scale.get(element.get("unit", "KiB").lower(), 1 / 1024)


def _check_bounds(root, changes, caps):
    """Refuse, in words, vCPUs and memory beyond the host, and memory above the maximum."""
    if changes.get("vcpus", 0) > caps["max_vcpus"]:
        raise InvalidRequest(f"vcpus: {changes['vcpus']} is more than this host's maximum "
                             f"of {caps['max_vcpus']}")
    host = caps["host_memory_mib"]
    for field in ("memory", "max_memory"):
        if changes.get(field, 0) > host:
            raise InvalidRequest(f"{field}: {changes[field]} MiB is more than this host's "
                                 f"{host} MiB")
    maximum = changes.get("max_memory", _mib(root.find("memory")))
    memory = changes.get("memory", _mib(root.find("currentMemory"), maximum))
    if maximum is not None and memory > maximum:
        raise InvalidRequest(f"memory: {memory:g} MiB is more than the maximum memory of "
                             f"{maximum:g} MiB (raise max_memory too)")


def edited(root, changes):
    """The definition `root` with `changes` written into it (`root` is changed)."""
    if "vcpus" in changes:
        vcpu = root.find("vcpu")
        if vcpu is None:
            vcpu = ET.SubElement(root, "vcpu")
        vcpu.text = str(changes["vcpus"])
        vcpu.attrib.pop("current", None)
        # Per-vCPU hot-plug settings name the old count: libvirt would refuse them.
        for element in root.findall("vcpus"):
            root.remove(element)
    if "max_memory" in changes:
        _set_memory(root, "memory", changes["max_memory"])
    if "memory" in changes:
        _set_memory(root, "currentMemory", changes["memory"])
    if "description" in changes:
        for element in root.findall("description"):
            root.remove(element)
        if changes["description"]:
            ET.SubElement(root, "description").text = changes["description"]
    if "boot" in changes:
        os_ = root.find("os")
        for element in os_.findall("boot"):
            os_.remove(element)
        # libvirt refuses a boot order of the devices' own beside the <os> one.
        for device in root.iterfind("devices/*"):
            for element in device.findall("boot"):
                device.remove(element)
        for name in changes["boot"]:
            ET.SubElement(os_, "boot", dev=name)
    return root


def _set_memory(root, tag, mib):
    element = root.find(tag)
    if element is None:
        element = ET.SubElement(root, tag)
    element.attrib.clear()
    element.set("unit", "KiB")
    element.text = str(int(mib * KIB_PER_MIB))


def _apply_live(dom, changes, undo):
    """Apply `changes` to the running VM where libvirt can; answer what waits for the boot."""
    waiting = [field for field in _DEFINITION_ONLY if field in changes]
    _, live_max_kib, live_kib, live_vcpus, _ = dom.info()
    if "vcpus" in changes and changes["vcpus"] != live_vcpus:
        if _try(lambda: dom.setVcpusFlags(changes["vcpus"], libvirt.VIR_DOMAIN_AFFECT_LIVE)):
            undo.append(lambda: dom.setVcpusFlags(live_vcpus, libvirt.VIR_DOMAIN_AFFECT_LIVE))
        else:
            waiting.append("vcpus")
    if "memory" in changes and changes["memory"] * KIB_PER_MIB != live_kib:
        wanted = changes["memory"] * KIB_PER_MIB
        if wanted <= live_max_kib and _try(
                lambda: dom.setMemoryFlags(wanted, libvirt.VIR_DOMAIN_AFFECT_LIVE)):
            undo.append(lambda: dom.setMemoryFlags(live_kib, libvirt.VIR_DOMAIN_AFFECT_LIVE))
        else:
            waiting.append("memory")
    if "description" in changes:
        dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, changes["description"] or None,
                        None, None, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    if "boot" in changes:
        live = [boot.get("dev") for boot in ET.fromstring(dom.XMLDesc(0)).findall("os/boot")]
        if live != list(changes["boot"]):
            waiting.append("boot")
    return [field for field in ("vcpus", "memory", "max_memory", "boot") if field in waiting]


def _try(call):
    """Whether libvirt did it: a live change it cannot make waits for the next boot instead."""
    try:
        call()
    except libvirt.libvirtError:
        return False
    return True


def _undo(steps):
    for step in reversed(steps):
        try:
            step()
        except libvirt.libvirtError:
            pass    # the rest is still worth restoring
