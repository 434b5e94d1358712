"""Files and Batches over moto, from upload to downloaded results: the API, the real worker handler
fed like the local stack feeds it, the finalizer, cancel and the completion window."""

from __future__ import annotations

import json
from typing import Any

from .batch_support import BOB, MODEL, chat_line, jsonl, read_jsonl


def upload(api: Any, lines: list[dict[str, Any]], name: str = "in.jsonl") -> dict[str, Any]:
    response = api.client.post(
        "/v1/files", files={"file": (name, jsonl(lines))}, data={"purpose": "batch"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def create_batch(api: Any, file_id: str, **extra: Any) -> dict[str, Any]:
    response = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file_id,
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            **extra,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def content(api: Any, file_id: str) -> list[dict[str, Any]]:
    response = api.client.get(f"/v1/files/{file_id}/content")
    assert response.status_code == 200, response.text
    return read_jsonl(response.content)


def test_a_batch_runs_from_upload_to_output_file(api, drain, upstream, aws):
    file = upload(api, [chat_line("a", "one"), chat_line("b", "two"), chat_line("c", "three")])
    assert file["object"] == "file" and file["purpose"] == "batch" and file["status"] == "processed"

    batch = create_batch(api, file["id"], metadata={"team": "search"})
    assert batch["status"] == "in_progress"
    assert batch["request_counts"] == {"total": 3, "completed": 0, "failed": 0}
    assert batch["expires_at"] == batch["created_at"] + 24 * 3600

    drain()

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": 3, "completed": 3, "failed": 0}
    assert done["error_file_id"] is None
    assert done["metadata"] == {"team": "search"}
    assert done["usage"]["input_tokens"] == 21 and done["usage"]["output_tokens"] == 9
    lines = content(api, done["output_file_id"])
    by_id = {line["custom_id"]: line for line in lines}
    assert set(by_id) == {"a", "b", "c"}
    answer = by_id["b"]["response"]
    assert answer["status_code"] == 200
    assert answer["body"]["object"] == "chat.completion"
    assert answer["body"]["choices"][0]["message"]["content"] == "echo: two"
    assert by_id["b"]["error"] is None and by_id["b"]["id"].startswith("batch_req_")
    assert upstream.total_calls == 3
    # The completion email was queued for the creator.
    [mail] = aws.mail()
    assert mail["template"] == "batch_completed" and mail["to"] == "alice@example.com"
    assert mail["context"]["request_counts"] == {"total": 3, "completed": 3, "failed": 0}


def test_failed_lines_go_to_the_error_file_with_their_reason(api, drain, aws):
    file = upload(
        api,
        [
            chat_line("ok", "fine"),
            chat_line("refused", "PERMANENT please"),
            chat_line("unknown-model", "hi", model="no-such-model"),
        ],
    )
    batch = create_batch(api, file["id"])

    drain()

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": 3, "completed": 1, "failed": 2}
    errors = {line["custom_id"]: line for line in content(api, done["error_file_id"])}
    assert errors["refused"]["error"]["code"] == "upstream_request_rejected"
    assert errors["refused"]["response"]["status_code"] == 502
    assert errors["unknown-model"]["error"]["code"] == "model_not_found"
    assert errors["unknown-model"]["response"]["status_code"] == 404
    assert [line["custom_id"] for line in content(api, done["output_file_id"])] == ["ok"]
    # Expected line failures are answers, not faults: their messages are consumed, the DLQ
    # (and its alarm) stays empty.
    assert aws.dlq() == []
    assert aws.queue_depth() == 0


def test_another_users_files_and_batches_are_not_found(api, drain):
    file = upload(api, [chat_line("a", "one")])
    batch = create_batch(api, file["id"])
    api.as_user(BOB)
    for method, path in [
        ("get", f"/v1/files/{file['id']}"),
        ("get", f"/v1/files/{file['id']}/content"),
        ("delete", f"/v1/files/{file['id']}"),
        ("get", f"/v1/batches/{batch['id']}"),
        ("post", f"/v1/batches/{batch['id']}/cancel"),
    ]:
        response = getattr(api.client, method)(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["type"] == "not_found_error"
    response = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    assert response.status_code == 404
    assert api.client.get("/v1/batches").json()["data"] == []
    assert api.client.get("/v1/files").json()["data"] == []


def test_upload_validation_names_the_bad_lines(api):
    bad = (
        jsonl(
            [
                chat_line("a", "one"),
                chat_line("a", "dup"),
                {"custom_id": "x", "method": "GET", "url": "/v1/chat/completions", "body": {}},
                {"custom_id": "y", "method": "POST", "url": "/v1/images", "body": {}},
                {
                    "custom_id": "z",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": {"model": MODEL},
                },
            ]
        )
        + b"not json\n"
    )
    response = api.client.post(
        "/v1/files", files={"file": ("bad.jsonl", bad)}, data={"purpose": "batch"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_file"
    for number in ("line 2", "line 3", "line 4", "line 5", "line 6"):
        assert number in error["message"]
    assert "line 1:" not in error["message"]
    assert ".;" not in error["message"]
    # Only the first five are listed.
    seven = api.client.post(
        "/v1/files", files={"file": ("bad.jsonl", bad + b"[]\n")}, data={"purpose": "batch"}
    )
    assert "(and 1 more)" in seven.json()["error"]["message"]

    wrong_purpose = api.client.post(
        "/v1/files",
        files={"file": ("a.jsonl", jsonl([chat_line("a", "x")]))},
        data={"purpose": "fine-tune"},
    )
    assert wrong_purpose.status_code == 400


def test_limits_on_size_and_lines(api, monkeypatch):
    from inference_core.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings.batch, "batch_max_lines", 2)
    too_many = api.client.post(
        "/v1/files",
        files={"file": ("a.jsonl", jsonl([chat_line(str(i), "x") for i in range(3)]))},
        data={"purpose": "batch"},
    )
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "too_many_requests"
    monkeypatch.setattr(settings.batch, "batch_max_file_bytes", 100)
    too_big = api.client.post(
        "/v1/files", files={"file": ("a.jsonl", b"x" * 101)}, data={"purpose": "batch"}
    )
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "file_too_large"


def test_files_list_retrieve_and_delete(api, aws, clock):
    first = upload(api, [chat_line("a", "one")], name="first.jsonl")
    clock.advance(1)
    second = upload(api, [chat_line("a", "two")], name="second.jsonl")
    listed = api.client.get("/v1/files", params={"limit": 1}).json()
    assert [f["id"] for f in listed["data"]] == [second["id"]] and listed["has_more"] is True
    rest = api.client.get("/v1/files", params={"after": second["id"]}).json()
    assert [f["id"] for f in rest["data"]] == [first["id"]] and rest["has_more"] is False
    assert api.client.get(f"/v1/files/{first['id']}").json()["filename"] == "first.jsonl"
    deleted = api.client.delete(f"/v1/files/{first['id']}").json()
    assert deleted == {"id": first["id"], "object": "file", "deleted": True}
    assert api.client.get(f"/v1/files/{first['id']}").status_code == 404
    keys = [o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.bucket).get("Contents", [])]
    assert keys == [f"files/{second['id']}"]


def test_batches_are_listed_newest_first_with_after_and_limit(api, clock):
    file = upload(api, [chat_line("a", "one")])
    ids = []
    for _ in range(3):
        ids.append(create_batch(api, file["id"])["id"])
        clock.advance(1)
    page = api.client.get("/v1/batches", params={"limit": 2}).json()
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"] is True
    rest = api.client.get("/v1/batches", params={"limit": 2, "after": page["last_id"]}).json()
    assert [b["id"] for b in rest["data"]] == [ids[0]] and rest["has_more"] is False


def test_cancel_keeps_finished_lines_and_stops_the_rest(
    api, drain, upstream, aws, worker, sqs_event, lambda_context
):
    file = upload(api, [chat_line(str(i), f"prompt {i}") for i in range(6)])
    batch = create_batch(api, file["id"])
    # Run two lines, then cancel.
    first_two = aws.sqs.receive_message(
        QueueUrl=aws.batch_queue_url, MaxNumberOfMessages=2, AttributeNames=["All"]
    )["Messages"]
    response = worker.handler(sqs_event(first_two), lambda_context)
    assert response == {"batchItemFailures": []}
    for m in first_two:
        aws.sqs.delete_message(QueueUrl=aws.batch_queue_url, ReceiptHandle=m["ReceiptHandle"])

    cancelling = api.client.post(f"/v1/batches/{batch['id']}/cancel").json()
    assert cancelling["status"] == "cancelling" and cancelling["cancelling_at"]

    drain()

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "cancelled" and done["cancelled_at"]
    assert done["request_counts"] == {"total": 6, "completed": 2, "failed": 0}
    assert upstream.total_calls == 2
    assert len(content(api, done["output_file_id"])) == 2
    errors = content(api, done["error_file_id"])
    assert len(errors) == 4 and {e["error"]["code"] for e in errors} == {"batch_cancelled"}
    # A finished batch cannot be cancelled again into another state.
    again = api.client.post(f"/v1/batches/{batch['id']}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_completed_batch_cannot_be_cancelled(api, drain):
    file = upload(api, [chat_line("a", "one")])
    batch = create_batch(api, file["id"])
    drain()
    response = api.client.post(f"/v1/batches/{batch['id']}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "batch_not_cancellable"


def test_lines_after_the_completion_window_expire(api, drain, clock, upstream):
    file = upload(api, [chat_line(str(i), f"p{i}") for i in range(3)])
    batch = create_batch(api, file["id"])
    clock.advance(24 * 3600 + 1)

    drain()

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "expired" and done["expired_at"]
    assert upstream.total_calls == 0
    errors = content(api, done["error_file_id"])
    assert {e["error"]["code"] for e in errors} == {"batch_expired"}
    assert {e["custom_id"] for e in errors} == {"0", "1", "2"}


def test_a_batch_whose_lines_never_come_is_finalized_after_its_deadline(api, aws, clock, drain):
    file = upload(api, [chat_line(str(i), f"p{i}") for i in range(3)])
    batch = create_batch(api, file["id"])
    # One line runs; the other two are lost (e.g. the queue's retention dropped them).
    drain_one = aws.sqs.receive_message(QueueUrl=aws.batch_queue_url, MaxNumberOfMessages=10)[
        "Messages"
    ]
    for m in drain_one[1:]:
        aws.sqs.delete_message(QueueUrl=aws.batch_queue_url, ReceiptHandle=m["ReceiptHandle"])
    aws.sqs.change_message_visibility(
        QueueUrl=aws.batch_queue_url,
        ReceiptHandle=drain_one[0]["ReceiptHandle"],
        VisibilityTimeout=0,
    )
    drain()
    assert api.client.get(f"/v1/batches/{batch['id']}").json()["status"] == "in_progress"

    clock.advance(24 * 3600 + 901)
    done = api.client.get(f"/v1/batches/{batch['id']}").json()

    assert done["status"] == "expired"
    assert done["request_counts"]["completed"] == 1
    errors = content(api, done["error_file_id"])
    assert len(errors) == 2 and {e["error"]["code"] for e in errors} == {"batch_expired"}


def test_the_inline_form_creates_the_same_kind_of_job(api, drain):
    response = api.client.post(
        "/v1/batch/jobs",
        json={
            "items": [
                {
                    "custom_id": "x",
                    "model": MODEL,
                    "messages": [{"role": "user", "content": "hi"}],
                    "max_tokens": 5,
                },
                {"custom_id": "y", "model": MODEL, "messages": [{"role": "user", "content": "yo"}]},
            ],
            "metadata": {"via": "inline"},
        },
    )
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["endpoint"] == "/v1/chat/completions" and batch["request_counts"]["total"] == 2

    drain()

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "completed"
    lines = content(api, done["output_file_id"])
    assert sorted(line["custom_id"] for line in lines) == ["x", "y"]
    # The job's input is an ordinary file of the user's.
    assert api.client.get(f"/v1/files/{done['input_file_id']}").status_code == 200


def test_the_inline_form_limits_items_and_refuses_mixed_kinds(api, monkeypatch):
    from inference_core.settings import get_settings

    monkeypatch.setattr(get_settings().batch, "batch_inline_max_items", 1)
    item = {"custom_id": "x", "model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    too_many = api.client.post("/v1/batch/jobs", json={"items": [item, {**item, "custom_id": "y"}]})
    assert too_many.status_code == 400
    monkeypatch.setattr(get_settings().batch, "batch_inline_max_items", 10)
    mixed = api.client.post(
        "/v1/batch/jobs", json={"items": [item, {"custom_id": "p", "model": MODEL, "prompt": "x"}]}
    )
    assert mixed.status_code == 400 and mixed.json()["error"]["code"] == "mismatched_endpoint"


def test_embeddings_and_completions_batches(api, drain):
    lines = [
        {
            "custom_id": "e1",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": MODEL, "input": "abc"},
        },
        {
            "custom_id": "e2",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": MODEL, "input": ["a", "bb"]},
        },
    ]
    file = upload(api, lines)
    response = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file["id"],
            "endpoint": "/v1/embeddings",
            "completion_window": "24h",
        },
    )
    assert response.status_code == 200, response.text
    wrong = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "mismatched_endpoint"
    drain()
    done = api.client.get(f"/v1/batches/{response.json()['id']}").json()
    by_id = {line["custom_id"]: line for line in content(api, done["output_file_id"])}
    assert by_id["e2"]["response"]["body"]["object"] == "list"
    assert len(by_id["e2"]["response"]["body"]["data"]) == 2

    file = upload(
        api,
        [
            {
                "custom_id": "c",
                "method": "POST",
                "url": "/v1/completions",
                "body": {"model": MODEL, "prompt": "tell"},
            }
        ],
    )
    response = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file["id"],
            "endpoint": "/v1/completions",
            "completion_window": "24h",
        },
    )
    drain()
    done = api.client.get(f"/v1/batches/{response.json()['id']}").json()
    [line] = content(api, done["output_file_id"])
    assert line["response"]["body"]["object"] == "text_completion"
    assert line["response"]["body"]["choices"][0]["text"] == "echo: tell"


def test_large_jobs_are_queued_in_chunks_by_the_worker(api, drain, monkeypatch, aws):
    from inference_core.settings import get_settings

    monkeypatch.setattr(get_settings().batch, "batch_enqueue_inline_lines", 3)
    monkeypatch.setattr(get_settings().batch, "batch_expand_chunk_lines", 4)
    file = upload(api, [chat_line(str(i), f"p{i}") for i in range(12)])
    batch = create_batch(api, file["id"])
    bodies = [json.loads(m["Body"]) for m in aws.messages(aws.batch_queue_url, delete=False)]
    assert sorted(b["type"] for b in bodies) == ["batch.expand"] + ["batch.line"] * 3

    drain()

    done = api.client.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "completed" and done["request_counts"]["completed"] == 12
