"""Our moto server (`inference_core.local.moto_server`): what it logs per request.

A line per successful call cost about 5 % of the server's CPU on a governed request, so only
answers of 400 and above are logged (a refused condition, a missing table, a server error).
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    from inference_core.local.moto_server import SerializedMotoServer

    port = _free_port()
    server = SerializedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=f"http://127.0.0.1:{port}",
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
