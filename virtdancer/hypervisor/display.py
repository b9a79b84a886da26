"""A VM's graphical display: where it is, and a byte stream to it for the console proxy.

On a local host libvirt hands over a connected socket to the VM's VNC server
(`openGraphicsFD`), so no VNC port needs to be reachable at all; on a remote host (where libvirt
cannot pass a file descriptor) the proxy connects to the VNC address and port of the domain's
live XML, as seen from VirtDancer's machine.
"""

import ipaddress
import socket
import xml.etree.ElementTree as ElementTree
from urllib.parse import urlsplit

import libvirt

from .errors import Refused
from .hostinfo import is_local_uri


class ConsoleUnavailable(Refused):
    """The VM has no display VirtDancer can open right now; the message says why."""


def vnc_display(dom):
    """{listen, port} of the running domain's VNC display, or None without one."""
    root = ElementTree.fromstring(dom.XMLDesc(0))
    for graphics in root.iterfind("./devices/graphics"):
        if graphics.get("type") != "vnc":
            continue
        listen = graphics.get("listen")
        listen_element = graphics.find("listen")
        if listen_element is not None and listen_element.get("address"):
            listen = listen_element.get("address")
        port = int(graphics.get("port", "-1"))
        return {"listen": listen or "127.0.0.1", "port": port}
    return None


# A domain's display lives as long as its QEMU process runs its CPUs or holds them paused.
_DISPLAY_STATES = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED,
                   libvirt.VIR_DOMAIN_PAUSED)


def has_display_state(state):
    """True when a domain in libvirt's `state` may have a display to open. Plain Python: the
    views answer it for every VM of a list, where asking for each one's XML would cost a
    libvirt round trip per VM; whether the display really exists is `check_console`'s word."""
    return state in _DISPLAY_STATES


def driver_has_displays(uri):
    """False for a host whose libvirt driver gives no VM a graphical display (the test
    driver's); the page then offers no console there at all."""
    return not uri.startswith("test:")


def check_console(conn, dom, uri):
    """Raise `ConsoleUnavailable` unless the domain's display can be opened."""
    if not driver_has_displays(uri):
        raise ConsoleUnavailable("this host's libvirt driver (the test driver) has no "
                                 "graphical displays")
    if not has_display_state(dom.state()[0]):
        raise ConsoleUnavailable("the VM is not running: start it to open its console")
    display = vnc_display(dom)
    if display is None:
        raise ConsoleUnavailable("the VM has no VNC display")
    if not is_local_uri(uri):
        remote_address(display, uri)   # refused now, not once the browser connects


def remote_address(display, uri):
    """(address, port) at which VirtDancer reaches a remote host's VNC display.

    The live XML says where QEMU listens as the VM's host sees it. A loopback address there is
    the host's own loopback: from VirtDancer's machine it would reach whatever listens on that
    port here (another VM's display, perhaps), so it is only good when the libvirt URI names
    this machine's loopback too. Listening on every address means the host is reachable at
    the address VirtDancer already reaches libvirt at.
    """
    if display["port"] <= 0:
        raise ConsoleUnavailable("the VM has no VNC display")
    listen = display["listen"]
    host = urlsplit(uri).hostname
    if listen in _EVERY_ADDRESS:
        if host is None:
            raise ConsoleUnavailable("the VM's VNC display listens on every address of its "
                                     "host, and the host's libvirt URI names no address")
        return host, display["port"]
    if _is_loopback(listen) and not (host is not None and _is_loopback(host)):
        raise ConsoleUnavailable(
            f"the VM's VNC display listens on {listen}, the loopback address of its host "
            f"({host or 'remote'}), which VirtDancer cannot reach from its own machine: make "
            f"it listen on an address VirtDancer can reach (vnc_listen in that host's "
            f"qemu.conf, or the VM's <graphics listen=...>)")
    return listen, display["port"]


def open_display(dom, local, uri):
    """A connected socket to the domain's VNC server."""
    if local:
        fd = dom.openGraphicsFD(0, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
        return socket.socket(fileno=fd)
    display = vnc_display(dom)
    if display is None:
        raise ConsoleUnavailable("the VM has no VNC display")
    return socket.create_connection(remote_address(display, uri), timeout=10)


_EVERY_ADDRESS = ("0.0.0.0", "::")


def _is_loopback(address):
    if address.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False   # a host name: not loopback unless it says so
