"""The Networks view: an admin defines a NAT network (checked before sending), stops it and
deletes it; leases as a real host reports them."""

import json

import pytest

from .hostviews import confirm, network_row, open_view
from .pages import expect, log_in, screenshot


def test_an_admin_defines_a_network_and_deletes_it(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "networks")
    default = network_row(view, "default")
    expect(default).to_contain_text("nat")
    expect(default).to_contain_text("virbr0")
    expect(default).to_contain_text("192.168.122.1/24")
    expect(default).to_contain_text("192.168.122.128 – 192.168.122.254")
    # Leases go to admins; the test driver cannot tell them.
    expect(default).to_contain_text("not reported by this host")
    expect(network_row(view, "isolated")).to_contain_text("isolated")
    screenshot(page, "networks-admin")

    view.locator("#network-name").fill("h4lab")
    view.locator("#network-subnet").fill("10.44.0.0/24")
    view.locator("#network-dhcp-start").fill("10.44.0.50")
    view.locator("#network-dhcp-end").fill("10.44.0.99")
    view.locator("[data-network-form] button[type=submit]").click()
    expect(view.locator("[role=status]")).to_have_text("Network h4lab defined and started.")
    made = network_row(view, "h4lab")
    expect(made).to_contain_text("active")
    expect(made).to_contain_text("10.44.0.50 – 10.44.0.99")
    assert api.get("networks/h4lab")["ips"][0]["dhcp_start"] == "10.44.0.50"

    made.get_by_role("button", name="Autostart h4lab").click()
    expect(view.locator("[role=status]")).to_have_text("h4lab starts with its host from now on.")
    expect(made.locator("td[data-label=Autostart]")).to_have_text("yes")
    assert api.get("networks/h4lab")["autostart"] is True
    made.get_by_role("button", name="Stop h4lab").click()
    expect(view.locator("[role=status]")).to_have_text("h4lab stopped.")
    expect(made).to_contain_text("inactive")
    expect(made.get_by_role("button", name="No autostart h4lab")).to_be_visible()
    made.get_by_role("button", name="Delete h4lab").click()
    confirm(page, "Delete the network h4lab?")
    expect(made).to_have_count(0)
    assert api.call("GET", "networks/h4lab")[0] == 404


def test_the_keyboard_keeps_its_place_when_the_networks_are_redrawn(page, server, api):
    made = api.call("POST", "networks", {"name": "keys", "subnet": "10.45.0.0/24"})
    assert made[0] == 201, made
    log_in(page, server.url, "admin")
    view = open_view(page, "networks")
    row = network_row(view, "keys")
    row.get_by_role("button", name="Autostart keys").focus()
    page.keyboard.press("Enter")
    # The redrawn row has No autostart where Autostart was: it has the focus.
    expect(row.get_by_role("button", name="No autostart keys")).to_be_focused()
    page.keyboard.press("Enter")
    expect(row.get_by_role("button", name="Autostart keys")).to_be_focused()
    row.get_by_role("button", name="Delete keys").focus()
    page.keyboard.press("Enter")
    confirm(page, "Delete the network keys?")
    expect(row).to_have_count(0)
    expect(view.locator("#networks-title")).to_be_focused()   # its row is gone


@pytest.mark.parametrize("subnet, start, end, words, field", [
    ("10.44.0.0", "", "", "“10.44.0.0” is not an IPv4 subnet such as 10.0.5.0/24.", "subnet"),
    ("10.44.0.0/31", "", "", "A prefix of /31 is outside 8 to 30.", "subnet"),
    ("10.44.0.7/24", "", "", "10.44.0.7/24 has host bits set: the subnet is 10.44.0.0/24.",
     "subnet"),
    ("10.44.0.0/24", "10.45.0.9", "", "The DHCP range's start, 10.45.0.9, is outside "
     "10.44.0.0/24.", "dhcp_start"),
    ("10.44.0.0/24", "10.44.0.1", "", "The DHCP range's start, 10.44.0.1, is the gateway's "
     "address.", "dhcp_start"),
    ("10.44.0.0/24", "10.44.0.90", "10.44.0.20", "The DHCP range ends before it starts.",
     "dhcp_end"),
])
def test_a_network_form_with_a_slip_is_told_before_sending(page, server, subnet, start, end,
                                                            words, field):
    log_in(page, server.url, "admin")
    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_be_visible()
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    view.locator("#network-name").fill("h4lab")
    view.locator("#network-subnet").fill(subnet)
    view.locator("#network-dhcp-start").fill(start)
    view.locator("#network-dhcp-end").fill(end)
    view.locator("[data-network-form] button[type=submit]").click()
    expect(view.locator("[role=status]")).to_have_text(words)
    expect(view.locator(f"[name={field}]")).to_have_attribute("aria-invalid", "true")
    expect(view.locator(f"[name={field}]")).to_be_focused()
    assert posts == []


def test_an_admin_sees_the_leases_a_real_host_reports(page, server):
    # The test driver cannot tell leases (null): a real host's answer is played here.
    network = {"name": "default", "uuid": "4b3c8f2a-6d15-4e07-9a2b-1c5d7e9f0a61",
               "state": "active", "autostart": True, "persistent": True, "bridge": "virbr0",
               "forward": "nat", "ips": [{"address": "192.168.122.1", "prefix": 24,
                                          "dhcp_start": "192.168.122.2",
                                          "dhcp_end": "192.168.122.254"}],
               "leases": [{"mac": "52:54:00:12:34:56", "ip": "192.168.122.45",
                           "hostname": "web-1", "expiry": 1796409999}]}
    empty = {**network, "name": "quiet", "state": "inactive", "autostart": False, "leases": []}
    page.route("**/hosts/default/networks", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps([network, empty])))
    log_in(page, server.url, "admin")
    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_contain_text(
        "192.168.122.45 · 52:54:00:12:34:56 · web-1")
    expect(network_row(view, "default")).to_contain_text("yes")
    quiet = network_row(view, "quiet")
    expect(quiet.locator("td[data-label=Leases]")).to_have_text("none")
    expect(quiet.get_by_role("button", name="Start quiet", exact=True)).to_be_visible()
    expect(quiet.get_by_role("button", name="Autostart quiet")).to_be_visible()
