"""The web console in a real headless Chromium against the real local stack and model: what a new
user does after `make dev` (sign in, keys, the playground, sign out), at desktop and phone width,
with the keyboard, and with the page's CSP never tripped."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import openai
import pytest
from playwright.sync_api import expect

from tests.e2e.console.conftest import output_dir


def sign_in(page: Any, console_url: str, email: str, password: str) -> None:
    page.goto(console_url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def go(page: Any, section: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=section).click()
    expect(page.get_by_role("heading", level=1, name=section)).to_be_visible()


def assert_no_page_problems(page: Any) -> None:
    assert page.problems.csp_violations() == []
    assert page.problems.uncaught() == []


def openai_with(local_stack: dict[str, Any], key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=local_stack["api_url"] + "/v1", api_key=key, max_retries=0, timeout=120
    )


def stream_in_playground(page: Any, prompt: str, fmt: str) -> list[tuple[float, int]]:
    """Send `prompt` and record (time, length of the reply) each time the reply's text changes."""
    page.get_by_role("radio", name=fmt).check()
    page.get_by_label("Max tokens").fill("48")
    page.get_by_label("Bypass the response cache").check()
    page.get_by_role("textbox", name="Message").fill(prompt)
    page.evaluate(
        """() => {
        window.__arrivals = [];
        const log = document.getElementById("conversation");
        new MutationObserver(() => {
          const out = document.getElementById("playground-output");
          if (!out) return;
          const n = out.textContent.length;
          const last = window.__arrivals[window.__arrivals.length - 1];
          if (!last || last[1] !== n) window.__arrivals.push([performance.now(), n]);
        }).observe(log, {subtree: true, childList: true, characterData: true});
      }"""
    )
    page.get_by_role("button", name="Send").click()
    output = page.locator("#playground-output")
    expect(output).to_have_attribute("aria-busy", "false", timeout=120_000)
    return [(t, n) for t, n in page.evaluate("window.__arrivals") if n > 0]


def test_a_new_user_signs_in_makes_a_key_streams_a_reply_revokes_and_signs_out(
    page: Any, console_url: str, local_stack: dict[str, Any]
) -> None:
    page.goto(console_url)
    page.get_by_label("Email").fill(local_stack["email"])
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Incorrect email or password")
    sign_in(page, console_url, local_stack["email"], local_stack["password"])
    expect(page.get_by_role("heading", level=1, name="Overview")).to_be_visible()

    # The access token lives in memory only; a reload signs back in through the refresh token.
    assert page.evaluate("localStorage.length") == 0
    stored = page.evaluate("Object.values(sessionStorage)")
    assert len(stored) == 1
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate("Object.values(sessionStorage)") != stored  # the pair rotated
    refresh_token = page.evaluate("Object.values(sessionStorage)[0]")

    # A key: its secret shown once, copyable, working; gone from the page once dismissed.
    go(page, "API keys")
    name = f"console key {uuid.uuid4().hex[:6]}"
    create = page.get_by_role("form", name="Create an API key")
    create.get_by_label("Name", exact=True).fill(name)
    create.get_by_label("Requests per minute").fill("30")
    create.get_by_role("button", name="Create key").click()
    secret_box = page.get_by_label("Secret")
    expect(secret_box).to_have_value(re.compile(r"^sk-ic-\S{20,}$"))
    secret = secret_box.input_value()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("30 req/min")
    expect(row).to_contain_text(secret[:12])
    reply = openai_with(local_stack, secret).chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": "Say hi."}], max_tokens=8
    )
    assert reply.choices[0].message.content
    page.get_by_role("button", name="Done, I have stored it").click()
    page.reload()
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    assert secret not in page.content()

    # The playground: the reply arrives in several steps, then its tokens, cost and latency.
    go(page, "Playground")
    arrivals = stream_in_playground(page, "Write three short sentences about the sea.", "OpenAI")
    assert len(arrivals) >= 2, arrivals
    assert arrivals[-1][0] - arrivals[0][0] > 0  # not all at once
    stats = page.locator("#playground-stats")
    assert int(stats.locator("[data-stat=output]").inner_text().replace(",", "")) > 0
    assert int(stats.locator("[data-stat=input]").inner_text().replace(",", "")) > 0
    expect(stats.locator("[data-stat=cache]")).to_have_text("miss")
    expect(stats.locator("[data-stat=cost]")).to_contain_text("$")
    assert stats.locator("[data-stat=latency]").inner_text().endswith(" ms")
    page.screenshot(path=str(output_dir() / "playground.png"), full_page=True)

    # The same in Anthropic's wire format.
    arrivals = stream_in_playground(page, f"Name three fish. ({uuid.uuid4().hex[:6]})", "Anthropic")
    assert len(arrivals) >= 2, arrivals
    assert int(stats.locator("[data-stat=output]").inner_text().replace(",", "")) > 0

    # Stop ends a reply mid-stream; the form is ready for the next message.
    page.get_by_label("Max tokens").fill("400")
    page.get_by_role("textbox", name="Message").fill(f"Tell a long story. ({uuid.uuid4().hex[:6]})")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#playground-output")).not_to_have_attribute("data-chunks", "0")
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#playground-output")).to_contain_text("[stopped]")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()

    # Revoke the key: gone from the list, refused by the API.
    go(page, "API keys")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Revoke key {name}").click()
    expect(page.get_by_role("row").filter(has_text=name)).to_have_count(0)
    with pytest.raises(openai.AuthenticationError):
        openai_with(local_stack, secret).models.list()

    # Sign out: back to the form, and the session's refresh token no longer works.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    refreshed = httpx.post(
        local_stack["api_url"] + "/v1/auth/refresh", json={"refresh_token": refresh_token}
    )
    assert refreshed.status_code == 401
    assert_no_page_problems(page)


