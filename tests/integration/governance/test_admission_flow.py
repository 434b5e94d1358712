"""Admission and settle through the real routes over moto: limits per level, refusal bodies and
headers, reservation arithmetic, the usage aggregates, revocation on the next request."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import reconfigure
from tests.integration.governance.conftest import minute_start

CHAT = {"model": "scripted", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}


def _key(client: TestClient, account: Any, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/auth/api-keys", json=fields, headers=account.auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _chat(client: TestClient, token: str, **extra: Any) -> Any:
    return client.post(
        "/v1/chat/completions",
        json={**CHAT, **extra},
        headers={"Authorization": f"Bearer {token}", "Cache-Control": "no-cache"},
    )


def test_a_request_is_settled_with_its_real_usage(
    client: TestClient, make_account: Any, upstream: Any, items: Any
) -> None:
    account = make_account()
    key = _key(client, account)
    response = _chat(client, key["key"])
    assert response.status_code == 200, response.text
    item = items.key(key["id"])
    assert item["leases"]["M"] == {}
    spend = item["spend"]["M"]
    assert len(spend) == 1
    # 11 input + 5 output tokens at the primary's $3 / $15 per million
    assert abs(float(next(iter(spend.values()))["N"]) - 0.000108) < 1e-9
    tokens = item["token_window"]["M"]
    assert [float(v["N"]) for v in tokens.values()] == [16.0]


def _cost(input_tokens: int, output_tokens: int) -> float:
    """The scripted model's worst-case price: its primary deployment ($3 / $15 per million)."""
    return (input_tokens * 3.0 + output_tokens * 15.0) / 1_000_000


def test_tpm_counts_the_reservation_then_the_real_usage(
    client: TestClient, make_account: Any, upstream: Any, items: Any, freeze: Any
) -> None:
    account = make_account()
    # "Hi" estimates at 5 prompt tokens (4 per message + 1); with max_tokens 20 it reserves 25.
    key = _key(client, account, tpm_limit=40)
    freeze(minute_start() + 1)
    assert _chat(client, key["key"]).status_code == 200
    # settled: the real 11 + 5 replaced the 25 reserved
    assert [v["N"] for v in items.key(key["id"])["token_window"]["M"].values()] == ["16"]
    refused = _chat(client, key["key"])  # 16 used + 25 reserved > 40
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and "tpm_limit" in error["message"]
    assert int(refused.headers["retry-after"]) <= 60
    # a request that could never fit the window is refused without waiting
    too_big = _chat(client, key["key"], max_tokens=500)
    assert too_big.status_code == 429 and "Request too large" in too_big.json()["error"]["message"]


def test_a_budget_is_refused_as_insufficient_quota_in_each_format(
    client: TestClient, make_account: Any, upstream: Any, items: Any
) -> None:
    account = make_account()
    reserve = _cost(5, 20)  # what one request reserves: its worst case
    key = _key(client, account, max_budget_usd=round(reserve + _cost(11, 5), 8))
    assert _chat(client, key["key"]).status_code == 200  # settles at 11 + 5 tokens
    spent = float(next(iter(items.key(key["id"])["spend"]["M"].values()))["N"])
    assert abs(spent - _cost(11, 5)) < 1e-12
    calls = len(upstream.calls)
    assert _chat(client, key["key"]).status_code == 200  # the rest still covers a worst case
    refused = _chat(client, key["key"])
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "insufficient_quota" and "max_budget_usd" in error["message"]
    assert int(refused.headers["retry-after"]) >= 1
    anthropic = client.post(
        "/v1/messages",
        json={
            "model": "scripted",
            "max_tokens": 20,
            "messages": [{"role": "user", "content": "Hi"}],
        },
        headers={"x-api-key": key["key"], "anthropic-version": "2023-06-01"},
    )
    assert anthropic.status_code == 429
    assert anthropic.json()["type"] == "error"
    assert anthropic.json()["error"]["type"] == "rate_limit_error"
    assert "budget" in anthropic.json()["error"]["message"]
    assert len(upstream.calls) == calls + 1
    # the recorded spend never exceeds the budget
    spent = float(next(iter(items.key(key["id"])["spend"]["M"].values()))["N"])
    assert spent <= float(key["max_budget_usd"])


