"""libvirt virtual networks of one host: listed, defined, started, stopped and undefined.

Plain values out (dicts of text, numbers and booleans); libvirt's errors leave as VirtDancer's
(hypervisor/errors.py), through the connection's session.
"""

import ipaddress
import xml.etree.ElementTree as ElementTree

import libvirt

from . import domainxml
from .errors import InvalidRequest, NoSuchNetwork, Refused

NETWORK_ACTIONS = ("start", "stop", "autostart", "noautostart")


def _ranges(root):
    """`[{address, prefix, dhcp_start, dhcp_end}]` of a network's XML."""
    found = []
    for ip in root.findall("ip"):
        address = ip.get("address")
        if address is None:
            continue
        prefix = ip.get("prefix")
        if prefix is None and ip.get("netmask"):
            prefix = ipaddress.ip_network(f"0.0.0.0/{ip.get('netmask')}").prefixlen
        dhcp = ip.find("dhcp/range")
        found.append({"address": address, "prefix": int(prefix) if prefix is not None else None,
                      "dhcp_start": dhcp.get("start") if dhcp is not None else None,
                      "dhcp_end": dhcp.get("end") if dhcp is not None else None})
    return found


def _leases(net):
    """The network's DHCP leases, or None where the host cannot tell (libvirt's test driver)."""
    try:
        leases = net.DHCPLeases()
    except libvirt.libvirtError as error:
        if error.get_error_code() in (libvirt.VIR_ERR_NO_SUPPORT,
                                      libvirt.VIR_ERR_OPERATION_INVALID):
            return None
        raise
    return [{"mac": lease.get("mac"), "ip": lease.get("ipaddr"),
             "hostname": lease.get("hostname") or None,
             "expiry": int(lease.get("expirytime") or 0)} for lease in leases]


def describe(net, with_leases):
    """A network as plain values; `leases` only when `with_leases`."""
    root = ElementTree.fromstring(net.XMLDesc(0))
    forward = root.find("forward")
    bridge = root.find("bridge")
    active = bool(net.isActive())
    found = {"name": net.name(), "uuid": net.UUIDString(),
             "state": "active" if active else "inactive",
             "autostart": bool(net.autostart()), "persistent": bool(net.isPersistent()),
             "bridge": bridge.get("name") if bridge is not None else None,
             "forward": (forward.get("mode") or "nat") if forward is not None else None,
             "ips": _ranges(root)}
    if with_leases:
        found["leases"] = _leases(net) if active else []
    return found


def nat_network_xml(name, subnet, dhcp_start=None, dhcp_end=None):
    """The XML of a NAT network on `subnet` (an `ipaddress.IPv4Network`): the gateway is the
    first address; DHCP hands out the upper half unless given a range."""
    hosts = list(subnet.hosts()) if subnet.num_addresses <= 65536 else None
    gateway = next(subnet.hosts())
    if dhcp_start is None:
        dhcp_start = hosts[len(hosts) // 2] if hosts else subnet.network_address + 2
    if dhcp_end is None:
        dhcp_end = hosts[-1] if hosts else subnet.broadcast_address - 1
    network = ElementTree.Element("network")
    ElementTree.SubElement(network, "name").text = name
    ElementTree.SubElement(network, "forward", mode="nat")
    ip = ElementTree.SubElement(network, "ip", address=str(gateway),
                                netmask=str(subnet.netmask))
    dhcp = ElementTree.SubElement(ip, "dhcp")
    ElementTree.SubElement(dhcp, "range", start=str(dhcp_start), end=str(dhcp_end))
    return ElementTree.tostring(network, encoding="unicode")


def _subnets(root):
    found = []
    for ip in root.findall("ip"):
        address, prefix, netmask = ip.get("address"), ip.get("prefix"), ip.get("netmask")
        if address is None or ":" in address:
            continue
        try:
            found.append(ipaddress.ip_network(f"{address}/{prefix or netmask or 24}",
                                              strict=False))
        except ValueError:
            continue
    return found


class Networks:
    """The virtual networks of the host behind `connection`."""

    def __init__(self, connection):
        self.connection = connection

    def all(self, with_leases):
        with self.connection.session() as conn:
            return [describe(net, with_leases) for net in conn.listAllNetworks(0)]

    def one(self, name, with_leases):
        with self.connection.session() as conn:
            return describe(self._lookup(conn, name), with_leases)

    def exists(self, name):
        with self.connection.session() as conn:
            try:
                conn.networkLookupByName(name)
            except libvirt.libvirtError as error:
                if error.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
                    return False
                raise
            return True

    @staticmethod
    def _lookup(conn, name):
        try:
            return conn.networkLookupByName(name)
        except libvirt.libvirtError as error:
            if error.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
                raise NoSuchNetwork(f"no network named {name}") from None
            raise

    def define(self, name, xml, autostart=False, start=False):
        """Define the network from `xml` (whose name must be `name`), refusing a name taken or
        a subnet that overlaps another network's; then autostart and start it if asked."""
        wanted = _subnets(ElementTree.fromstring(xml))
        with self.connection.session() as conn:
            for other in conn.listAllNetworks(0):
                if other.name() == name:
                    raise Refused(f"a network named {name} exists already")
                theirs = _subnets(ElementTree.fromstring(other.XMLDesc(0)))
                for mine in wanted:
                    for subnet in theirs:
                        if mine.overlaps(subnet):
                            raise Refused(f"{mine} overlaps {subnet} of the network "
                                          f"{other.name()}")
            net = conn.networkDefineXML(xml)
            try:
                if autostart:
                    net.setAutostart(1)
                if start:
                    net.create()
            except libvirt.libvirtError:
                # Half made is not made: undo the definition.
                try:
                    net.undefine()
                except libvirt.libvirtError:
                    pass
                raise
            return describe(net, False)

    def run(self, name, action):
        with self.connection.session() as conn:
            net = self._lookup(conn, name)
            active = bool(net.isActive())
            if action == "start":
                if active:
                    raise Refused(f"the network {name} is active already")
                net.create()
            elif action == "stop":
                if not active:
                    raise Refused(f"the network {name} is not active")
                net.destroy()
            elif action in ("autostart", "noautostart"):
                if not net.isPersistent():
                    raise Refused(f"the network {name} is transient: it has no autostart")
                net.setAutostart(1 if action == "autostart" else 0)
            else:
                raise InvalidRequest(f"unknown network action {action}")

    def users(self, name):
        """`[(VM name, running)]` of every VM with an interface on the network `name`."""
        found = []
        with self.connection.session() as conn:
            for dom in conn.listAllDomains(0):
                if name in domainxml.network_names(dom.XMLDesc(0)):
                    found.append((dom.name(), bool(dom.isActive())))
        return found

    def remove(self, name):
        """Stop (if active) and undefine the network."""
        with self.connection.session() as conn:
            net = self._lookup(conn, name)
            if net.isActive():
                net.destroy()
            if net.isPersistent():
                net.undefine()
