"""What the Storage and Networks tests do to the page, in the page's own terms."""

from ..conftest import DEMO_URI, LAB_URI
from .pages import expect

PHONE = {"width": 360, "height": 740}
TWO_HOSTS = {"virtdancer.hosts": f"demo = {DEMO_URI}\nlab = {LAB_URI}"}


def open_view(page, name):
    page.click(f"[data-view-link={name}]")
    view = page.locator(f"[data-{name}]")
    expect(view).to_be_visible()
    expect(page.locator("[data-workspace]")).to_be_hidden()
    return view


def pool_row(view, name):
    return view.locator(f"tr[data-pool='{name}']")


def volume_row(view, name):
    return view.locator(f"tr[data-volume='{name}']")


def network_row(view, name):
    return view.locator(f"tr[data-network='{name}']")


def confirm(page, title):
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog.locator("[data-confirm-title]")).to_have_text(title)
    dialog.locator("[data-confirm]").click()


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def start_upload(view, size):
    view.locator("#upload-file").set_input_files(
        files=[{"name": "tiny.iso", "mimeType": "application/octet-stream",
                "buffer": b"\x00" * size}])
    view.locator("[data-upload-form] button[type=submit]").click()
