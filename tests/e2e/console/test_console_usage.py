"""The console's usage pages in a real Chromium against the local stack: a playground request shows
up in the usage chart, the table, the CSV export and the overview (`GET /v1/usage`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.console.conftest import output_dir
from tests.e2e.console.test_console_browser import (
    assert_no_page_problems,
    go,
    sign_in,
    stream_in_playground,
)


def total_requests(page: Any) -> int:
    page.get_by_role("button", name="Show").click()
    totals = page.locator("p.totals")
    expect(totals).to_be_visible()
    return int(totals.get_attribute("data-total-requests"))


def test_a_playground_request_appears_in_the_usage_chart_table_and_csv(
    page: Any, console_url: str, local_stack: dict[str, Any]
) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    sign_in(page, console_url, local_stack["email"], local_stack["password"])
    go(page, "Usage")
    before = total_requests(page)

    go(page, "Playground")
    assert len(stream_in_playground(page, f"Say one word. ({uuid.uuid4().hex[:6]})", "OpenAI")) >= 1
    output_tokens = int(page.locator("[data-stat=output]").inner_text().replace(",", ""))

    go(page, "Usage")
    # The usage is settled as the stream ends; give the write a moment.
    deadline = time.monotonic() + 15
    while total_requests(page) < before + 1:
        assert time.monotonic() < deadline, "the playground request never showed up in usage"
        time.sleep(0.5)
    bar = page.locator(f'[data-chart=usage] .bar[data-label="{today}"]')
    expect(bar).to_have_count(1)
    table_row = page.locator("#usage-table tbody tr").filter(has_text=today)
    requests_today = int(table_row.locator("td").nth(1).inner_text().replace(",", ""))
    assert requests_today >= 1
    assert float(bar.get_attribute("data-value")) == requests_today
    assert int(table_row.locator("td").nth(3).inner_text().replace(",", "")) >= output_tokens

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    (row,) = [r for r in rows if r["day"] == today]
    assert int(row["requests"]) == requests_today
    assert float(row["cost_usd"]) > 0

    go(page, "Overview")
    expect(page.locator("[data-chart=requests] .bar").last).to_have_attribute("data-label", today)
    expect(page.locator("[data-tile=total-requests]")).not_to_have_text("0")
    page.screenshot(path=str(output_dir() / "overview.png"), full_page=True)
    assert_no_page_problems(page)
