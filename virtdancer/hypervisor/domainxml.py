"""What a domain's XML says of its devices: disks, CD-ROMs, NICs, graphics and the boot order,
as plain values.

The one reader of device XML in VirtDancer: the detail of a VM, the device changes, and the
questions of who uses a volume or a network all ask it, so they cannot disagree on where a
disk's path is or which network a NIC is on. It parses text and calls no libvirt function.
"""

import xml.etree.ElementTree as ET
from typing import NamedTuple

# The target names each disk bus gives its drives (vda, sda, hda, ...).
BUS_PREFIXES = {"virtio": "vd", "sata": "sd", "scsi": "sd", "usb": "sd", "ide": "hd",
                "xen": "xvd"}
GUEST_AGENT = "org.qemu.guest_agent.0"


class DiskDevice(NamedTuple):
    target: str
    bus: str | None
    device: str             # disk, cdrom, floppy or lun
    type: str | None        # file, block, volume, network, ...
    path: str | None        # the source file or block device; None for an empty CD-ROM
    pool: str | None        # named by the XML itself (<source pool= volume=>)
    volume: str | None
    format: str | None      # the driver's type: qcow2, raw, ...
    readonly: bool
    element: ET.Element     # for rewriting it (a CD-ROM's medium) or detaching it


class NICDevice(NamedTuple):
    mac: str | None
    model: str | None
    type: str | None        # network, bridge, direct, user, ...
    network: str | None
    bridge: str | None
    element: ET.Element


class GraphicsDevice(NamedTuple):
    type: str
    port: int | None        # None while unassigned (autoport on a VM that is not running)
    listen: str | None


class DomainDevices(NamedTuple):
    disks: tuple            # of DiskDevice, CD-ROMs included (device == "cdrom")
    nics: tuple             # of NICDevice
    graphics: tuple         # of GraphicsDevice
    guest_agent: bool       # a guest agent channel is connected now
    boot: tuple             # the <os><boot dev=/> order (hd, cdrom, network, fd); () when none


def parse(xml):
    """The `DomainDevices` of a domain's XML text."""
    root = ET.fromstring(xml)
    return DomainDevices(
        disks=tuple(_disk(element) for element in root.iterfind("devices/disk")),
        nics=tuple(_nic(element) for element in root.iterfind("devices/interface")),
        graphics=tuple(_graphics(element) for element in root.iterfind("devices/graphics")),
        guest_agent=any(target.get("name") == GUEST_AGENT
                        and target.get("state") == "connected"
                        for target in root.iterfind("devices/channel/target")),
        # Only the <os> order: a per-device <boot order=/> names one drive, not a kind of device,
        # and the Edit view (which sets the <os> order) shows "as it is now" for it.
        boot=tuple(element.get("dev") for element in root.iterfind("os/boot")
                   if element.get("dev")))


def network_names(xml):
    """The virtual networks the NICs of a domain's XML are on."""
    return {nic.network for nic in parse(xml).nics if nic.network}


def next_target(taken, bus):
    """The first target name of `bus` (vda, vdb, ... vdz, vdaa, ...) not in `taken`."""
    prefix = BUS_PREFIXES.get(bus, "sd")
    for index in range(26 * 27):
        name = prefix + _letters(index)
        if name not in taken:
            return name
    raise ValueError(f"no free target name for the {bus} bus")


def _letters(index):
    """0 → a, 25 → z, 26 → aa: how libvirt names the drives of a bus."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _disk(element):
    source = element.find("source")
    target = element.find("target")
    driver = element.find("driver")
    attributes = source.attrib if source is not None else {}
    return DiskDevice(
        target=target.get("dev", "") if target is not None else "",
        bus=target.get("bus") if target is not None else None,
        device=element.get("device", "disk"),
        type=element.get("type"),
        path=attributes.get("file") or attributes.get("dev") or None,
        pool=attributes.get("pool"),
        volume=attributes.get("volume"),
        format=driver.get("type") if driver is not None else None,
        readonly=element.find("readonly") is not None,
        element=element)


def _nic(element):
    source = element.find("source")
    attributes = source.attrib if source is not None else {}
    mac = element.find("mac")
    model = element.find("model")
    kind = element.get("type")
    return NICDevice(
        mac=mac.get("address", "").lower() or None if mac is not None else None,
        model=model.get("type") if model is not None else None,
        type=kind,
        network=attributes.get("network") if kind == "network" else None,
        # A running VM's NIC on a network names the network's bridge too.
        bridge=attributes.get("bridge"),
        element=element)


def _graphics(element):
    port = element.get("port")
    listen = element.get("listen")
    if listen is None:
        address = element.find("listen")
        listen = address.get("address") if address is not None else None
    number = int(port) if port and port.lstrip("-").isdigit() else None
    return GraphicsDevice(type=element.get("type", ""),
                          port=number if number is not None and number > 0 else None,
                          listen=listen)
