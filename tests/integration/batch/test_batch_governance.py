"""Batch lines under the same admission as the API, at execution time, against the creating key,
its user and team: over a request limit a line waits and runs later (it does not fail); over
budget it ends in the error file with `insufficient_quota`.

And the governed worker's line path: a line's claim rides in its admission and its outcome and
count in its settle, so a line costs at most three DynamoDB calls (two transactions and, for the
invocation, one cache BatchGetItem), a redelivered line never reaches the model or the ledger
twice, and records not started before the invocation's deadline go back to the queue unrun."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from inference_core.settings import get_settings
from tests.factories import FakeLambdaContext
from tests.factories import lambda_context as make_lambda_context

from .batch_support import MODEL, chat_line, make_inference_service
from .test_batch_worker import batch, output, receive, start_batch, with_receive_count


@pytest.fixture
def governed(aws: Any) -> Any:
    """The key and user items behind the batch suite's ALICE, and a process governance."""
    from inference_core.db.models import ApiKeyModel, UserModel, configure_models
    from inference_core.governance import Governance
    from inference_core.settings import get_settings

    settings = get_settings()
    configure_models(settings)
    UserModel(
        "user-alice",
        email="alice@example.com",
        password_hash="x",
        created_at=1,
        updated_at=1,
        rpm_limit=600,
    ).save()

    class Governed:
        governance = Governance(settings=settings)

        def key(self, **limits: Any) -> None:
            ApiKeyModel(
                "hash-alice",
                key_id="key-alice",
                owner_id="user-alice",
                prefix="sk-ic-a",
                created_at=1,
                **limits,
            ).save()

    return Governed()


@pytest.fixture
def runtime(aws: Any, upstream: Any, receiver: Any, clock: Any, governed: Any) -> Any:
    """The suite's runtime, with an inference service that governs (as in production)."""
    from inference_core.batch.runtime import build_batch_runtime
    from inference_core.settings import get_settings

    settings = get_settings()
    service = make_inference_service(settings, upstream)
    service.governance = governed.governance
    return build_batch_runtime(settings, inference_factory=lambda: service, clock=clock)


def test_lines_over_the_keys_rpm_wait_for_the_next_window_and_all_complete(
    api: Any, drain: Any, governed: Any, upstream: Any
) -> None:
    governed.key(rpm_limit=2)
    # The governance clock stands still three seconds before a minute ends while the first lines
    # run (however slow the machine, they all see one window), then moves on into the next minute.
    minute_end = int(time.time()) // 60 * 60 + 60
    clock = {"now": lambda: float(minute_end - 3)}
    governed.governance.clock = lambda: clock["now"]()
    created = start_batch(api, [chat_line(f"q{i}", f"question {i}") for i in range(4)])
    drain()
    waiting = batch(api, created["id"])
    # two ran; the other two wait on the queue (delayed by Retry-After), neither failed nor lost
    assert waiting["request_counts"] == {"total": 4, "completed": 2, "failed": 0}
    released = time.time()
    clock["now"] = lambda: minute_end + (time.time() - released)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        drain()
        done = batch(api, created["id"])
        if done["status"] == "completed":
            break
    assert done["status"] == "completed", done
    assert done["request_counts"] == {"total": 4, "completed": 4, "failed": 0}, output(
        api, done["error_file_id"]
    )
    assert done["error_file_id"] is None
    assert upstream.total_calls == 4  # nothing refused ever reached the model


def test_lines_over_the_keys_budget_end_in_the_error_file(
    api: Any, drain: Any, governed: Any
) -> None:
    # the suite's model reserves $0.000015 for a short line: two fit, not five
    line_cost = (5 * 1.0 + 5 * 2.0) / 1_000_000  # 5 prompt + 5 output tokens, reserved
    governed.key(max_budget_usd=2 * line_cost, budget_period="total")
    created = start_batch(api, [chat_line(f"q{i}", "hi", max_tokens=5) for i in range(5)])
    drain()
    done = batch(api, created["id"])
    assert done["status"] == "completed", done
    counts = done["request_counts"]
    assert counts["total"] == 5 and counts["failed"] >= 1 and counts["completed"] >= 1
    errors = output(api, done["error_file_id"])
    assert len(errors) == counts["failed"]
    assert {e["error"]["code"] for e in errors} == {"insufficient_quota"}
    assert {e["response"]["status_code"] for e in errors} == {429}
    assert MODEL


