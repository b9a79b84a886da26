"""The Storage and Networks views together: refusals in words, what viewers and operators
see, the view kept in the URL's hash, several hosts, a phone's width."""

import re

import pytest

from .hostviews import (
    PHONE,
    TWO_HOSTS,
    confirm,
    network_row,
    open_view,
    pool_row,
    scroll_width,
    volume_row,
)
from .pages import expect, log_in, screenshot


@pytest.mark.console_errors(r"status of 409")
def test_the_refusals_to_delete_what_vms_use_are_told_in_words(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    volume_row(view, "web-1.qcow2").get_by_role("button", name="Delete web-1.qcow2").click()
    confirm(page, "Delete the volume web-1.qcow2?")
    expect(view.locator(".volumes [role=status]")).to_have_text(
        "web-1.qcow2 was not deleted: in use: web-1.qcow2 is used by web-1.")
    pool_row(view, "default").get_by_role("button", name="Delete default").click()
    confirm(page, "Delete the pool default?")
    refusal = view.locator("[role=status]").first
    expect(refusal).to_contain_text("default was not deleted: in use: ")
    expect(refusal).to_contain_text("web-1.qcow2 is used by web-1")
    assert len(api.get("pools/default/volumes")) == 5
    screenshot(page, "storage-refusal", full_page=False)

    view = open_view(page, "networks")
    network_row(view, "default").get_by_role("button", name="Delete default").click()
    confirm(page, "Delete the network default?")
    # (libvirt lists the VMs in no set order)
    expect(view.locator("[role=status]")).to_have_text(re.compile(
        r"^default was not deleted: the network default is used by running VMs: "
        r"(build-1|web-1|web-2), (build-1|web-1|web-2), (build-1|web-1|web-2)\.$"))
    assert "default" in {network["name"] for network in api.get("networks")}


@pytest.mark.parametrize("user", ["viewer", "tenant"])
def test_viewers_and_operators_see_storage_and_networks_without_buttons(page, server, user):
    log_in(page, server.url, user)
    view = open_view(page, "storage")
    expect(volume_row(view, "web-1.qcow2")).to_be_visible()
    for form in ("[data-pool-form]", "[data-volume-form]", "[data-upload-form]"):
        expect(view.locator(form)).to_be_hidden()
    expect(view.locator(".row-actions")).to_have_count(0)
    expect(view.locator(".read-only")).to_have_text(
        "You may look: pools and volumes are changed by admins.")
    screenshot(page, f"storage-{user}", full_page=False)

    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_be_visible()
    expect(view.locator("[data-network-form]")).to_be_hidden()
    expect(view.locator(".row-actions")).to_have_count(0)
    # Leases are for admins: no such column at all.
    expect(view.locator("th", has_text="Leases")).to_have_count(0)


def test_the_view_is_kept_in_the_hash_for_reload_and_back(page, server):
    log_in(page, server.url, "admin")
    open_view(page, "networks")
    page.reload()
    expect(page.locator("[data-networks]")).to_be_visible()
    expect(network_row(page.locator("[data-networks]"), "default")).to_be_visible()
    expect(page.locator("[data-view-link=networks]")).to_have_attribute("aria-current", "page")
    open_view(page, "storage")
    page.go_back()
    expect(page.locator("[data-networks]")).to_be_visible()
    expect(page.locator("[data-storage]")).to_be_hidden()
    page.click("[data-view-link=vms]")
    expect(page.locator("[data-workspace]")).to_be_visible()
    expect(page.locator("[data-networks]")).to_be_hidden()


@pytest.mark.app_settings(TWO_HOSTS)
def test_with_two_hosts_the_view_shows_the_chosen_hosts_storage(page, server):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    choice = page.locator("#view-host")
    expect(choice).to_have_value("demo")
    expect(view.locator("h2")).to_have_text("Storage on demo")
    expect(pool_row(view, "default")).to_contain_text("41.4 GiB free")
    choice.select_option("lab")
    expect(view.locator("h2")).to_have_text("Storage on lab")
    expect(pool_row(view, "default")).to_contain_text("1.61 GiB of 100 GiB used")
    assert page.url.endswith("#storage/lab")
    # The other tab keeps the host.
    page.click("[data-view-link=networks]")
    expect(page.locator("[data-networks] h2")).to_have_text("Networks on lab")
    assert page.url.endswith("#networks/lab")
    page.go_back()
    expect(view.locator("h2")).to_have_text("Storage on lab")


def test_on_a_phone_the_listings_become_cards_and_nothing_scrolls_sideways(page, server):
    page.set_viewport_size(PHONE)
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    expect(volume_row(view, "web-1.qcow2")).to_be_visible()
    assert scroll_width(page) <= PHONE["width"]
    screenshot(page, "storage-phone")
    view = open_view(page, "networks")
    expect(network_row(view, "default")).to_be_visible()
    assert scroll_width(page) <= PHONE["width"]
    screenshot(page, "networks-phone")


def test_changes_made_elsewhere_show_up_without_a_reload(page, server, api):
    log_in(page, server.url, "admin")
    view = open_view(page, "storage")
    expect(volume_row(view, "web-1.qcow2")).to_be_visible()
    api.raw_volume("elsewhere.img")
    expect(volume_row(view, "elsewhere.img")).to_be_visible(timeout=12_000)
    expect(pool_row(view, "default")).to_contain_text("6", timeout=12_000)

    view = open_view(page, "networks")
    expect(network_row(view, "isolated")).to_be_visible()
    assert api.call("DELETE", "networks/isolated")[0] == 200
    expect(network_row(view, "isolated")).to_have_count(0, timeout=12_000)
