"""Where the console proxy connects for a remote host's VNC display (no libvirtd needed).

A remote host's live XML says where QEMU listens as that host sees it; VirtDancer, on another
machine, must not read a loopback address there as its own (it would reach whatever listens on
that port here, another VM's display perhaps).
"""

import pytest

from virtdancer.hypervisor.display import (
    ConsoleUnavailable,
    check_console,
    remote_address,
    vnc_display,
)

RUNNING = 1


class FakeDomain:
    """A running domain whose live XML has one VNC display."""

    def __init__(self, listen, port=5905):
        self.xml = (f"<domain><devices><graphics type='vnc' port='{port}' autoport='yes' "
                    f"listen='{listen}'><listen type='address' address='{listen}'/></graphics>"
                    f"</devices></domain>")

    def XMLDesc(self, _flags):
        return self.xml

    def state(self):
        return [RUNNING, 1]


@pytest.mark.parametrize("listen, uri, address", [
    ("192.0.2.7", "qemu+ssh://root@kvm1.example/system", "192.0.2.7"),
    ("0.0.0.0", "qemu+ssh://root@kvm1.example/system", "kvm1.example"),
    ("::", "qemu+tls://[2001:db8::5]/system", "2001:db8::5"),
    # A "remote" URI on this machine's loopback: the host's loopback is VirtDancer's too.
    ("127.0.0.1", "qemu+tcp://127.0.0.1:16519/system", "127.0.0.1"),
    ("127.0.0.1", "qemu+ssh://localhost/system", "127.0.0.1"),
    ("::1", "qemu+tcp://[::1]:16509/system", "::1"),
])
def test_the_proxy_connects_where_the_display_is_reachable(listen, uri, address):
    assert remote_address(vnc_display(FakeDomain(listen)), uri) == (address, 5905)


@pytest.mark.parametrize("listen", ["127.0.0.1", "127.0.1.1", "::1", "localhost"])
def test_a_remote_hosts_loopback_display_is_refused_not_taken_for_ours(listen):
    uri = "qemu+ssh://root@kvm1.example/system"
    with pytest.raises(ConsoleUnavailable) as refused:
        remote_address(vnc_display(FakeDomain(listen)), uri)
    assert f"listens on {listen}, the loopback address of its host (kvm1.example)" in \
        refused.value.message
    assert "vnc_listen" in refused.value.message
    # Said when the console is asked for (409), not only once the browser connects.
    with pytest.raises(ConsoleUnavailable):
        check_console(None, FakeDomain(listen), uri)


def test_a_local_hosts_loopback_display_is_fine():
    """A local host's display is opened through libvirt: where QEMU listens does not matter."""
    check_console(None, FakeDomain("127.0.0.1"), "qemu:///system")


def test_a_display_without_a_port_is_no_display():
    with pytest.raises(ConsoleUnavailable, match="no VNC display"):
        remote_address({"listen": "192.0.2.7", "port": -1}, "qemu+tcp://192.0.2.1/system")
