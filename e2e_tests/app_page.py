"""Driving the converter page (``static/index.html``) as a person does, for the page tests.

The page's states are read from ``body[data-state]`` (idle, inspecting, ready,
converting, done, failed, cancelled) and ``body[data-engine]`` (loading, ready, failed).
:func:`record_state` checks each state with axe-core (no serious or critical violation)
and writes screenshots of it at a desktop and a phone size to ``test-artifacts/page/``
(gitignored): those are for people to look at, not compared by the tests.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from axe import assert_no_serious_violations

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "page"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ENGINE_BOOT_MS = 180_000
CONVERT_MS = 180_000
END_STATES = "body[data-state=done], body[data-state=failed], body[data-state=cancelled]"


def wait_for_state(page: Page, *states: str, timeout: float = CONVERT_MS) -> str:
    """Wait until the page is in one of ``states``; returns the one it is in."""
    selector = ", ".join(f"body[data-state={state}]" for state in states)
    page.wait_for_selector(selector, timeout=timeout, state="attached")
    return str(page.get_attribute("body", "data-state"))


def wait_for_file(page: Page, name: str) -> str:
    """Wait until ``name`` has been read (ready) or refused (failed); returns the state."""
    page.wait_for_function(
        "(name) => ['ready', 'failed'].includes(document.body.dataset.state)"
        " && document.querySelector('#info-body').textContent.includes(name)",
        arg=name,
        timeout=ENGINE_BOOT_MS,
    )
    return str(page.get_attribute("body", "data-state"))


def record_state(page: Page, name: str) -> None:
    """axe-core's check of the page as it is now (light and dark), and screenshots at
    1280x800 and 390x844 (and dark at 1280x800)."""
    assert_no_serious_violations(page, name)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        # As the page does at that size: what has the focus (status, result) is in view.
        page.evaluate("document.activeElement?.scrollIntoView({ block: 'nearest' })")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"))
    page.set_viewport_size(DESKTOP)
    # Dark mode: its own colours, checked for contrast too.
    page.emulate_media(color_scheme="dark")
    try:
        assert_no_serious_violations(page, f"{name}, dark")
        page.screenshot(path=str(ARTIFACTS / f"{name}-dark-1280x800.png"))
    finally:
        page.emulate_media(color_scheme="light")


def has_pyscript_error_box(page: Page) -> bool:
    """PyScript shows uncaught Python errors and warnings in ``.py-error`` boxes."""
    return bool(page.locator(".py-error").count())
