"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the real
server, at a phone's 360×740 viewport.

Nothing here downloads a browser: Playwright only launches the one Debian installed
(`make test` installs it when missing), and a missing browser fails the tests, never skips
them. axe-core comes from the npm registry (`make browser-assets`) and is injected into each
page from our own files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.live import serving, with_the_real_clock

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests/e2e/vendor/node_modules/axe-core/axe.min.js"
ARTIFACTS = ROOT / "tests/artifacts"
PHONE = {"width": 360, "height": 740}
# Without them Chromium calls Google's services at start, which this network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser-assets`")
    # The browser keeps the real clock, whatever the server's.
    env = with_the_real_clock(dict(os.environ))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=FLAGS, headless=True, env=env
        )
        yield launched
        launched.close()


@pytest.fixture
def live_server(redis, redis_server, tmp_path):
    with serving(redis_server.url, tmp_path) as base:
        yield base


@pytest.fixture
def open_page(browser, live_server):
    """A new phone-sized page at ``path``: ``open_page("/", javascript=False)``.

    Any error the browser reports (a script error, a resource the CSP refused, a failed
    load) fails the test. ``open_page.urls`` lists every URL the pages requested.
    """
    contexts = []
    problems: list[str] = []
    urls: list[str] = []

    def open_(path: str = "/", javascript: bool = True, viewport: dict = PHONE) -> Page:
        context = browser.new_context(
            viewport=viewport, java_script_enabled=javascript, locale="id-ID", base_url=live_server
        )
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: _is_problem(page, message) and problems.append(f"{page.url}: {message.text}"),
        )
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.on("request", lambda request: urls.append(request.url))
        page.set_default_timeout(10_000)
        page.goto(path)
        return page

    open_.urls = urls
    yield open_
    for context in contexts:
        context.close()
    assert problems == []


def _is_problem(page: Page, message) -> bool:
    """A console error, except the one Chromium logs for the page's own status when a form
    is answered 4xx on purpose (422 with the fields at fault, 409 for a full slot)."""
    if message.type != "error":
        return False
    return not (
        message.text.startswith("Failed to load resource") and message.location.get("url") == page.url
    )


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page to tests/artifacts/<name>.png (git-ignored), for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation of WCAG 2 A/AA in the page."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern.
        page.evaluate(AXE.read_text() + "\n;true")
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"