def test_a_team_limit_holds_across_its_members_keys(
    client: TestClient,
    make_account: Any,
    upstream: Any,
    items: Any,
    freeze: Any,
    forget_resolutions: Any,
) -> None:
    items.create_team("team_a", rpm_limit=3)
    members = [make_account(), make_account()]
    outsider = make_account()
    for member in members:
        items.set_user(member.user_id, team_id="team_a")
    forget_resolutions()
    freeze(minute_start() + 1)
    keys = [_key(client, m)["key"] for m in members] + [members[1].access_token]
    assert [_chat(client, k).status_code for k in keys] == [200, 200, 200]
    refused = _chat(client, _key(client, members[0])["key"])
    assert refused.status_code == 429 and "team's rpm_limit" in refused.json()["error"]["message"]
    assert _chat(client, outsider.access_token).status_code == 200
    # a deleted team no longer applies (after the resolution cache's 30 s)
    items.set("ic-teams", {"team_id": {"S": "team_a"}}, deleted=True)
    assert _chat(client, keys[0]).status_code == 200


def test_parallel_requests_are_leases_that_expire_and_are_reclaimed(
    client: TestClient, make_account: Any, upstream: Any, items: Any, freeze: Any
) -> None:
    account = make_account()
    key = _key(client, account, max_parallel_requests=1, max_budget_usd=1.0)
    clock = freeze(minute_start() + 1)
    item = items.key(key["id"])
    period = "m" + time.strftime("%Y-%m", time.gmtime(clock.now))
    # A request in flight in another process (its lease) holds the only slot, and reserved $0.4.
    lease = {"M": {"x": {"N": str(int(clock.now) + 900)}, "c": {"N": "0.4"}, "p": {"S": period}}}
    items.dynamodb.update_item(
        TableName="ic-api-keys",
        Key={"key_hash": item["key_hash"]},
        UpdateExpression="SET leases = :l, spend = :s",
        ExpressionAttributeValues={
            ":l": {"M": {"other": lease}},
            ":s": {"M": {period: {"N": "0.4"}}},
        },
    )
    refused = _chat(client, key["key"])
    assert refused.status_code == 429
    assert "max_parallel_requests" in refused.json()["error"]["message"]
    assert refused.headers["retry-after"] == "1"
    # That process died: once its lease expires, the next request reclaims it (slot and money).
    clock.advance(901)
    assert _chat(client, key["key"]).status_code == 200
    after = items.key(key["id"])
    assert after["leases"]["M"] == {}
    assert abs(float(after["spend"]["M"][period]["N"]) - _cost(11, 5)) < 1e-12


def test_logout_cuts_the_access_token_off_on_every_inference_route(
    client: TestClient, make_account: Any, upstream: Any
) -> None:
    account = make_account()
    routes = [
        ("/v1/chat/completions", CHAT),
        ("/v1/completions", {"model": "scripted", "prompt": "Hi", "max_tokens": 5}),
        ("/v1/embeddings", {"model": "scripted", "input": "Hi"}),
        (
            "/v1/messages",
            {"model": "scripted", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]},
        ),
        ("/v1/generate", {"model": "scripted", "prompt": "Hi", "max_tokens": 5}),
        ("/v1/chat", {"model": "scripted", "message": "Hi", "max_tokens": 5}),
    ]
    headers = {**account.auth, "Cache-Control": "no-cache"}
    for path, body in routes:
        assert client.post(path, json=body, headers=headers).status_code == 200, path
    assert client.post("/v1/auth/logout", headers=account.auth).status_code in (200, 204)
    calls = len(upstream.calls)
    for path, body in routes:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 401, path
        assert "revoked" in response.text
    assert len(upstream.calls) == calls
    # another session of the same user keeps working
    other = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    ).json()
    assert _chat(client, other["access_token"]).status_code == 200


