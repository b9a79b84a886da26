"""How the page looks: dark mode from the system's preference, and the charts' time span."""

import re

import pytest

from ..conftest import WEB_1
from .pages import expect, log_in, requests_once, screenshot, select


def colour(page, selector, prop):
    """The computed colour; for a background, the first ancestor's that is not transparent."""
    return page.locator(selector).first.evaluate(f"""(element) => {{
        let colour = getComputedStyle(element).{prop};
        while ("{prop}" === "backgroundColor" && element.parentElement
               && /rgba\\(.*, 0\\)$/.test(colour)) {{
            element = element.parentElement;
            colour = getComputedStyle(element).{prop};
        }}
        return colour;
    }}""")


def luminance(rgb):
    """Relative luminance (WCAG) of a CSS rgb()/rgba() colour."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", rgb)[:3])
    linear = [part / 12.92 if part <= 0.03928 else ((part + 0.055) / 1.055) ** 2.4
              for part in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one, other):
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# Text and its background, by what they are: every pair must be readable (WCAG AA: 4.5).
PAIRS = [
    ("panel text", "[data-detail] [data-field=name]", "[data-detail]"),
    ("muted text", "[data-event-log] [data-event-status]", "[data-event-log]"),
    ("a VM in the list", "[data-fleet] [data-uuid] .vm-name", "[data-fleet] [data-uuid]"),
    ("a button", "[data-action=pause]", "[data-action=pause]"),
    ("the primary button", "[data-create-vm]", "[data-create-vm]"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_screen_is_readable_in_light_and_dark(page, server, scheme):
    page.emulate_media(color_scheme=scheme)
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    page_background = colour(page, "html", "backgroundColor")
    assert (luminance(page_background) < 0.05) == (scheme == "dark"), page_background
    for what, text, background in PAIRS:
        ink = colour(page, text, "color")
        paper = colour(page, background, "backgroundColor")
        assert contrast(ink, paper) >= 4.5, (what, ink, paper)
    screenshot(page, f"look-{scheme}")
    page.click("[data-view-link=storage]")
    expect(page.locator("[data-storage]")).to_be_visible()
    screenshot(page, f"look-{scheme}-storage")
    page.goto(f"{server.url}api/")
    expect(page.locator("[data-operation]").first).to_be_visible()
    delete = page.locator(".api-delete").first
    assert contrast(delete.evaluate("(e) => getComputedStyle(e).color"),
                    delete.evaluate("(e) => getComputedStyle(e).backgroundColor")) >= 4.5
    screenshot(page, f"look-{scheme}-api")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_dialogs_disabled_danger_button_is_in_the_pages_scheme(page, server, scheme):
    # It was a light grey in dark mode too: a white button in the dark Delete dialog.
    page.emulate_media(color_scheme=scheme)
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    page.click("[data-delete-vm]")
    submit = page.locator("[data-delete-submit]")
    expect(submit).to_be_disabled()   # until the VM's name is typed
    paper = colour(page, "[data-delete-dialog]", "backgroundColor")
    button = colour(page, "[data-delete-submit]", "backgroundColor")
    assert (luminance(button) < 0.05) == (scheme == "dark"), button
    assert abs(luminance(button) - luminance(paper)) < 0.2, (button, paper)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_vm_row_under_the_mouse_stays_readable(page, server, scheme):
    # In dark mode the row turned near-white under the mouse, its light text unreadable.
    page.emulate_media(color_scheme=scheme)
    log_in(page, server.url, "admin")
    row = f"[data-fleet] [data-uuid='{WEB_1}']"
    page.hover(row)
    paper = colour(page, f"{row} td", "backgroundColor")
    assert contrast(colour(page, f"{row} .vm-name", "color"), paper) >= 4.5, paper
    assert (luminance(paper) < 0.05) == (scheme == "dark"), paper


@pytest.mark.console_errors(r"status of 401")
def test_the_login_screen_in_dark(page, server):
    page.emulate_media(color_scheme="dark")
    page.goto(server.url)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "wrong")
    page.click("form[data-login] button[type=submit]")
    error = page.locator("[data-login-error]")
    expect(error).to_be_visible()
    assert contrast(colour(page, "[data-login-error]", "color"),
                    colour(page, "[data-login-error]", "backgroundColor")) >= 4.5
    screenshot(page, "look-dark-login")


def test_the_charts_time_span_can_be_chosen_and_is_said(page, server, record):
    log_in(page, server.url, "admin")
    select(page, WEB_1, "web-1")
    host_cpu = page.locator("[data-host] [data-chart='host-cpu']")
    window = host_cpu.locator(".chart-window")
    expect(window).to_have_text("last 10 minutes")   # the default
    menus = page.locator("[data-chart-span]")
    expect(menus).to_have_count(2)   # the VM's charts and the host's
    page.locator("#host-chart-span").select_option(label="Last minute")
    expect(window).to_have_text("last minute")
    expect(page.locator("#vm-chart-span")).to_have_value("60")   # one span for every chart
    page.locator("#vm-chart-span").select_option(label="Whole history")
    expect(window).to_have_text(re.compile(r"^whole history: \d+(\.\d+)? s$"))
    screenshot(page, "charts-whole-history")
    # The choice is kept for the next visit.
    page.reload()
    expect(page.locator("[data-host] [data-chart='host-cpu'] .chart-window")).to_have_text(
        re.compile("^whole history"))


def test_charts_ask_for_the_history_once_then_only_what_is_new(page, server, record):
    log_in(page, server.url, "admin")
    expect(page.locator("[data-host] [data-chart='host-cpu'] path.line.series-0")) \
        .to_have_attribute("d", re.compile(r"^M"))
    asked = requests_once(page, record, "/stats/cpu?", 2)   # another round of the host panel
    assert re.search(r"/stats/cpu\?history=1$", asked[0]), asked
    assert len(asked) >= 2 and all(re.search(r"history=1&since=\d", url)
                                   for url in asked[1:]), asked
