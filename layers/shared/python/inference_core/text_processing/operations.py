"""The text operations: each one's options, its prompt template (a versioned file under
`prompts/`), the JSON schema of its answer, and the tolerant parser that turns a model's reply
into that answer.

Tolerant where it is honest: the JSON object is taken out of surrounding prose or a code fence, a
label is matched case-insensitively ("Positive." is `positive`), a confidence given as a
percentage becomes a fraction, bulleted lines become a list, a list longer than asked for is cut
to the count. Nothing is invented: a missing field, a label outside the four, a confidence that
is no number or out of range is a `ModelOutputInvalid` (the service then asks once for a repair).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

from inference_core.errors import InvalidRequestError

SENTIMENT_LABELS = ("positive", "negative", "neutral", "mixed")
SUMMARY_CHARS_PER_WORD = 8
ANSWER_CHARS = 600
ITEM_CHARS = 160


class ModelOutputInvalid(ValueError):
    """The model's reply does not fit the operation's schema; the message says why (no text)."""


@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # "integer" | "string"
    description: str
    default: Any = None
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "required": self.required,
            "description": self.description,
        }
        for key, value in (
            ("default", self.default),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("max_length", self.max_length),
        ):
            if value is not None:
                out[key] = value
        return out

    def value(self, raw: Any) -> Any:
        param = f"options.{self.name}"
        if raw is None:
            if self.required:
                raise InvalidRequestError(f"'{param}' is required.", param=param)
            return self.default
        if self.kind == "integer":
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise InvalidRequestError(f"'{param}' must be an integer.", param=param)
            if (self.minimum is not None and raw < self.minimum) or (
                self.maximum is not None and raw > self.maximum
            ):
                raise InvalidRequestError(
                    f"'{param}' must be between {self.minimum} and {self.maximum}.", param=param
                )
            return raw
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidRequestError(f"'{param}' must be a non-empty string.", param=param)
        if self.max_length is not None and len(raw) > self.max_length:
            raise InvalidRequestError(
                f"'{param}' is longer than {self.max_length} characters.", param=param
            )
        return raw


@dataclass(frozen=True)
class Operation:
    name: str
    description: str
    version: str
    options: tuple[Option, ...] = field(default_factory=tuple)
    max_tokens: int = 256

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "template_version": self.version,
            "options": [o.describe() for o in self.options],
            "result_schema": self.schema({o.name: o.default or 3 for o in self.options}),
        }

    def resolve_options(self, given: dict[str, Any]) -> dict[str, Any]:
        known = {o.name for o in self.options}
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidRequestError(
                f"Unknown option(s) for '{self.name}': {', '.join(unknown)}; it takes "
                f"{', '.join(sorted(known)) or 'none'}.",
                param="options",
            )
        return {o.name: o.value(given.get(o.name)) for o in self.options}

    def max_tokens_for(self, options: dict[str, Any]) -> int:
        """Room for the longest answer the schema allows (estimate's four characters a token),
        so a reply is not cut short; `max_tokens` is the ceiling."""
        from inference_core.estimate import chars_tokens

        if self.name == "summarize":
            chars = SUMMARY_CHARS_PER_WORD * int(options["max_words"])
        elif self.name in ("key_points", "questions"):
            chars = (ITEM_CHARS + 4) * int(options["count"])
        elif self.name == "qa":
            chars = ANSWER_CHARS
        else:
            chars = 0
        return min(self.max_tokens, 32 + chars_tokens(chars))

    def messages(self, text: str, options: dict[str, Any]) -> list[dict[str, str]]:
        return render(f"{self.name}.{self.version}.txt", {"text": text, **options})

    def schema(self, options: dict[str, Any]) -> dict[str, Any]:
        """The JSON schema of the answer (sent as a structured-output grammar when the provider
        takes one, and checked on the way back)."""
        # Every string is bounded: a small model under a grammar can otherwise repeat itself
        # inside one string until max_tokens cuts the JSON short.
        if self.name == "summarize":
            limit = SUMMARY_CHARS_PER_WORD * int(options.get("max_words") or 60)
            props: dict[str, Any] = {
                "summary": {"type": "string", "minLength": 1, "maxLength": limit}
            }
        elif self.name == "sentiment":
            props = {
                "label": {"type": "string", "enum": list(SENTIMENT_LABELS)},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            }
        elif self.name == "qa":
            props = {"answer": {"type": "string", "minLength": 1, "maxLength": ANSWER_CHARS}}
        else:
            props = {
                self.name: {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": ITEM_CHARS},
                    "minItems": 1,
                    "maxItems": int(options.get("count") or 3),
                }
            }
        return {"type": "object", "properties": props, "required": list(props)}

    def parse(self, reply: str, options: dict[str, Any]) -> dict[str, Any]:
        """The validated answer, or ModelOutputInvalid."""
        found = extract_json(reply)
        if self.name == "sentiment":
            if not isinstance(found, dict):
                raise ModelOutputInvalid("no JSON object with 'label' and 'confidence'")
            return {
                "label": coerce_label(found.get("label", found.get("sentiment"))),
                "confidence": coerce_confidence(found.get("confidence", found.get("score"))),
            }
        if self.name in ("key_points", "questions"):
            count = int(options["count"])
            items = found.get(self.name) if isinstance(found, dict) else found
            if items is None and found is None:
                items = bulleted_lines(reply)
            return {self.name: coerce_list(items, count, self.name)}
        key = "summary" if self.name == "summarize" else "answer"
        if not isinstance(found, dict) or not isinstance(found.get(key), str):
            raise ModelOutputInvalid(f"no JSON object with a string '{key}'")
        value = found[key].strip()
        if not value:
            raise ModelOutputInvalid(f"'{key}' is empty")
        return {key: value}


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "summarize",
            "A summary of the text, at most `max_words` words.",
            "v1",
            (Option("max_words", "integer", "target length in words", 60, minimum=5, maximum=500),),
            max_tokens=1024,
        ),
        Operation(
            "sentiment",
            "The sentiment: positive, negative, neutral or mixed, with a confidence in [0, 1].",
            "v1",
            max_tokens=48,
        ),
        Operation(
            "key_points",
            "The `count` most important points, one short sentence each.",
            "v1",
            (Option("count", "integer", "how many points", 3, minimum=1, maximum=10),),
            max_tokens=512,
        ),
        Operation(
            "questions",
            "`count` questions that the text answers.",
            "v1",
            (Option("count", "integer", "how many questions", 3, minimum=1, maximum=10),),
            max_tokens=512,
        ),
        Operation(
            "qa",
            "The answer to `question`, from the text only.",
            "v1",
            (
                Option(
                    "question",
                    "string",
                    "the question to answer from the text",
                    required=True,
                    max_length=2000,
                ),
            ),
            max_tokens=300,
        ),
    )
}


def get_operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise InvalidRequestError(
            f"Unknown operation '{name}'; one of: {', '.join(OPERATIONS)}.", param="operation"
        ) from None


# ---- templates ----


@lru_cache(maxsize=32)
def load_template(filename: str) -> str:
    return (resources.files("inference_core.text_processing") / "prompts" / filename).read_text(
        encoding="utf-8"
    )


_SECTION = re.compile(r"^## (system|user|assistant)\s*$", re.MULTILINE)


def render(filename: str, values: dict[str, Any]) -> list[dict[str, str]]:
    """A template file's `## system` / `## user` sections as chat messages, `$name` substituted
    (string.Template: braces in the text or the template are literal)."""
    template = load_template(filename)
    parts = _SECTION.split(template)
    messages = []
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        content = Template(body.strip("\n")).substitute({k: str(v) for k, v in values.items()})
        messages.append({"role": role, "content": content})
    return messages


# ---- tolerant parsing ----

_DECODER = json.JSONDecoder()


def extract_json(reply: str) -> Any:
    """The first JSON object (or array) in the reply, e.g. inside a code fence or after prose."""
    for position, char in enumerate(reply):
        if char in "{[":
            try:
                value, _ = _DECODER.raw_decode(reply, position)
            except ValueError:
                continue
            if isinstance(value, dict | list):
                return value
    return None


def coerce_label(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ModelOutputInvalid("'label' is missing or not a string")
    words = set(re.findall(r"[a-z]+", raw.lower()))
    matches = [label for label in SENTIMENT_LABELS if label in words]
    if len(matches) != 1:
        raise ModelOutputInvalid(f"'label' is not one of {', '.join(SENTIMENT_LABELS)}")
    return matches[0]


def coerce_confidence(raw: Any) -> float:
    value: float
    if isinstance(raw, bool) or raw is None:
        raise ModelOutputInvalid("'confidence' is missing")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", raw)
        if not match:
            raise ModelOutputInvalid("'confidence' is not a number")
        value = float(match.group(1)) / (100 if match.group(2) else 1)
    else:
        raise ModelOutputInvalid("'confidence' is not a number")
    if 1 < value <= 100:
        value /= 100  # a percentage given as a number (85 for 0.85)
    if not 0 <= value <= 1:
        raise ModelOutputInvalid("'confidence' is not in [0, 1]")
    return round(value, 4)


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")


def bulleted_lines(reply: str) -> list[str] | None:
    items = [m.group(1) for line in reply.splitlines() if (m := _BULLET.match(line))]
    return items or None


def coerce_list(raw: Any, count: int, name: str) -> list[str]:
    if isinstance(raw, str):
        raw = bulleted_lines(raw) or [raw]
    if not isinstance(raw, list):
        raise ModelOutputInvalid(f"no list of strings under '{name}'")
    items = [str(item).strip() for item in raw if isinstance(item, str | int | float)]
    items = [item for item in items if item]
    if not items:
        raise ModelOutputInvalid(f"'{name}' is empty")
    return items[:count]
