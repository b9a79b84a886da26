"""The console page in Chromium: noVNC connects through the proxy to a real QEMU VM's display.

This browser test needs the real hypervisor (libvirtd with QEMU, as the tests/real ring): the
demo fleet's test driver has no displays.
"""

import os
import re
import secrets

import pytest

from ..conftest import WEB_1
from ..real.conftest import domain_xml, libvirtd_problem, remove_domain, virsh
from .conftest import unavailable
from .pages import expect, log_in, screenshot, select

QEMU = "qemu:///system"


@pytest.fixture
def running_vm(tmp_path):
    """A tiny running QEMU VM with a VNC display; removed afterwards."""
    problem = libvirtd_problem()
    if problem is not None:
        unavailable(f"libvirtd is needed for the console test: {problem}")
    name = f"vdtest-{os.getpid()}-{secrets.token_hex(4)}"
    xml = tmp_path / "vm.xml"
    xml.write_text(domain_xml(name))
    try:
        virsh("create", str(xml))
        yield name, virsh("domuuid", name)
    finally:
        remove_domain(name)


# How many pixels of noVNC's canvas are not black: a connected display shows something (the
# firmware's messages, or QEMU's own "Guest has not initialized the display (yet).").
LIT_PIXELS = """() => {
    const canvas = document.querySelector('[data-console-screen] canvas');
    if (!canvas || !canvas.width || !canvas.height) return 0;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let lit = 0;
    for (let i = 0; i < pixels.data.length; i += 4) {
        if (pixels.data[i] + pixels.data[i + 1] + pixels.data[i + 2] > 60) lit += 1;
    }
    return lit;
}"""


@pytest.mark.app_settings({"virtdancer.libvirt_uri": QEMU,
                           "virtdancer.console.listen": "127.0.0.1:0"})
def test_the_console_page_shows_the_vms_display(page, server, running_vm):
    name, uuid = running_vm
    log_in(page, server.url, "admin")
    select(page, uuid, name)
    page.click("[data-console]")
    expect(page.locator("[data-console-status]")).to_have_text("connected", timeout=20_000)
    expect(page.locator("[data-console-title]")).to_have_text(f"Console of {name} on default")
    expect(page).to_have_title(f"{name} — console — VirtDancer")
    expect(page.locator("[data-console-retry]")).to_be_hidden()
    expect(page.locator("[data-ctrl-alt-del]")).to_be_enabled()
    # The guest has no disk: the firmware prints its messages, so the screen is not blank. The
    # canvas is sized at the handshake, before the first picture: a loaded machine may take
    # seconds to send that, so the test waits for the lit pixels themselves.
    page.wait_for_function(f"() => ({LIT_PIXELS})() > 100", polling=100, timeout=20_000)
    page.click("[data-ctrl-alt-del]")
    expect(page.locator("[data-console-status]")).to_have_text("connected")
    screenshot(page, "console")


def test_viewers_get_no_console_link(page, server):
    log_in(page, server.url, "viewer")
    expect(page.locator("[data-console]")).to_have_count(0)


@pytest.mark.app_settings({"virtdancer.console.listen": "127.0.0.1:0"})
@pytest.mark.console_errors(r"409 \(Conflict\)")
def test_the_console_page_says_why_it_cannot_connect_and_offers_a_retry(page, server, record):
    log_in(page, server.url, "admin")
    page.goto(f"{server.url}console?host=default&vm={WEB_1}")
    status = page.locator("[data-console-status]")
    expect(status).to_have_text(re.compile(
        r"^Cannot connect to web-1's display\. web-1's display cannot be opened now\. "
        r"This host's libvirt driver \(the test driver\) has no graphical displays\.$"))
    expect(status).to_have_attribute("data-state", "error")
    expect(page.locator("[data-console-title]")).to_have_text("Console of web-1 on default")
    expect(page).to_have_title("web-1 — console — VirtDancer")
    asked = sum(url.endswith("/console") for url in record.requests)
    page.click("[data-console-retry]")   # a new ticket is asked for
    expect(status).to_have_text(re.compile("^Cannot connect to web-1's display"))
    page.wait_for_function(f"() => performance.getEntriesByType('resource').filter("
                           f"e => e.name.endsWith('/console')).length > {asked}")
    screenshot(page, "console-cannot-connect")


def test_the_console_page_without_a_vm_says_where_to_open_it(page, server):
    log_in(page, server.url, "viewer")
    page.goto(f"{server.url}console")
    expect(page.locator("[data-console-status]")).to_have_text(
        "No VM is named in this page's address: open the console from the fleet page.")
    expect(page.locator("[data-console-retry]")).to_be_hidden()
