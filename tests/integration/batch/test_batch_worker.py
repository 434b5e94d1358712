"""The worker Lambda handler over moto: the exact partial-failure response, idempotent
redeliveries, giving up on the last receive, the one finalizer, poison messages, concurrency."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from inference_core.settings import get_settings

from .batch_support import MODEL, chat_line, jsonl, read_jsonl


def start_batch(api: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    file = api.client.post(
        "/v1/files", files={"file": ("in.jsonl", jsonl(lines))}, data={"purpose": "batch"}
    ).json()
    response = api.client.post(
        "/v1/batches",
        json={
            "input_file_id": file["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def receive(aws: Any, n: int = 10) -> list[dict[str, Any]]:
    return aws.sqs.receive_message(
        QueueUrl=aws.batch_queue_url,
        MaxNumberOfMessages=n,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def with_receive_count(message: dict[str, Any], count: int) -> dict[str, Any]:
    return {
        **message,
        "Attributes": {**message.get("Attributes", {}), "ApproximateReceiveCount": str(count)},
    }


def batch(api: Any, batch_id: str) -> dict[str, Any]:
    return api.client.get(f"/v1/batches/{batch_id}").json()


def output(api: Any, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return read_jsonl(api.client.get(f"/v1/files/{file_id}/content").content)


def test_the_response_lists_exactly_the_failed_records(api, aws, worker, sqs_event, lambda_context):
    start_batch(
        api,
        [
            chat_line("ok", "fine"),
            chat_line("flaky", "TRANSIENT1 x"),
            chat_line("ok2", "also fine"),
        ],
    )
    messages = receive(aws)
    flaky = next(m for m in messages if json.loads(m["Body"])["custom_id"] == "flaky")

    response = worker.handler(sqs_event(messages), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": flaky["MessageId"]}]}


def test_an_all_good_invocation_answers_with_an_empty_list(
    api, aws, worker, sqs_event, lambda_context
):
    start_batch(api, [chat_line("a", "one")])
    assert worker.handler(sqs_event(receive(aws)), lambda_context) == {"batchItemFailures": []}


def test_a_redelivered_line_never_calls_the_model_twice(
    api, aws, worker, sqs_event, lambda_context, upstream, drain
):
    created = start_batch(api, [chat_line("a", "one"), chat_line("b", "two")])
    messages = receive(aws)
    first = messages[0]
    # The same message twice in one invocation (concurrently), then again in another one.
    response = worker.handler(sqs_event([first, first]), lambda_context)
    # The concurrent twin found the first one in progress: it is failed, to come back later.
    assert response["batchItemFailures"] in ([], [{"itemIdentifier": first["MessageId"]}])
    assert worker.handler(sqs_event([first]), lambda_context) == {"batchItemFailures": []}
    assert worker.handler(sqs_event(messages), lambda_context) == {"batchItemFailures": []}

    assert upstream.total_calls == 2
    done = batch(api, created["id"])
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert len(output(api, done["output_file_id"])) == 2


def test_a_line_that_keeps_failing_ends_in_the_error_file_not_the_dlq(
    api, aws, worker, sqs_event, lambda_context, upstream
):
    created = start_batch(api, [chat_line("bad", "ALWAYS_TRANSIENT x"), chat_line("good", "fine")])
    messages = receive(aws)
    bad = next(m for m in messages if json.loads(m["Body"])["custom_id"] == "bad")
    limit = get_settings().batch.batch_max_receive_count
    # The good line first: the bad one's failures open the deployment's circuit breaker, which
    # then (rightly) refuses other lines until it recovers.
    worker.handler(sqs_event([m for m in messages if m is not bad]), lambda_context)

    for count in range(1, limit):
        response = worker.handler(sqs_event([with_receive_count(bad, count)]), lambda_context)
        assert response == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    # The last allowed receive: given up, recorded in the error file, and consumed.
    response = worker.handler(sqs_event([with_receive_count(bad, limit)]), lambda_context)
    assert response == {"batchItemFailures": []}

    assert upstream.calls["ALWAYS_TRANSIENT x"] == limit
    done = batch(api, created["id"])
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    [error] = output(api, done["error_file_id"])
    assert error["custom_id"] == "bad"
    assert error["error"]["code"] == "upstream_unavailable"
    assert "overloaded" in error["error"]["message"]
    assert aws.dlq() == []


def test_transient_failures_are_retried_later_through_sqs(
    api, aws, worker, sqs_event, lambda_context, monkeypatch, upstream, drain
):
    monkeypatch.setattr(get_settings().batch, "batch_retry_base_seconds", 30)
    start_batch(api, [chat_line("flaky", "TRANSIENT1 x")])
    [message] = receive(aws)
    assert worker.handler(sqs_event([message]), lambda_context)["batchItemFailures"]
    # The record was given a 30 s backoff: it is not visible yet.
    assert receive(aws) == []


def test_exactly_one_finalizer_even_when_the_last_lines_race(
    api, aws, worker, sqs_event, lambda_context, drain
):
    created = start_batch(api, [chat_line(str(i), f"p{i}") for i in range(5)])
    messages = receive(aws)
    # All five in one invocation, concurrently, two of them twice: the transactions race for
    # `remaining`; a twin that finds its line in progress is failed, to come back later.
    response = worker.handler(sqs_event(messages + messages[:2]), lambda_context)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed <= {messages[0]["MessageId"], messages[1]["MessageId"]}
    # Redeliver everything once more after completion: nothing changes, nothing is re-sent.
    worker.handler(sqs_event(messages), lambda_context)
    drain()

    done = batch(api, created["id"])
    assert done["status"] == "completed" and done["request_counts"]["completed"] == 5
    assert len(output(api, done["output_file_id"])) == 5
    mails = aws.mail()
    assert [m["template"] for m in mails] == ["batch_completed"]


def test_poison_messages_go_to_the_dlq_with_a_reason_and_do_not_stop_the_rest(
    api, aws, worker, sqs_event, lambda_context, upstream
):
    start_batch(api, [chat_line("a", "one")])
    good = receive(aws)
    event = sqs_event(
        [
            "not json",
            {"version": 2, "type": "batch.line"},
            {"version": 1, "type": "batch.nonsense"},
            {
                "version": 1,
                "type": "batch.line",
                "batch_id": "batch_gone",
                "index": 0,
                "custom_id": "x",
                "url": "/v1/chat/completions",
                "body": {"model": MODEL},
            },
            *good,
        ]
    )

    assert worker.handler(event, lambda_context) == {"batchItemFailures": []}

    assert upstream.total_calls == 1
    reasons = sorted(m["MessageAttributes"]["error_message"]["StringValue"] for m in aws.dlq())
    assert len(reasons) == 4
    assert any("not JSON" in r for r in reasons)
    assert any("version" in r for r in reasons)
    assert any("unknown batch" in r for r in reasons)


def test_without_a_dlq_url_a_given_up_message_fails_until_sqs_redrives_it(
    api, aws, worker, sqs_event, lambda_context, monkeypatch
):
    monkeypatch.setattr(worker.get_worker().runtime.queue, "dlq_url", None)
    event = sqs_event(["not json"])
    message_id = event["Records"][0]["messageId"]
    assert worker.handler(event, lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": message_id}]
    }


def test_records_run_concurrently_up_to_the_limit(
    api, aws, worker, sqs_event, lambda_context, upstream, monkeypatch
):
    monkeypatch.setattr(get_settings().batch, "batch_worker_concurrency", 3)
    active = {"now": 0, "peak": 0}
    real_chat = upstream.chat

    async def counting_chat(request: Any, deployment: Any) -> Any:
        active["now"] += 1
        active["peak"] = max(active["peak"], active["now"])
        try:
            await asyncio.sleep(0.05)
            return await real_chat(request, deployment)
        finally:
            active["now"] -= 1

    monkeypatch.setattr(upstream, "chat", counting_chat)
    start_batch(api, [chat_line(str(i), f"p{i}") for i in range(9)])

    assert worker.handler(sqs_event(receive(aws)), lambda_context) == {"batchItemFailures": []}

    assert active["peak"] == 3


def test_large_bodies_travel_by_reference_and_large_results_live_in_s3(
    api, aws, drain, monkeypatch
):
    from inference_core.batch import messages, service, worker

    monkeypatch.setattr(messages, "MAX_INLINE_BODY_BYTES", 10)
    monkeypatch.setattr(service, "MAX_INLINE_BODY_BYTES", 10)
    monkeypatch.setattr(worker, "MAX_ITEM_BODY_BYTES", 10)
    created = start_batch(api, [chat_line("a", "first"), chat_line("b", "second")])
    queued = [json.loads(m["Body"]) for m in aws.messages(aws.batch_queue_url, delete=False)]
    assert all("body" not in q and q["body_ref"]["length"] > 0 for q in queued)

    drain()

    done = batch(api, created["id"])
    lines = {line["custom_id"]: line for line in output(api, done["output_file_id"])}
    assert lines["b"]["response"]["body"]["choices"][0]["message"]["content"] == "echo: second"
    keys = [
        o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="results/")["Contents"]
    ]
    assert len(keys) == 2


def test_lines_are_charged_to_the_key_that_created_the_batch(api, aws, drain):
    created = start_batch(api, [chat_line("a", "one")])
    drain()
    usage = aws.dynamodb.scan(TableName=get_settings().tables.usage_table)["Items"]
    [line] = [u for u in usage if u["endpoint"]["S"].startswith("batch.")]
    assert line["tenant_id"]["S"] == "user-alice"
    assert line["key_id"]["S"] == "key-alice"
    assert line["request_id"]["S"] == f"{created['id']}-0"


def test_a_model_the_key_may_not_use_is_a_permanent_line_error(api, aws, drain):
    from inference_core.auth.principal import Principal

    from .batch_support import ALICE

    limited = Principal(**{**ALICE.__dict__, "allowed_models": frozenset({"other"})})
    api.as_user(limited)
    created = start_batch(api, [chat_line("a", "one")])
    drain()
    done = batch(api, created["id"])
    [error] = output(api, done["error_file_id"])
    assert error["error"]["code"] == "model_not_allowed"
    assert error["response"]["status_code"] == 403


@pytest.mark.parametrize("stream", [True])
def test_streaming_lines_are_refused_at_upload(api, stream):
    response = api.client.post(
        "/v1/files",
        files={"file": ("in.jsonl", jsonl([chat_line("a", "x", stream=stream)]))},
        data={"purpose": "batch"},
    )
    assert response.status_code == 400
    assert "Streaming" in response.json()["error"]["message"]


def test_a_failed_finalizer_gives_its_claim_back_and_the_retry_finishes_the_job(
    api, aws, drain, runtime, monkeypatch
):
    created = start_batch(api, [chat_line("a", "one"), chat_line("b", "two")])
    real_put = runtime.store.put
    failures = {"left": 1}

    def flaky_put(key: str, data: bytes, **kwargs: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            from inference_core.errors import ServiceUnavailableError

            raise ServiceUnavailableError("S3 is having a moment.")
        real_put(key, data, **kwargs)

    monkeypatch.setattr(runtime.store, "put", flaky_put)

    drain()

    done = batch(api, created["id"])
    assert done["status"] == "completed"
    assert len(output(api, done["output_file_id"])) == 2
    assert [m["template"] for m in aws.mail()] == ["batch_completed"]
    assert aws.dlq() == []
