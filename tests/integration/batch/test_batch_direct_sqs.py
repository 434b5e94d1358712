"""Direct SQS submission: a producer inside the account sends a `batch.submit` message with IAM;
the job runs, its results are read through the API, bad messages land in the DLQ with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inference_core.auth.principal import Principal

from .batch_support import chat_line, jsonl, read_jsonl


@pytest.fixture
def accounts(aws: Any) -> dict[str, Any]:
    """A real user with an API key, created through the same service as the API's."""
    from inference_core.admin import auth_service

    service = auth_service()
    user = service.create_user("carol@example.com", "correct horse battery staple")
    created = service.create_api_key(service.principal_for_user(user.user_id), name="producer")
    return {"user": user, "key": created.key}


def submit(aws: Any, **message: Any) -> None:
    aws.sqs.send_message(
        QueueUrl=aws.batch_queue_url,
        MessageBody=json.dumps({"version": 1, "type": "batch.submit", **message}),
        MessageAttributes={"type": {"DataType": "String", "StringValue": "batch.submit"}},
    )


def as_owner(api: Any, user: Any) -> None:
    api.as_user(
        Principal(
            user_id=user.user_id,
            role="user",
            key_id=None,
            allowed_models=None,
            rpm_limit=60,
            email=user.email,
        )
    )


def test_a_direct_submission_runs_and_is_readable_through_the_api(
    api, aws, drain, accounts, upstream
):
    user, key = accounts["user"], accounts["key"]
    submit(
        aws,
        account={"user_id": user.user_id, "api_key_id": key.key_id},
        batch_id="batch_nightly_0001",
        metadata={"source": "etl"},
        notify_email=True,
        requests=[chat_line("r1", "alpha"), chat_line("r2", "beta")],
    )

    drain()

    as_owner(api, user)
    done = api.client.get("/v1/batches/batch_nightly_0001").json()
    assert done["status"] == "completed", done
    assert done["metadata"] == {"source": "etl"}
    lines = read_jsonl(api.client.get(f"/v1/files/{done['output_file_id']}/content").content)
    assert sorted(line["custom_id"] for line in lines) == ["r1", "r2"]
    assert upstream.total_calls == 2
    [mail] = aws.mail()
    assert mail["to"] == "carol@example.com" and mail["template"] == "batch_completed"
    # Charged to the producer's key.
    from inference_core.settings import get_settings

    usage = aws.dynamodb.scan(TableName=get_settings().tables.usage_table)["Items"]
    assert {u["key_id"]["S"] for u in usage} == {key.key_id}


def test_a_redelivered_submission_makes_one_job(api, aws, drain, accounts, upstream):
    user = accounts["user"]
    for _ in range(2):  # the producer retried (or SQS delivered twice)
        submit(
            aws,
            account={"user_id": user.user_id},
            batch_id="batch_once_only_1",
            requests=[chat_line("r1", "alpha")],
        )
    drain()
    as_owner(api, user)
    assert [b["id"] for b in api.client.get("/v1/batches").json()["data"]] == ["batch_once_only_1"]
    assert upstream.total_calls == 1


def test_an_input_file_in_the_bucket_can_be_submitted(api, aws, drain, accounts):
    user = accounts["user"]
    aws.s3.put_object(
        Bucket=aws.bucket,
        Key="incoming/run.jsonl",
        Body=jsonl([chat_line(str(i), f"q{i}") for i in range(3)]),
    )
    submit(
        aws,
        account={"user_id": user.user_id},
        batch_id="batch_from_s3_01",
        input_s3_key="incoming/run.jsonl",
    )
    drain()
    as_owner(api, user)
    done = api.client.get("/v1/batches/batch_from_s3_01").json()
    assert done["status"] == "completed" and done["request_counts"]["completed"] == 3


def test_bad_submissions_go_to_the_dlq_with_a_reason_and_never_stop_the_rest(
    api, aws, drain, accounts, upstream
):
    user = accounts["user"]
    submit(aws, account={"user_id": "nobody"}, requests=[chat_line("r", "x")])
    submit(
        aws,
        account={"user_id": user.user_id, "api_key_id": "no-such-key"},
        requests=[chat_line("r", "x")],
    )
    submit(
        aws, account={"user_id": user.user_id}, requests=[chat_line("r", "x"), chat_line("r", "y")]
    )
    submit(aws, account={"user_id": user.user_id}, input_s3_key="elsewhere/secret.jsonl")
    submit(
        aws,
        account={"user_id": user.user_id},
        requests=[chat_line("ok", "fine")],
        batch_id="batch_the_good_1",
    )

    drain()

    reasons = sorted(m["MessageAttributes"]["error_message"]["StringValue"] for m in aws.dlq())
    assert len(reasons) == 4
    assert any("does not exist or is disabled" in r for r in reasons)
    assert any("API key does not exist" in r for r in reasons)
    assert any("custom_id is not unique" in r for r in reasons)
    assert any("incoming/" in r for r in reasons)
    as_owner(api, user)
    assert api.client.get("/v1/batches/batch_the_good_1").json()["status"] == "completed"
    assert upstream.total_calls == 1


def test_someone_elses_batch_id_is_refused(api, aws, drain, accounts):
    from inference_core.admin import auth_service

    other = auth_service().create_user("dave@example.com", "correct horse battery staple")
    submit(
        aws,
        account={"user_id": accounts["user"].user_id},
        batch_id="batch_shared_id_1",
        requests=[chat_line("a", "x")],
    )
    drain()
    submit(
        aws,
        account={"user_id": other.user_id},
        batch_id="batch_shared_id_1",
        requests=[chat_line("a", "y")],
    )
    drain()
    [dead] = aws.dlq()
    assert "already taken" in dead["MessageAttributes"]["error_message"]["StringValue"]
