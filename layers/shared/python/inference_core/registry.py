"""The model registry: each alias maps to an ordered list of deployments (tried in order).

A JSON file whose path comes from settings (`IC_MODEL_REGISTRY_PATH`); without one, the packaged
`models.local.json` routes `smollm2` to the local SageMaker-compatible endpoint. Format:

    {"default_model": "smollm2",
     "models": {"smollm2": {"deployments": [{"provider": "sagemaker", "model": "smollm2-local",
                                             "input_price_per_mtok": 0, "output_price_per_mtok": 0,
                                             "context_window": 8192}],
    (optional per deployment: "cached_input_price_per_mtok", the price of prompt tokens the
    upstream served from its prompt cache; without it they cost the input price)
                            "embeddings": true, "owned_by": "inference-core"}}}

A deployment may also set `max_output_tokens` (the most `max_tokens` it takes; default the
gateway's `IC_MAX_TOKENS_CAP`) and `drop_unsupported` (serve Anthropic requests whose
untranslatable fields are dropped instead of refusing them). An alias may list `match`: other
model ids clients send for it, exact or with `*` wildcards (`"claude-sonnet-4-5*"` matches the
dated ids); exact aliases win, then the first matching entry in file order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from inference_core.canonical import Deployment
from inference_core.errors import NotFoundError
from inference_core.providers import PROVIDER_NAMES

DEFAULT_REGISTRY = "models.local.json"


@dataclass(frozen=True)
class ModelEntry:
    alias: str
    deployments: tuple[Deployment, ...]
    owned_by: str = "inference-core"
    embeddings: bool = False
    created: int = 1_700_000_000
    match: tuple[str, ...] = ()  # other ids clients send for this alias (`*` wildcards)
    display_name: str = ""

    @property
    def context_window(self) -> int:
        return min(d.context_window for d in self.deployments)

    def matches(self, model_id: str) -> bool:
        return any(fnmatchcase(model_id, pattern) for pattern in self.match)


class ModelRegistry:
    def __init__(self, models: dict[str, ModelEntry], default_model: str | None = None):
        if default_model is not None and default_model not in models:
            raise ValueError(f"default_model {default_model!r} is not in the registry")
        self._models = models
        self.default_model = default_model

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelRegistry:
        models: dict[str, ModelEntry] = {}
        for alias, spec in raw.get("models", {}).items():
            deployments = []
            for d in spec.get("deployments", []):
                if d.get("provider") not in PROVIDER_NAMES:
                    raise ValueError(f"model {alias!r}: unknown provider {d.get('provider')!r}")
                deployments.append(
                    Deployment(
                        provider=d["provider"],
                        model=d["model"],
                        base_url=_optional_str(d, "base_url", alias),
                        api_key=_optional_str(d, "api_key", alias),
                        input_price_per_mtok=float(d.get("input_price_per_mtok", 0)),
                        output_price_per_mtok=float(d.get("output_price_per_mtok", 0)),
                        context_window=int(d.get("context_window", 8192)),
                        name=d.get("name", ""),
                        cached_input_price_per_mtok=(
                            float(d["cached_input_price_per_mtok"])
                            if d.get("cached_input_price_per_mtok") is not None
                            else None
                        ),
                        max_output_tokens=(
                            int(d["max_output_tokens"])
                            if d.get("max_output_tokens") is not None
                            else None
                        ),
                        drop_unsupported=bool(d.get("drop_unsupported", False)),
                        inference_component=_optional_str(d, "inference_component", alias),
                    )
                )
            if not deployments:
                raise ValueError(f"model {alias!r} has no deployments")
            models[alias] = ModelEntry(
                alias=alias,
                deployments=tuple(deployments),
                owned_by=spec.get("owned_by", "inference-core"),
                embeddings=bool(spec.get("embeddings", False)),
                created=int(spec.get("created", 1_700_000_000)),
                match=_patterns(spec.get("match", ())),
                display_name=str(spec.get("display_name", "")),
            )
        return cls(models, raw.get("default_model"))

    @classmethod
    def load(cls, path: Path | None) -> ModelRegistry:
        if path is None:
            text = resources.files("inference_core").joinpath(DEFAULT_REGISTRY).read_text()
        else:
            text = Path(path).read_text()
        return cls.from_dict(json.loads(text))

    def resolve(self, alias: str | None) -> ModelEntry:
        """The entry for `alias` (or the default model); 404 in the caller's format if unknown."""
        name = alias or self.default_model
        if name is not None and name not in self._models:
            matched = next((e for e in self._models.values() if e.matches(name)), None)
            if matched is not None:
                return matched
        if name is None or name not in self._models:
            raise NotFoundError(
                f"The model '{name}' does not exist or you do not have access to it.",
                code="model_not_found",
                param="model",
            )
        return self._models[name]

    def entries(self) -> list[ModelEntry]:
        return list(self._models.values())

    def providers_in_use(self) -> set[str]:
        return {d.provider for e in self._models.values() for d in e.deployments}


def _patterns(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(m) for m in value)


def _optional_str(spec: dict[str, Any], field: str, alias: str) -> str | None:
    value = spec.get(field)
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"model {alias!r}: {field!r} must be a non-empty string")
    return value


@lru_cache(maxsize=4)
def load_registry(path: Path | None) -> ModelRegistry:
    return ModelRegistry.load(path)
