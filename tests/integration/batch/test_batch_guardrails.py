"""Guardrails apply to batch lines too (the worker calls the same inference service): a line the
policy blocks is a permanent line error naming the check, a clean line in the same batch runs."""

from __future__ import annotations

from typing import Any

import pytest

from inference_core.settings import GuardrailSettings, get_settings

from .batch_support import chat_line
from .test_batch_worker import batch, output, start_batch


def test_a_blocked_batch_line_is_a_permanent_error_and_the_rest_runs(
    api: Any, aws: Any, drain: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "guardrails", GuardrailSettings(policy={"pii": "block"}))
    created = start_batch(
        api, [chat_line("leaky", "my SSN is 123-45-6789"), chat_line("clean", "Say hi")]
    )
    drain()
    done = batch(api, created["id"])
    [error] = output(api, done["error_file_id"])
    assert error["custom_id"] == "leaky"
    assert error["error"]["code"] == "guardrail_blocked"
    assert "pii.us_ssn" in error["error"]["message"] and "6789" not in str(error)
    assert error["response"]["status_code"] == 400
    [ok] = output(api, done["output_file_id"])
    assert ok["custom_id"] == "clean" and ok["response"]["status_code"] == 200
    usage = aws.dynamodb.scan(TableName=get_settings().tables.usage_table)["Items"]
    assert [u["request_id"]["S"] for u in usage if u["endpoint"]["S"].startswith("batch.")] == [
        f"{created['id']}-1"
    ]
