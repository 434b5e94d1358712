"""Text operations over a scripted inference service (fakes only here: the real router and the
real model are in tests/integration and tests/e2e): the templates, the tolerant parser, the one
repair attempt and the 502 after it, options, batches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from inference_core.canonical import ChatRequest, ChatResult, Usage
from inference_core.errors import InvalidRequestError, ModelOutputError, RateLimitError
from inference_core.settings import TextProcessingSettings
from inference_core.text_processing.operations import OPERATIONS, ModelOutputInvalid, render
from inference_core.text_processing.service import TextItem, TextProcessingService


@dataclass
class Outcome:
    result: ChatResult
    model: str = "small"
    cached: bool = False


@dataclass
class ScriptedInference:
    """Replies in order; an Exception in `replies` is raised instead."""

    replies: list[Any]
    requests: list[ChatRequest] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)

    async def chat(self, caller: Any, request: ChatRequest, **kw: Any) -> Outcome:
        self.requests.append(request)
        self.endpoints.append(kw["endpoint"])
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return Outcome(ChatResult(reply, "stop", Usage(10, 5)))


def service(*replies: Any, **settings: Any) -> tuple[TextProcessingService, ScriptedInference]:
    fake = ScriptedInference(list(replies))
    svc = TextProcessingService(
        inference=fake,  # type: ignore[arg-type]
        settings=TextProcessingSettings(**settings),
    )
    return svc, fake


def process(
    svc: TextProcessingService, operation: str, text: str = "Some text.", **options: Any
) -> Any:
    return asyncio.run(
        svc.process(object(), TextItem(operation, text, options), model=None, request_id="r")  # type: ignore[arg-type]
    )


def test_every_operation_has_a_versioned_template_with_the_text_in_it() -> None:
    for op in OPERATIONS.values():
        options = {o.name: o.default if o.default is not None else "Why?" for o in op.options}
        messages = op.messages("THE-TEXT {with braces}", options)
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "THE-TEXT {with braces}" in messages[-1]["content"]
        assert op.version == "v1"


def test_sentiment_asks_for_structured_json_and_returns_label_and_confidence() -> None:
    svc, fake = service('{"label": "negative", "confidence": 0.92}')
    result = process(svc, "sentiment", "This is awful.")
    assert result.result == {"label": "negative", "confidence": 0.92}
    assert not result.repaired and result.usage == Usage(10, 5)
    sent = fake.requests[0]
    assert sent.temperature == 0 and sent.response_format is not None
    assert sent.response_format["json_schema"]["schema"]["properties"]["label"]["enum"] == [
        "positive",
        "negative",
        "neutral",
        "mixed",
    ]
    assert fake.endpoints == ["text_processing.sentiment"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            'Here you go:\n```json\n{"label": "Positive.", "confidence": "85%"}\n```',
            ("positive", 0.85),
        ),
        ('{"sentiment": "MIXED", "confidence": 70}', ("mixed", 0.7)),
    ],
)
def test_the_parser_is_tolerant_where_it_is_honest(reply: str, expected: tuple[str, float]) -> None:
    parsed = OPERATIONS["sentiment"].parse(reply, {})
    assert (parsed["label"], parsed["confidence"]) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "I think it is positive.",  # no JSON: no confidence to report
        '{"label": "happy", "confidence": 0.5}',
        '{"label": "positive or negative", "confidence": 0.5}',
        '{"label": "positive", "confidence": 250}',
        '{"label": "positive"}',
    ],
)
def test_the_parser_invents_nothing(reply: str) -> None:
    with pytest.raises(ModelOutputInvalid):
        OPERATIONS["sentiment"].parse(reply, {})


def test_lists_come_from_json_or_bullets_and_are_cut_to_the_count() -> None:
    op = OPERATIONS["key_points"]
    assert op.parse('{"key_points": ["a", "b", "c", "d"]}', {"count": 2}) == {
        "key_points": ["a", "b"]
    }
    assert op.parse("1. first\n2) second\n- third", {"count": 5}) == {
        "key_points": ["first", "second", "third"]
    }
    assert OPERATIONS["questions"].parse('["Why?"]', {"count": 3}) == {"questions": ["Why?"]}
    with pytest.raises(ModelOutputInvalid):
        op.parse('{"key_points": []}', {"count": 2})


def test_an_unparseable_reply_gets_one_repair_call_showing_the_reply_and_the_schema() -> None:
    svc, fake = service("Paris, I believe.", '{"answer": "Paris"}')
    result = process(svc, "qa", "Paris is the capital of France.", question="What is the capital?")
    assert result.result == {"answer": "Paris"} and result.repaired
    assert result.usage == Usage(20, 10)  # both calls are counted
    repair = fake.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": "Paris, I believe."}
    assert '"answer"' in repair[-1]["content"] and "could not be used" in repair[-1]["content"]


def test_a_second_bad_reply_is_a_502_model_output_invalid() -> None:
    svc, fake = service("nope", "still nope")
    with pytest.raises(ModelOutputError) as raised:
        process(svc, "summarize", "Long text.")
    assert raised.value.status_code == 502 and raised.value.code == "model_output_invalid"
    assert "summarize" in raised.value.message and len(fake.requests) == 2


def test_a_provider_without_structured_output_is_asked_again_in_plain_text() -> None:
    refusal = InvalidRequestError("no response_format here", param="response_format")
    svc, fake = service(refusal, '{"summary": "Short."}')
    result = process(svc, "summarize", "Long text.", max_words=10)
    assert result.result == {"summary": "Short."}
    assert fake.requests[1].response_format is None
    assert "at most 10 words" in fake.requests[1].messages[-1]["content"]


@pytest.mark.parametrize(
    ("operation", "options", "param"),
    [
        ("qa", {}, "options.question"),
        ("key_points", {"count": 0}, "options.count"),
        ("key_points", {"count": "3"}, "options.count"),
        ("summarize", {"length": 3}, "options"),
    ],
)
def test_bad_options_are_a_400_naming_the_option(
    operation: str, options: dict[str, Any], param: str
) -> None:
    svc, fake = service()
    with pytest.raises(InvalidRequestError) as raised:
        process(svc, operation, **options)
    assert raised.value.param == param and fake.requests == []


def test_text_over_the_limit_is_refused_before_any_call() -> None:
    svc, fake = service(max_text_chars=10)
    with pytest.raises(InvalidRequestError, match="limit is 10"):
        process(svc, "sentiment", "x" * 11)
    assert fake.requests == []


def test_batch_reports_each_item_and_refuses_more_than_the_limit() -> None:
    svc, _ = service(
        '{"label": "positive", "confidence": 0.9}',
        RateLimitError("slow down", retry_after=3),
        batch_concurrency=1,
    )
    items = [
        TextItem("sentiment", "Great!"),
        TextItem("key_points", "x", {"count": 99}),
        TextItem("sentiment", "Meh."),
    ]
    outcomes = asyncio.run(svc.batch_process(object(), items, model=None, request_id="r"))  # type: ignore[arg-type]
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert outcomes[0].result is not None and outcomes[0].result.result["label"] == "positive"
    assert outcomes[1].error is not None and outcomes[1].error.param == "options.count"
    assert outcomes[2].error is not None and outcomes[2].error.status_code == 429
    small, _ = service(batch_max_items=2)
    with pytest.raises(InvalidRequestError, match="at most 2 items"):
        asyncio.run(small.batch_process(object(), items, model=None, request_id="r"))  # type: ignore[arg-type]


def test_operations_list_their_options_and_result_schema() -> None:
    svc, _ = service()
    listed = {op["name"]: op for op in svc.operations()}
    assert set(listed) == {"summarize", "sentiment", "key_points", "questions", "qa"}
    assert listed["qa"]["options"][0]["required"] is True
    assert listed["summarize"]["options"][0]["name"] == "max_words"
    assert listed["sentiment"]["result_schema"]["required"] == ["label", "confidence"]


def test_the_repair_template_renders() -> None:
    [message] = render("repair.v1.txt", {"problem": "p", "schema": "{}"})
    assert message["role"] == "user" and "p" in message["content"]
