"""The console page in Chromium: noVNC connects through the proxy to a real QEMU VM's display.

This browser test needs the real hypervisor (libvirtd with QEMU, as the tests/real ring): the
demo fleet's test driver has no displays.
"""

import os
import secrets

import pytest

from ..real.conftest import domain_xml, libvirtd_problem, remove_domain, virsh
from .pages import expect, log_in, screenshot, select

QEMU = "qemu:///system"


@pytest.fixture
def running_vm(tmp_path):
    """A tiny running QEMU VM with a VNC display; removed afterwards."""
    problem = libvirtd_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"libvirtd is needed for the console test: {problem}", pytrace=False)
        pytest.skip(problem)
    name = f"vdtest-{os.getpid()}-{secrets.token_hex(4)}"
    xml = tmp_path / "vm.xml"
    xml.write_text(domain_xml(name))
    try:
        virsh("create", str(xml))
        yield name, virsh("domuuid", name)
    finally:
        remove_domain(name)


def lit_pixels(page):
    """How many pixels of noVNC's canvas are not black: a connected display shows something."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('[data-console-screen] canvas');
        if (!canvas || !canvas.width || !canvas.height) return 0;
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let lit = 0;
        for (let i = 0; i < pixels.data.length; i += 4) {
            if (pixels.data[i] + pixels.data[i + 1] + pixels.data[i + 2] > 60) lit += 1;
        }
        return lit;
    }""")


@pytest.mark.app_settings({"virtdancer.libvirt_uri": QEMU,
                           "virtdancer.console.listen": "127.0.0.1:0"})
def test_the_console_page_shows_the_vms_display(page, server, running_vm):
    name, uuid = running_vm
    log_in(page, server.url, "admin")
    select(page, uuid, name)
    page.click("[data-console]")
    expect(page.locator("[data-console-status]")).to_have_text("connected", timeout=20_000)
    expect(page.locator("[data-ctrl-alt-del]")).to_be_enabled()
    # The guest has no disk: the firmware prints its messages, so the screen is not blank.
    page.wait_for_function("""() => {
        const canvas = document.querySelector('[data-console-screen] canvas');
        return canvas && canvas.width > 0 && canvas.height > 0;
    }""", timeout=20_000)
    page.wait_for_timeout(1500)
    assert lit_pixels(page) > 100
    page.click("[data-ctrl-alt-del]")
    expect(page.locator("[data-console-status]")).to_have_text("connected")
    screenshot(page, "console")


def test_viewers_get_no_console_link(page, server):
    log_in(page, server.url, "viewer")
    expect(page.locator("[data-console]")).to_have_count(0)
