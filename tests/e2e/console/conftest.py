"""A real headless Chromium (Debian's `chromium`, installed by `make install`; Playwright never
downloads a browser) pointed at the local stack's console. A failing test leaves a screenshot in
the test output folder (`test-output/console/`, or `$IC_TEST_OUTPUT/console/`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[3]


def output_dir() -> Path:
    root = Path(os.environ.get("IC_TEST_OUTPUT", REPO / "test-output"))
    path = root / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Per module, not per session: Playwright's sync API keeps an asyncio loop running in this thread
# while it is open, which would break later tests that run a loop of their own (Mangum's).
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make install` installs Debian's chromium with apt-get"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def console_url(local_stack: dict[str, Any]) -> str:
    """What `make dev` prints for the console."""
    return f"{local_stack['api_url']}/console/"


class PageProblems:
    """Console errors, CSP violations and uncaught exceptions seen while a test ran."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]

    def uncaught(self) -> list[str]:
        return [m for m in self.messages if m.startswith("pageerror:")]


def _open_page(browser: Any, request: pytest.FixtureRequest, **context_options: Any) -> Any:
    context = browser.new_context(**context_options)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", lambda m: problems.messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.messages.append(f"pageerror: {e}"))
    page.problems = problems
    return context, page


def _close_page(context: Any, page: Any, request: pytest.FixtureRequest) -> None:
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        path = output_dir() / f"{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failure: {path}")
        except Exception as exc:  # the page may be gone; the failure itself is what matters
            print(f"no screenshot ({type(exc).__name__})")
    context.close()


@pytest.fixture
def page(browser: Any, console_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser profile at desktop size, allowed to use the clipboard."""
    origin = console_url.split("/console/")[0]
    context, page = _open_page(
        browser,
        request,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
        base_url=origin,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    yield page
    _close_page(context, page, request)


@pytest.fixture
def phone(browser: Any, console_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh profile at a phone's width (390 CSS pixels), with touch."""
    context, page = _open_page(
        browser,
        request,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield page
    _close_page(context, page, request)
