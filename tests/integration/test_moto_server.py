"""Our moto server (`inference_core.local.moto_server`): what it logs per request.

A line per successful call cost about 5 % of the server's CPU on a governed request, so only
answers of 400 and above are logged (a refused condition, a missing table, a server error).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.factories import serialized_moto_server

REGION = "us-east-1"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    server, endpoint = serialized_moto_server()
    try:
        yield boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
    finally:
        server.stop()


def test_only_error_answers_are_logged(dynamodb: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        assert dynamodb.list_tables()["TableNames"] == []
        with pytest.raises(ClientError) as refused:
            dynamodb.get_item(TableName="missing", Key={"pk": {"S": "x"}})
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) == 1, lines
    plain = re.sub(r"\x1b\[[0-9;]*m", "", lines[0])  # werkzeug colours the request line
    assert plain.endswith('"POST / HTTP/1.1" 400 -'), plain


def test_the_server_process_freezes_its_heap_every_so_many_dynamodb_requests() -> None:
    """`SerializedDynamoDB(freeze_every=N)` (what `main` runs) freezes after every N DynamoDB
    requests, so a full collection never walks the tables' items; other services never count."""
    import gc

    from inference_core.local.moto_server import SerializedDynamoDB

    served: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        served.append(environ.get("HTTP_X_AMZ_TARGET", "s3"))
        start_response("200 OK", [])
        return [b"{}"]

    gc.unfreeze()
    try:
        server = SerializedDynamoDB(app, freeze_every=3)
        dynamodb = {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}
        counts = []
        for environ in (dynamodb, {}, dynamodb, {}, dynamodb):
            assert list(server(environ, lambda *_: None)) == [b"{}"]
            counts.append(gc.get_freeze_count())
        assert counts[:4] == [0, 0, 0, 0] and counts[4] > 0  # on the third DynamoDB request
        assert len(served) == 5
        gc.unfreeze()
        in_tests = SerializedDynamoDB(app)  # a server inside another process never freezes it
        for _ in range(5):
            list(in_tests(dynamodb, lambda *_: None))
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
