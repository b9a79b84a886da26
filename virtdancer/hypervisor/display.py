"""A VM's graphical display: where it is, and a byte stream to it for the console proxy.

On a local host libvirt hands over a connected socket to the VM's VNC server
(`openGraphicsFD`), so no VNC port needs to be reachable at all; on a remote host the proxy
connects to the VNC address and port of the domain's live XML.
"""

import socket
import xml.etree.ElementTree as ElementTree

import libvirt

from .errors import Refused


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


def check_console(conn, dom, uri):
    """Raise `ConsoleUnavailable` unless the domain's display can be opened."""
    if uri.startswith("test:"):
        raise ConsoleUnavailable("this host's libvirt driver (the test driver) has no "
                                 "graphical displays")
    state = dom.state()[0]
    if state not in (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED,
                     libvirt.VIR_DOMAIN_PAUSED):
        raise ConsoleUnavailable("the VM is not running: start it to open its console")
    if vnc_display(dom) is None:
        raise ConsoleUnavailable("the VM has no VNC display")


def open_display(dom, local):
    """A connected socket to the domain's VNC server."""
    if local:
        fd = dom.openGraphicsFD(0, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
        return socket.socket(fileno=fd)
    display = vnc_display(dom)
    if display is None or display["port"] <= 0:
        raise ConsoleUnavailable("the VM has no VNC display")
    address = display["listen"]
    if address in ("0.0.0.0", "::"):
        raise ConsoleUnavailable("the VM's VNC display listens on every address of a remote "
                                 "host; VirtDancer cannot tell which one to use")
    return socket.create_connection((address, display["port"]), timeout=10)