def test_the_console_works_from_the_keyboard_at_phone_width(
    phone: Any, console_url: str, local_stack: dict[str, Any]
) -> None:
    page = phone
    page.goto(console_url)
    # Keyboard only: the email field has focus; Tab to the password, Enter submits.
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type(local_stack["email"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(local_stack["password"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # Signed in once the first page has rendered and taken the focus: navigating before that
    # races the sign-in's own render.
    expect(page.get_by_role("heading", level=1, name="Overview")).to_be_focused()
    for section in ("API keys", "Playground", "Batches", "Models and providers", "Overview"):
        link = page.get_by_role("navigation").get_by_role("link", name=section)
        link.focus()
        page.keyboard.press("Enter")
        heading = page.get_by_role("heading", level=1, name=section)
        expect(heading).to_be_focused()  # focus moves to the new page's heading
        expect(link).to_have_attribute("aria-current", "page")
        page.wait_for_load_state("networkidle")
        # Nothing wider than the phone: no sideways scrolling of the page itself.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, section
    # Every form control on the keys page has a label.
    go(page, "API keys")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("main input, main select, main textarea")]
              .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
              .map((el) => el.name)"""
    )
    assert unlabelled == []
    assert_no_page_problems(page)


def test_models_and_batches_pages_show_the_registry_and_the_callers_batches(
    page: Any, console_url: str, local_stack: dict[str, Any]
) -> None:
    client = openai_with(local_stack, local_stack["api_key"])
    line = (
        '{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": '
        '{"model": "smollm2", "max_tokens": 4, "messages": [{"role": "user", "content": "Hi"}]}}\n'
    )
    upload = client.files.create(file=("in.jsonl", line.encode()), purpose="batch")
    batch = client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    sign_in(page, console_url, local_stack["email"], local_stack["password"])
    go(page, "Models and providers")
    registry = page.get_by_role("table", name="Models and their deployments, in fallback order")
    expect(registry.get_by_role("row").filter(has_text="smollm2")).to_contain_text("sagemaker")
    expect(registry).to_contain_text("$0.05")
    go(page, "Batches")
    row = page.get_by_role("row").filter(has_text=batch.id)
    expect(row).to_be_visible()
    # Wait for the worker to finish it, then download its output through the console.
    deadline = time.monotonic() + 120
    while client.batches.retrieve(batch.id).status != "completed":
        assert time.monotonic() < deadline, "the batch did not complete"
        time.sleep(1)
    page.get_by_role("button", name="Refresh").click()
    expect(row).to_contain_text("completed")
    expect(row).to_contain_text("1/1")
    with page.expect_download() as download:
        row.get_by_role("button", name="Output").click()
    body = open(download.value.path()).read()
    assert '"custom_id": "a"' in body or '"custom_id":"a"' in body
    assert_no_page_problems(page)
