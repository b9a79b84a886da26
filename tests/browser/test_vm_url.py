"""Each VM has its own URL (#/hosts/<host>/vm/<uuid>): the tab's title names it, the Back
button goes to the VM before, and a link opens it for whoever may see it."""

import re

from ..conftest import DB_1, WEB_1
from .pages import entry, expect, log_in, select


def vm_url(server, uuid, host="default"):
    return f"{server.url}#/hosts/{host}/vm/{uuid}"


def test_selecting_a_vm_gives_it_a_url_and_back_goes_to_the_one_before(page, server):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    expect(page).to_have_url(vm_url(server, WEB_1))
    expect(page).to_have_title("web-1 on default – VirtDancer")
    select(page, DB_1, "db-1")
    expect(page).to_have_url(vm_url(server, DB_1))
    expect(page).to_have_title("db-1 on default – VirtDancer")

    page.go_back()
    expect(page.locator("[data-detail-title]")).to_have_text("web-1")
    expect(entry(page, WEB_1)).to_have_attribute("aria-current", "true")
    expect(page).to_have_title("web-1 on default – VirtDancer")
    page.go_forward()
    expect(page.locator("[data-detail-title]")).to_have_text("db-1")


def test_a_shared_link_opens_the_vm(page, server, context):
    log_in(page, server.url, "admin")
    other = context.new_page()   # a colleague's tab: the same user, a link pasted in
    other.goto(vm_url(server, DB_1, host="default").replace(DB_1, DB_1.upper()))
    expect(other.locator("[data-detail-title]")).to_have_text("db-1")
    expect(other.locator(f"[data-fleet] [data-uuid='{DB_1}']")).to_have_attribute(
        "aria-current", "true")
    expect(other).to_have_title(re.compile(r"^db-1 on default"))
    other.close()


def test_a_link_to_a_vm_the_user_does_not_see_says_so(page, server):
    page.goto(vm_url(server, DB_1))   # db-1 is outside the tenant's filters
    page.fill("input[name=username]", "tenant")
    page.fill("input[name=password]", "tenant")
    page.click("form[data-login] button[type=submit]")
    expect(page.locator("[data-fleet-message]")).to_have_text(
        "The VM of this link is not in your list: it does not exist, or you do not see it.")
    expect(page.locator("[data-detail-title]")).to_have_text("No VM selected")
    expect(page).to_have_url(f"{server.url}#vms")
    expect(page).to_have_title("VirtDancer")
