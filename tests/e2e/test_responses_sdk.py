"""The Responses API with the official `openai` SDK against the local stack and the real model."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import openai
import pytest

SHORT: dict[str, Any] = {"max_output_tokens": 24, "temperature": 0}


def _other_tenant(local_stack: dict[str, Any]) -> openai.OpenAI:
    """A client signed in as a second, freshly registered user."""
    email = f"tenant-{uuid.uuid4().hex[:8]}@example.com"
    password = "another correct horse battery"
    with httpx.Client(base_url=local_stack["api_url"], timeout=60) as client:
        client.post("/v1/auth/register", json={"email": email, "password": password})
        login = client.post("/v1/auth/login", json={"email": email, "password": password})
        login.raise_for_status()
        token = login.json()["access_token"]
    return openai.OpenAI(base_url=local_stack["api_url"] + "/v1", api_key=token, max_retries=0)


def test_create_retrieve_list_and_delete(openai_client: Any) -> None:
    created = openai_client.responses.create(
        model="smollm2", input=f"Name a colour. ({uuid.uuid4().hex[:6]})", **SHORT
    )
    assert created.object == "response" and created.id.startswith("resp_")
    assert created.status in ("completed", "incomplete")
    assert created.output_text.strip()
    assert created.usage.input_tokens > 0 and created.usage.output_tokens > 0
    assert created.usage.input_tokens_details.cached_tokens == 0

    retrieved = openai_client.responses.retrieve(created.id)
    assert retrieved.id == created.id and retrieved.output_text == created.output_text

    items = openai_client.responses.input_items.list(created.id)
    assert [item.type for item in items.data] == ["message"]
    assert items.data[0].content[0].text.startswith("Name a colour.")

    openai_client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_stream_delivers_deltas_before_completion(openai_client: Any) -> None:
    arrivals: list[float] = []
    types: list[str] = []
    with openai_client.responses.stream(
        model="smollm2",
        input=f"Reply with one short sentence about the sea. ({uuid.uuid4().hex[:6]})",
        max_output_tokens=160,  # room to finish: get_final_response needs response.completed
        temperature=0,
    ) as stream:
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                arrivals.append(time.perf_counter())
        completed_at = time.perf_counter()
        final = stream.get_final_response()
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert final.status == "completed" and final.output_text.strip()
    assert openai_client.responses.retrieve(final.id).output_text == final.output_text
    assert len(arrivals) >= 3
    # Tokens arrive as they are generated, not in one burst at the end.
    assert arrivals[0] < arrivals[-1] < completed_at


def test_previous_response_id_carries_the_history_to_the_model(openai_client: Any) -> None:
    first = openai_client.responses.create(
        model="smollm2", input=f"My name is Ada. ({uuid.uuid4().hex[:6]})", **SHORT
    )
    second = openai_client.responses.create(
        model="smollm2", input="What is my name?", previous_response_id=first.id, **SHORT
    )
    assert second.previous_response_id == first.id
    items = openai_client.responses.input_items.list(second.id, order="asc")
    assert [(item.type, item.role) for item in items.data] == [
        ("message", "user"),
        ("message", "assistant"),
        ("message", "user"),
    ]
    assert items.data[1].content[0].text == first.output_text
    # The model saw the whole conversation: the prompt grew by more than the new question.
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens


def test_another_tenants_response_is_not_found(
    openai_client: Any, local_stack: dict[str, Any]
) -> None:
    created = openai_client.responses.create(model="smollm2", input="Say hi.", **SHORT)
    stranger = _other_tenant(local_stack)
    with pytest.raises(openai.NotFoundError):
        stranger.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        stranger.responses.create(
            model="smollm2", input="Hi", previous_response_id=created.id, **SHORT
        )
    assert openai_client.responses.retrieve(created.id).id == created.id


def test_bad_input_is_a_bad_request(openai_client: Any) -> None:
    with pytest.raises(openai.BadRequestError) as hosted:
        openai_client.responses.create(
            model="smollm2", input="Search the web.", tools=[{"type": "web_search"}]
        )
    assert hosted.value.param == "tools[0].type"
    with pytest.raises(openai.BadRequestError):
        openai_client.responses.create(model="smollm2", input="hi", background=True)
    with pytest.raises(openai.BadRequestError):
        openai_client.responses.create(model="smollm2", input=[])
