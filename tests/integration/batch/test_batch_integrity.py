"""The integrity test: 1,000 lines against a fake upstream with injected transient and permanent
failures and duplicate deliveries. Every line ends in exactly one of the output and error files,
the upstream is called once per line plus once per retried transient failure, and the DLQ stays
empty (failed lines are answers, not faults)."""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest

from inference_core.settings import get_settings

from .batch_support import chat_line, jsonl, read_jsonl

LINES = 1000


def script(seed: int = 7) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    """The lines, what each is meant to do, and how many upstream calls they should take."""
    rng = random.Random(seed)
    max_receives = get_settings().batch.batch_max_receive_count
    lines, kinds = [], {}
    expected_calls = 0
    for i in range(LINES):
        roll = rng.random()
        custom_id = f"line-{i:04d}"
        if roll < 0.04:
            prompt, kind, calls = f"PERMANENT {i}", "permanent", 1
        elif roll < 0.05:
            prompt, kind, calls = f"ALWAYS_TRANSIENT {i}", "gives_up", max_receives
        elif roll < 0.13:
            failures = rng.choice([1, 2])
            prompt, kind, calls = f"TRANSIENT{failures} {i}", "recovers", failures + 1
        else:
            prompt, kind, calls = f"question {i}", "ok", 1
        lines.append(chat_line(custom_id, prompt))
        kinds[custom_id] = kind
        expected_calls += calls
    return lines, kinds, expected_calls


@pytest.fixture
def no_circuit_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The breaker opens on consecutive failures and closes after real seconds, so with it how
    many upstream calls a line gets (and whether a healthy line is refused on its last receive
    while the breaker is open) depends on the machine's speed. It has its own tests; this one is
    about every line ending exactly once."""
    monkeypatch.setenv("IC_CIRCUIT_BREAKER_FAILURES", "1000")


def test_every_line_ends_in_exactly_one_file_and_nothing_is_answered_twice(
    no_circuit_breaker, api, aws, drain, upstream, runtime, monkeypatch
):
    lines, kinds, expected_calls = script()
    # The job is queued a hundred lines at a time (the first by the API, the rest by the worker
    # through `batch.expand` messages), which also keeps moto's queue scans short.
    settings = get_settings()
    monkeypatch.setattr(settings.batch, "batch_enqueue_inline_lines", 100)
    monkeypatch.setattr(settings.batch, "batch_expand_chunk_lines", 100)
    file = api.client.post(
        "/v1/files", files={"file": ("big.jsonl", jsonl(lines))}, data={"purpose": "batch"}
    ).json()
    batch = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    ).json()
    assert batch["request_counts"]["total"] == LINES

    # Duplicate deliveries, the two ways SQS makes them: a second copy of ~10% of the messages
    # on the queue, and ~5% of records delivered twice within one invocation.
    from inference_core.batch.service import BatchService

    rng = random.Random(11)
    service = BatchService(runtime)
    job = runtime.jobs.get(batch["id"])
    copies = [
        service.line_message(job, line)
        for line in service.input_lines(job)
        if kinds[line.custom_id] != "gives_up" and rng.random() < 0.10
    ]
    runtime.queue.send(copies)
    assert len(copies) > 50

    def twin(record: dict[str, Any]) -> bool:
        custom_id = json.loads(record["body"]).get("custom_id")  # lines only, not expand messages
        return custom_id is not None and kinds[custom_id] != "gives_up" and rng.random() < 0.05

    drained = drain(duplicate=twin)

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "completed", done
    outputs = read_jsonl(api.client.get(f"/v1/files/{done['output_file_id']}/content").content)
    errors = read_jsonl(api.client.get(f"/v1/files/{done['error_file_id']}/content").content)
    out_ids = [line["custom_id"] for line in outputs]
    err_ids = [line["custom_id"] for line in errors]

    # Exactly one file per line, each once.
    assert len(out_ids) == len(set(out_ids)) and len(err_ids) == len(set(err_ids))
    assert set(out_ids) | set(err_ids) == set(kinds)
    assert not set(out_ids) & set(err_ids)
    assert set(out_ids) == {c for c, k in kinds.items() if k in ("ok", "recovers")}
    assert set(err_ids) == {c for c, k in kinds.items() if k in ("permanent", "gives_up")}
    assert done["request_counts"] == {
        "total": LINES,
        "completed": len(out_ids),
        "failed": len(err_ids),
    }
    for line in outputs:
        prompt = line["response"]["body"]["choices"][0]["message"]["content"].removeprefix("echo: ")
        assert prompt.split()[-1] == str(int(line["custom_id"].removeprefix("line-")))
    reasons = Counter(line["error"]["code"] for line in errors)
    assert reasons == Counter(
        {
            "upstream_request_rejected": sum(k == "permanent" for k in kinds.values()),
            "upstream_unavailable": sum(k == "gives_up" for k in kinds.values()),
        }
    )

    # The upstream saw each line once, plus once per retried transient failure.
    assert upstream.total_calls == expected_calls
    assert all(
        count == 1
        for prompt, count in upstream.calls.items()
        if not prompt.startswith(("TRANSIENT", "ALWAYS"))
    )

    # Lines that failed for good are answers in the error file, not faults: the DLQ is empty.
    assert aws.dlq() == []

    # Nothing is left behind, and exactly one finalizer ran (one email, one set of files).
    assert aws.queue_depth() == 0
    assert [m["template"] for m in aws.mail()] == ["batch_completed"]
    assert drained.invocations > LINES / 10
    assert drained.twins > 10  # the in-invocation duplicates did happen