def test_a_revoked_key_fails_its_remaining_lines(api: Any, drain: Any, governed: Any) -> None:
    governed.key(revoked=True)
    created = start_batch(api, [chat_line("a", "one"), chat_line("b", "two")])
    drain()
    done = batch(api, created["id"])
    assert done["request_counts"]["failed"] == 2
    assert {e["error"]["code"] for e in output(api, done["error_file_id"])} == {"invalid_api_key"}


def test_lines_get_the_team_and_key_guardrail_policies_of_the_items(
    api: Any, drain: Any, governed: Any, upstream: Any
) -> None:
    from inference_core.db.models import TeamModel, UserModel

    TeamModel("team-legal", name="legal", created_at=1, guardrails={"pii.email": "block"}).save()
    UserModel.get("user-alice").update(actions=[UserModel.team_id.set("team-legal")])
    governed.key(guardrails={"pii.ip_address": "block"})
    created = start_batch(
        api,
        [
            chat_line("mail", "write to ada@example.com"),
            chat_line("ip", "ping 10.1.2.3 please"),
            chat_line("clean", "Say hi"),
        ],
    )
    drain()
    done = batch(api, created["id"])
    errors = {e["custom_id"]: e["error"] for e in output(api, done["error_file_id"])}
    assert set(errors) == {"mail", "ip"}
    assert (
        errors["mail"]["code"] == "guardrail_blocked" and "pii.email" in errors["mail"]["message"]
    )
    assert "pii.ip_address" in errors["ip"]["message"]
    assert [ok["custom_id"] for ok in output(api, done["output_file_id"])] == ["clean"]
    assert upstream.total_calls == 1


# ---- the governed line path ----


