"""Batch lines under the same admission as the API, at execution time, against the creating key,
its user and team: over a request limit a line waits and runs later (it does not fail); over
budget it ends in the error file with `insufficient_quota`."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .batch_support import MODEL, chat_line, make_inference_service
from .test_batch_worker import batch, output, start_batch


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
