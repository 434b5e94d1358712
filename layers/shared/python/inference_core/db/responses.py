"""Stored Responses API responses: the response object and the input items it saw, per tenant.

Layout (`ResponseRecordModel`, one partition per response, `pk = <tenant>#<response id>`):
`body#<chunk>` rows hold the response object, `in#<position>#<chunk>` rows the input items, in
order. Each document is serialized as ASCII JSON and cut into `CHUNK_CHARS`-character pieces, so
an item never nears DynamoDB's 400 KB limit however long the conversation or large one image.
A save is one BatchWriteItem stream (25 rows a call); every read is one strongly consistent
Query (paged by DynamoDB past 1 MB), so a response is readable the moment it is written, from
any Lambda instance. Expiry is the TTL attribute and is checked in code too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from inference_core.db.availability import StoreGuard
from inference_core.db.models import ResponseRecordModel
from inference_core.errors import NotFoundError

BODY = "body"
INPUT = "in"
CHUNK_CHARS = 300_000
_RESPONSES = StoreGuard("The response store is unavailable.")


def _pk(tenant_id: str, response_id: str) -> str:
    return f"{tenant_id}#{response_id}"


def _chunks(document: Any) -> list[str]:
    text = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


def not_found(response_id: str) -> NotFoundError:
    return NotFoundError(
        f"No response with id '{response_id}' was found.", code="response_not_found", param="id"
    )


class ResponsesRepository:
    def __init__(self, *, now: Callable[[], float] = time.time):
        self._now = now

    def save(
        self,
        tenant_id: str,
        response: dict[str, Any],
        input_items: list[dict[str, Any]],
        *,
        ttl_seconds: int,
    ) -> None:
        """Store `response` (its `id` names it) and the input items it saw."""
        now = int(self._now())
        pk = _pk(tenant_id, str(response["id"]))
        rows: list[tuple[str, str]] = [
            (f"{BODY}#{n:03d}", chunk) for n, chunk in enumerate(_chunks(response))
        ]
        for position, item in enumerate(input_items):
            rows.extend(
                (f"{INPUT}#{position:06d}#{n:03d}", chunk) for n, chunk in enumerate(_chunks(item))
            )
        with _RESPONSES, ResponseRecordModel.batch_write() as batch:
            for sk, data in rows:
                batch.save(
                    ResponseRecordModel(
                        pk,
                        sk,
                        tenant_id=tenant_id,
                        data=data,
                        created_at=now,
                        expires_at=now + ttl_seconds,
                    )
                )

    def get(self, tenant_id: str, response_id: str) -> dict[str, Any]:
        """The stored response object; 404 if it does not exist, expired, or is not the tenant's."""
        body, _ = _documents(self._rows(tenant_id, response_id, BODY), response_id)
        return body

    def input_items(self, tenant_id: str, response_id: str) -> list[dict[str, Any]]:
        """The input items the response saw, oldest first (404 as for `get`)."""
        return self.conversation(tenant_id, response_id)[1]

    def conversation(
        self, tenant_id: str, response_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(the response, its input items), from one Query: what `previous_response_id` needs."""
        return _documents(self._rows(tenant_id, response_id, None), response_id)

    def delete(self, tenant_id: str, response_id: str) -> None:
        """Delete the response and its items; 404 if there is nothing of the tenant's to delete."""
        pk = _pk(tenant_id, response_id)
        with _RESPONSES:
            keys = [row.sk for row in ResponseRecordModel.query(pk, consistent_read=True)]
        if not keys:
            raise not_found(response_id)
        with _RESPONSES, ResponseRecordModel.batch_write() as batch:
            for sk in keys:
                batch.delete(ResponseRecordModel(pk, sk))

    def _rows(self, tenant_id: str, response_id: str, prefix: str | None) -> list[tuple[str, str]]:
        pk = _pk(tenant_id, response_id)
        condition = ResponseRecordModel.sk.startswith(f"{prefix}#") if prefix else None
        now = self._now()
        with _RESPONSES:
            return [
                (row.sk, row.data)
                for row in ResponseRecordModel.query(
                    pk, range_key_condition=condition, consistent_read=True
                )
                if row.expires_at > now and row.tenant_id == tenant_id
            ]


def _documents(
    rows: list[tuple[str, str]], response_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Reassemble (the response, its input items) from rows in sort-key order."""
    body: list[str] = []
    items: list[dict[str, Any]] = []
    current: str | None = None
    parts: list[str] = []
    for sk, data in rows:
        if sk.startswith(f"{BODY}#"):
            body.append(data)
            continue
        position = sk.split("#")[1]
        if position != current and parts:
            items.append(json.loads("".join(parts)))
            parts = []
        current = position
        parts.append(data)
    if parts:
        items.append(json.loads("".join(parts)))
    if not body:
        raise not_found(response_id)
    response: dict[str, Any] = json.loads("".join(body))
    return response, items