@pytest.fixture
def dynamodb_calls(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every DynamoDB call moto serves, by operation (whichever client made it)."""
    from moto.core.botocore_stubber import BotocoreStubber

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    serve = BotocoreStubber.process_request

    def counting(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else str(target)
        if target.startswith("DynamoDB_"):
            with lock:
                counts[target.split(".", 1)[1]] += 1
        return serve(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", counting)
    return counts


def receive_all(aws: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while got := receive(aws):
        found += got
    return found


def ledger_lines() -> list[Any]:
    from inference_core.db.models import UsageRecordModel

    return list(UsageRecordModel.scan())


def test_a_governed_line_costs_at_most_three_dynamodb_calls(
    api, aws, worker, sqs_event, lambda_context, upstream, governed, dynamodb_calls
):
    governed.key()
    lines = 30
    created = start_batch(api, [chat_line(f"q{i}", f"question {i}") for i in range(lines)])
    messages = receive_all(aws)
    assert len(messages) == lines
    dynamodb_calls.clear()

    response = worker.handler(sqs_event(messages), lambda_context)

    assert response == {"batchItemFailures": []}
    calls = dict(dynamodb_calls)
    # Admission (with the line's claim) and settle (with its outcome and count): two each, and
    # once a second settle for the job's last line (tried first as "not the last").
    assert calls["TransactWriteItems"] == 2 * lines + 1, calls
    # The cache for all thirty lines in one read, never one GetItem per line.
    assert calls["BatchGetItem"] == 1, calls
    assert sum(calls.values()) <= 3 * lines, calls
    done = batch(api, created["id"])
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": lines, "completed": lines, "failed": 0}
    assert upstream.total_calls == lines
    assert len(ledger_lines()) == lines


def test_a_redelivered_governed_line_is_refused_at_admission_and_charged_once(
    api, aws, worker, sqs_event, lambda_context, upstream, governed
):
    governed.key()
    created = start_batch(api, [chat_line("a", "one"), chat_line("b", "two")])
    messages = receive_all(aws)
    first = messages[0]
    # Twice in one invocation (concurrently), then again in a later one, then with the rest.
    twins = worker.handler(sqs_event([first, first]), lambda_context)
    assert twins["batchItemFailures"] in ([], [{"itemIdentifier": first["MessageId"]}])
    assert worker.handler(sqs_event([first]), lambda_context) == {"batchItemFailures": []}
    assert worker.handler(sqs_event(messages), lambda_context) == {"batchItemFailures": []}

    assert upstream.total_calls == 2
    assert sorted(line.request_id for line in ledger_lines()) == sorted(
        f"{created['id']}-{i}" for i in range(2)
    )
    done = batch(api, created["id"])
    assert done["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    assert [line["custom_id"] for line in output(api, done["output_file_id"])] in (
        ["a", "b"],
        ["b", "a"],
    )


def test_a_transient_failure_gives_the_claim_back_and_the_redelivery_runs_it(
    api, aws, worker, sqs_event, lambda_context, upstream, governed
):
    governed.key()
    created = start_batch(api, [chat_line("flaky", "TRANSIENT1 x")])
    [message] = receive_all(aws)

    failed = worker.handler(sqs_event([message]), lambda_context)
    assert failed == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    # The next delivery is not refused as "in progress": the failed one released its claim.
    again = worker.handler(sqs_event([with_receive_count(message, 2)]), lambda_context)
    assert again == {"batchItemFailures": []}

    assert upstream.calls["TRANSIENT1 x"] == 2
    done = batch(api, created["id"])
    assert done["request_counts"] == {"total": 1, "completed": 1, "failed": 0}
    # Both model calls are metered (the failed one at no cost), each once.
    statuses = sorted(line.status for line in ledger_lines())
    assert len(statuses) == 2 and "ok" in statuses


@dataclass
class RunningOut(FakeLambdaContext):
    """A context whose invocation started with five minutes and has `left` by its records."""

    left: int = 0
    asked: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        return 300_000 if self.asked == 1 else self.left


def test_records_not_started_before_the_deadline_go_back_to_the_queue_unrun(
    api, aws, worker, sqs_event, upstream, governed
):
    governed.key()
    created = start_batch(api, [chat_line(f"q{i}", f"question {i}") for i in range(3)])
    messages = receive_all(aws)
    reserve = get_settings().batch.batch_deadline_reserve_seconds
    late = RunningOut(function_name="ic-worker", left=(reserve - 1) * 1000)

    response = worker.handler(sqs_event(messages), late)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        m["MessageId"] for m in messages
    )
    assert upstream.total_calls == 0
    assert batch(api, created["id"])["request_counts"]["completed"] == 0
    # Visible again at once (not after the visibility timeout), and they run normally.
    again = receive_all(aws)
    assert sorted(m["MessageId"] for m in again) == sorted(m["MessageId"] for m in messages)
    ok = make_lambda_context("ic-worker", remaining_millis=300_000)
    assert worker.handler(sqs_event(again), ok) == {"batchItemFailures": []}
    done = batch(api, created["id"])
    assert done["request_counts"] == {"total": 3, "completed": 3, "failed": 0}
    assert upstream.total_calls == 3


def test_a_function_shorter_than_the_reserve_still_runs_its_records(
    api, aws, worker, sqs_event, upstream, governed
):
    governed.key()
    created = start_batch(api, [chat_line("a", "one")])
    reserve = get_settings().batch.batch_deadline_reserve_seconds
    short = make_lambda_context("ic-worker", remaining_millis=(reserve // 2) * 1000)

    assert worker.handler(sqs_event(receive_all(aws)), short) == {"batchItemFailures": []}
    assert batch(api, created["id"])["request_counts"]["completed"] == 1


def test_a_deferred_record_on_its_last_receive_is_requeued_not_redriven(
    api, aws, worker, sqs_event, upstream, governed
):
    governed.key()
    created = start_batch(api, [chat_line("a", "one")])
    [message] = receive_all(aws)
    limit = get_settings().batch.batch_max_receive_count
    late = RunningOut(function_name="ic-worker", left=1000)

    # One more receive would move it to the DLQ unread: it is sent again as a new message.
    response = worker.handler(sqs_event([with_receive_count(message, limit)]), late)

    assert response == {"batchItemFailures": []}
    [requeued] = receive_all(aws)
    assert requeued["MessageId"] != message["MessageId"]
    assert json.loads(requeued["Body"]) == json.loads(message["Body"])
    ok = make_lambda_context("ic-worker", remaining_millis=300_000)
    assert worker.handler(sqs_event([requeued]), ok) == {"batchItemFailures": []}
    assert batch(api, created["id"])["request_counts"]["completed"] == 1
    assert upstream.total_calls == 1
    assert aws.dlq() == []
