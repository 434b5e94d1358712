"""Agent frameworks that speak the Responses API, unchanged, against the local stack: the OpenAI
Agents SDK's `OpenAIResponsesModel` and LangChain's `ChatOpenAI(use_responses_api=True)`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any


def test_openai_agents_sdk_runs_an_agent_through_the_gateway(local_stack: dict[str, Any]) -> None:
    from agents import Agent, ModelSettings, OpenAIResponsesModel, Runner, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)  # traces would go to OpenAI's servers

    async def run() -> Any:
        client = AsyncOpenAI(
            base_url=local_stack["api_url"] + "/v1", api_key=local_stack["api_key"], max_retries=0
        )
        agent = Agent(
            name="greeter",
            instructions="You answer in one short sentence.",
            model=OpenAIResponsesModel(model="smollm2", openai_client=client),
            model_settings=ModelSettings(max_tokens=32, temperature=0),
        )
        first = await Runner.run(agent, f"Say hello. ({uuid.uuid4().hex[:6]})")
        # A second turn continued on the server with the gateway's stored state.
        second = await Runner.run(
            agent, "Say it again.", previous_response_id=first.last_response_id
        )
        assert second.last_response_id is not None
        stored = await client.responses.input_items.list(second.last_response_id, order="asc")
        await client.close()
        return first, second, stored

    first, second, stored = asyncio.run(run())
    assert isinstance(first.final_output, str) and first.final_output.strip()
    assert isinstance(second.final_output, str) and second.final_output.strip()
    assert first.last_response_id.startswith("resp_")
    roles = [item.role for item in stored.data]
    assert roles == ["user", "assistant", "user"]


def test_langchain_chat_openai_with_the_responses_api(local_stack: dict[str, Any]) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model="smollm2",
        base_url=local_stack["api_url"] + "/v1",
        api_key=local_stack["api_key"],
        use_responses_api=True,
        max_completion_tokens=32,
        temperature=0,
        max_retries=0,
    )
    reply = llm.invoke(f"Name a fruit. ({uuid.uuid4().hex[:6]})")
    assert reply.text.strip()
    assert reply.response_metadata["id"].startswith("resp_")
    assert reply.usage_metadata is not None and reply.usage_metadata["input_tokens"] > 0
    pieces = [chunk.text for chunk in llm.stream("Count to three.")]
    assert len([p for p in pieces if p]) >= 2
