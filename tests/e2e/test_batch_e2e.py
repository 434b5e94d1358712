"""A batch through the local stack with the official `openai` SDK, as a user's program runs one:
upload a JSONL file, create the batch, wait for it (the local poller feeds the real worker, which
calls the real local model), and download the results."""

from __future__ import annotations

import io
import json
import time
from typing import Any

TERMINAL = {"completed", "failed", "expired", "cancelled"}


def wait_for(openai_client: Any, batch_id: str, timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        batch = openai_client.batches.retrieve(batch_id)
        if batch.status in TERMINAL or time.monotonic() > deadline:
            return batch
        time.sleep(1)


def test_a_batch_runs_against_the_local_model(openai_client: Any) -> None:
    lines = [
        {
            "custom_id": f"q{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "smollm2",
                "messages": [{"role": "user", "content": question}],
                "max_tokens": 8,
                "temperature": 0,
            },
        }
        for i, question in enumerate(["Say hi.", "Name a colour.", "Count to three."])
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()

    uploaded = openai_client.files.create(
        file=("questions.jsonl", io.BytesIO(data)), purpose="batch"
    )
    assert uploaded.purpose == "batch" and uploaded.bytes == len(data)
    batch = openai_client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"suite": "e2e"},
    )
    assert batch.status in ("validating", "in_progress", "finalizing", "completed")
    assert batch.request_counts.total == 3

    done = wait_for(openai_client, batch.id)

    assert done.status == "completed", done
    assert done.request_counts.completed == 3 and done.request_counts.failed == 0
    assert done.error_file_id is None
    assert done.metadata == {"suite": "e2e"}
    results = [
        json.loads(line)
        for line in openai_client.files.content(done.output_file_id).text.splitlines()
    ]
    assert sorted(r["custom_id"] for r in results) == ["q0", "q1", "q2"]
    for result in results:
        body = result["response"]["body"]
        assert result["response"]["status_code"] == 200 and result["error"] is None
        assert body["object"] == "chat.completion" and body["model"] == "smollm2"
        assert body["choices"][0]["message"]["content"].strip()
        assert 1 <= body["usage"]["completion_tokens"] <= 8
    assert batch.id in [b.id for b in openai_client.batches.list(limit=10).data]


def test_a_cancelled_batch_keeps_its_finished_lines(openai_client: Any) -> None:
    lines = [
        {
            "custom_id": f"c{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "smollm2",
                "messages": [{"role": "user", "content": f"Say {i}."}],
                "max_tokens": 4,
            },
        }
        for i in range(3)
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    uploaded = openai_client.files.create(file=("c.jsonl", io.BytesIO(data)), purpose="batch")
    batch = openai_client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )

    cancelled = openai_client.batches.cancel(batch.id)
    assert cancelled.status in ("cancelling", "cancelled", "completed", "finalizing")

    done = wait_for(openai_client, batch.id)
    assert done.status in ("cancelled", "completed")
    finished = done.request_counts.completed + done.request_counts.failed
    outputs = (
        openai_client.files.content(done.output_file_id).text.splitlines()
        if done.output_file_id
        else []
    )
    errors = (
        openai_client.files.content(done.error_file_id).text.splitlines()
        if done.error_file_id
        else []
    )
    # Every line is accounted for exactly once: answered, or cancelled before it ran.
    assert len(outputs) + len(errors) == 3
    assert len(outputs) == done.request_counts.completed <= finished


def test_the_cli_submits_waits_and_downloads(
    local_stack: dict[str, Any], tmp_path: Any, capsys: Any
) -> None:
    from inference_core.cli import main

    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": f"cli-{i}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": {
                        "model": "smollm2",
                        "messages": [{"role": "user", "content": "Hi"}],
                        "max_tokens": 4,
                    },
                }
            )
            + "\n"
            for i in range(2)
        )
    )
    state = ["--state-dir", local_stack["state_dir"]]

    code = main(
        [
            *state,
            "batch",
            "submit",
            str(source),
            "--wait",
            "--poll-seconds",
            "0.5",
            "--output-dir",
            str(tmp_path / "out"),
        ]
    )

    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["status"] == "completed" and summary["request_counts"]["completed"] == 2
    assert "2/2 done" in captured.err  # the progress bar
    output = [json.loads(line) for line in open(summary["files"]["output"])]
    assert sorted(line["custom_id"] for line in output) == ["cli-0", "cli-1"]
    assert summary["files"]["errors"] is None

    assert main([*state, "batch", "list", "--limit", "5"]) == 0
    assert summary["id"] in capsys.readouterr().out
    assert main([*state, "batch", "cancel", summary["id"]]) == 1  # finished: 409, reported
    assert "Cannot cancel" in capsys.readouterr().err