def test_refresh_token_reuse_cuts_the_family_off_at_once(
    client: TestClient, make_account: Any, upstream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No refresh grace window (docs/security.md): the immediate replay below is a reuse.
    reconfigure(monkeypatch, IC_REFRESH_REUSE_GRACE_SECONDS="0")
    account = make_account()
    rotated = client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert rotated.status_code == 200
    fresh = rotated.json()["access_token"]
    assert _chat(client, fresh).status_code == 200
    replay = client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401
    assert _chat(client, fresh).status_code == 401
    assert _chat(client, account.access_token).status_code == 401


def test_an_expired_key_is_refused_on_the_next_request(
    client: TestClient, make_account: Any, upstream: Any, freeze: Any
) -> None:
    account = make_account()
    clock = freeze(minute_start() + 1)
    key = _key(client, account, expires_at=int(clock.now) + 3600)
    assert _chat(client, key["key"]).status_code == 200  # cached resolution from here on
    clock.advance(3601)
    refused = _chat(client, key["key"])
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_expired"
    past = client.post("/v1/auth/api-keys", json={"expires_at": 1}, headers=account.auth)
    assert past.status_code == 400


def test_success_carries_the_tightest_levels_rate_limit_headers(
    client: TestClient, make_account: Any, upstream: Any, freeze: Any
) -> None:
    account = make_account(rpm_limit=50)
    key = _key(client, account, rpm_limit=5, tpm_limit=1000)
    freeze(minute_start() + 30)
    first = _chat(client, key["key"])
    assert first.headers["x-ratelimit-limit-requests"] == "5"
    assert first.headers["x-ratelimit-remaining-requests"] == "4"
    assert first.headers["x-ratelimit-limit-tokens"] == "1000"
    assert first.headers["x-ratelimit-remaining-tokens"] == "975"
    assert first.headers["x-ratelimit-reset-requests"] == "30s"
    second = _chat(client, key["key"])
    assert second.headers["x-ratelimit-remaining-requests"] == "3"
    stream = client.post(
        "/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={"Authorization": f"Bearer {key['key']}"},
    )
    assert stream.status_code == 200 and stream.headers["x-ratelimit-remaining-requests"] == "2"


def test_usage_aggregates_count_requests_tokens_and_cost_and_cached_answers_at_zero(
    client: TestClient, make_account: Any, upstream: Any, aws: Any
) -> None:
    account = make_account()
    key = _key(client, account)
    headers = {"Authorization": f"Bearer {key['key']}"}
    body = {**CHAT, "temperature": 0.3}
    assert (
        client.post("/v1/chat/completions", json=body, headers=headers).headers["x-cache"] == "miss"
    )
    assert (
        client.post("/v1/chat/completions", json=body, headers=headers).headers["x-cache"] == "hit"
    )
    scopes = {i["scope"]["S"]: i for i in aws.scan("ic-usage-aggregates")}
    assert set(scopes) == {f"key#{key['id']}", f"user#{account.user_id}", "model#scripted"}
    agg = scopes[f"key#{key['id']}"]
    assert (agg["requests"]["N"], agg["cached_requests"]["N"]) == ("2", "1")
    assert (agg["input_tokens"]["N"], agg["output_tokens"]["N"]) == ("11", "5")
    assert abs(float(agg["cost_usd"]["N"]) - _cost(11, 5)) < 1e-12
    assert scopes[f"user#{account.user_id}"]["sk"]["S"].endswith(f"#scripted#{key['id']}")
    # the ledger has both lines, the hit at $0
    ledger = sorted(aws.scan("ic-usage"), key=lambda i: i["sk"]["S"])
    assert [line["cached"]["BOOL"] for line in ledger] == [False, True]


def test_an_upstream_failure_mid_stream_settles_the_tokens_so_far_and_frees_the_lease(
    client: TestClient, make_account: Any, upstream: Any, items: Any, monkeypatch: Any
) -> None:
    from inference_core.canonical import ChatChunk
    from inference_core.errors import UpstreamUnavailableError

    async def breaks_after_two_chunks(request: Any, deployment: Any) -> Any:
        upstream.calls.append(deployment.model)
        yield ChatChunk(content="Hello there")
        yield ChatChunk(content=" friend")
        raise UpstreamUnavailableError("the upstream went away", retryable=True)

    monkeypatch.setattr(upstream, "chat_stream", breaks_after_two_chunks)
    account = make_account()
    key = _key(client, account, max_parallel_requests=1)
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={**CHAT, "stream": True},
        headers={"Authorization": f"Bearer {key['key']}", "Cache-Control": "no-cache"},
    ) as response:
        body = "".join(response.iter_text())
    assert response.status_code == 200 and "Hello there" in body and "error" in body
    item = items.key(key["id"])
    assert item["leases"]["M"] == {}  # released: the next request is admitted
    # metered: the estimated prompt (5) plus the text so far ("Hello there friend": 5 tokens)
    assert [v["N"] for v in item["token_window"]["M"].values()] == ["10"]
    [line] = items.dynamodb.scan(TableName="ic-usage")["Items"]
    assert line["status"]["S"] == "upstream_unavailable"
    assert (line["input_tokens"]["N"], line["output_tokens"]["N"]) == ("5", "5")


def test_a_throttled_admission_is_a_503_with_retry_after_and_never_reaches_a_provider(
    client: TestClient, make_account: Any, upstream: Any, monkeypatch: Any
) -> None:
    from botocore.exceptions import ClientError

    from inference_core.db.admission import AdmissionStore

    account = make_account()
    assert _chat(client, account.access_token).status_code == 200
    calls = len(upstream.calls)

    class Throttled:
        def transact_write_items(self, **_: Any) -> None:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                "TransactWriteItems",
            )

    monkeypatch.setattr(AdmissionStore, "client", property(lambda self: Throttled()))
    response = _chat(client, account.access_token)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "service_unavailable"
    anthropic = client.post(
        "/v1/messages",
        json={
            "model": "scripted",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "Hi"}],
        },
        headers=account.auth,
    )
    assert anthropic.status_code == 503 and anthropic.json()["type"] == "error"
    assert len(upstream.calls) == calls
