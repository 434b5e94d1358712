"""Resilience presets, and the per-process state the router keeps about each deployment.

`IC_RESILIENCE_PRESET` picks how hard the router tries: `simple`, `development`, `production`, or a
JSON object that starts from a preset (`"preset"`, default `simple`) and overrides any field. It is
validated when the settings are read, so a bad value refuses to start with the field named. Unset,
the individual settings (`IC_MAX_ATTEMPTS_PER_DEPLOYMENT`, `IC_CIRCUIT_BREAKER_*`) apply.

The state is process-local on purpose (one Lambda execution environment = one breaker): sharing it
through DynamoDB would add a call to every request. Two parts:

- `CircuitBreaker`: closed → open after `breaker_failures` consecutive failures → half-open after
  `breaker_recovery_seconds`, where exactly one caller gets the trial call (the others are refused
  as if it were open); its success closes the circuit, its failure reopens it at once.
- `ColdTracker`: a self-hosted deployment that answered "no copy / not ready" is skipped without a
  call for `cold_recheck_seconds`; then one caller probes it (which, on a SageMaker inference
  component scaled to zero, is also what triggers the scale-up) and a warm answer returns traffic.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inference_core.canonical import Deployment

# The admin API's recent error rate: the last calls of each deployment within this window.
RECENT_CALLS = 200
RECENT_SECONDS = 300.0

BreakerState = Literal["closed", "open", "half_open"]
Grant = Literal["", "call", "trial"]


class ResiliencePolicy(BaseModel):
    """The router's retry and breaker figures (a preset, or a validated override)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Retries of one deployment after its first attempt (then the next deployment is tried).
    retries: int = Field(ge=0, le=10)
    breaker_failures: int = Field(ge=1, le=1000)
    breaker_recovery_seconds: float = Field(gt=0, le=3600)
    # How long a cold (scaled-to-zero, not ready) deployment is skipped before the next probe.
    cold_recheck_seconds: float = Field(default=30.0, gt=0, le=3600)

    @property
    def max_attempts_per_deployment(self) -> int:
        return self.retries + 1


PRESETS: dict[str, ResiliencePolicy] = {
    "simple": ResiliencePolicy(retries=3, breaker_failures=5, breaker_recovery_seconds=60),
    "development": ResiliencePolicy(retries=2, breaker_failures=3, breaker_recovery_seconds=30),
    "production": ResiliencePolicy(retries=5, breaker_failures=10, breaker_recovery_seconds=120),
}


def parse_preset(value: str) -> tuple[str, ResiliencePolicy]:
    """(name, policy) for an `IC_RESILIENCE_PRESET` value; ValueError naming what is wrong."""
    text = value.strip()
    if not text.startswith(("{", "[")):
        if text not in PRESETS:
            raise ValueError(
                f"IC_RESILIENCE_PRESET: unknown preset {text!r} "
                f"(one of {', '.join(PRESETS)}, or a JSON object)"
            )
        return text, PRESETS[text]
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"IC_RESILIENCE_PRESET: not valid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise ValueError("IC_RESILIENCE_PRESET: the JSON override must be an object")
    base = raw.pop("preset", "simple")
    if base not in PRESETS:
        raise ValueError(f"IC_RESILIENCE_PRESET: field 'preset': unknown preset {base!r}")
    try:
        policy = ResiliencePolicy.model_validate({**PRESETS[base].model_dump(), **raw})
    except ValidationError as exc:
        raise ValueError(_field_error(exc)) from None
    return f"custom ({base})", policy


@dataclass
class _Circuit:
    failures: int = 0
    open_until: float | None = None  # set while open or half-open
    trial_started: float | None = None  # a half-open trial is in flight since then


class CircuitBreaker:
    """Per deployment label; see the module docstring for the states."""

    def __init__(
        self,
        *,
        failures: int = 5,
        cooldown_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.failures = failures
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        # (time, failed) of recent calls per deployment, for the admin API's error rate.
        self._recent: dict[str, collections.deque[tuple[float, bool]]] = {}

    def state(self, deployment: Deployment) -> BreakerState:
        circuit = self._circuits.get(deployment.label)
        if circuit is None or circuit.open_until is None:
            return "closed"
        return "open" if self._clock() < circuit.open_until else "half_open"

    def is_open(self, deployment: Deployment) -> bool:
        """True while calls are refused: open, or half-open with the trial already taken."""
        state = self.state(deployment)
        if state == "half_open":
            return self._trial_in_flight(self._circuits[deployment.label])
        return state == "open"

    def acquire(self, deployment: Deployment) -> Grant:
        """May this caller call the deployment now? `"call"` when closed; in half-open,
        `"trial"` for exactly one caller (until its verdict, or until a trial that never
        reports back is a cooldown old); otherwise `""` (refused, falsy)."""
        state = self.state(deployment)
        if state == "closed":
            return "call"
        if state == "open":
            return ""
        circuit = self._circuits[deployment.label]
        if self._trial_in_flight(circuit):
            return ""
        circuit.trial_started = self._clock()
        return "trial"

    def release(self, deployment: Deployment) -> None:
        """The caller holding the trial ended without a verdict (cancelled, or the request
        itself was bad): the next caller may take the trial."""
        circuit = self._circuits.get(deployment.label)
        if circuit is not None:
            circuit.trial_started = None

    def record_success(self, deployment: Deployment) -> None:
        self._remember(deployment, False)
        self._circuits.pop(deployment.label, None)

    def record_failure(self, deployment: Deployment, *, trial: bool = False) -> None:
        """A failed call; `trial`: it was the half-open trial, so the circuit reopens at once."""
        self._remember(deployment, True)
        circuit = self._circuits.setdefault(deployment.label, _Circuit())
        circuit.failures += 1
        if trial:
            circuit.trial_started = None
        if trial or circuit.failures >= self.failures:
            circuit.open_until = self._clock() + self.cooldown_seconds

    def seconds_until_trial(self, deployment: Deployment) -> float:
        circuit = self._circuits.get(deployment.label)
        if circuit is None or circuit.open_until is None:
            return 0.0
        return max(0.0, circuit.open_until - self._clock())

    def describe(self, deployment: Deployment) -> dict[str, Any]:
        circuit = self._circuits.get(deployment.label, _Circuit())
        return {
            "state": self.state(deployment),
            "consecutive_failures": circuit.failures,
            "seconds_until_trial": round(self.seconds_until_trial(deployment), 3),
            "trial_in_flight": circuit.open_until is not None and self._trial_in_flight(circuit),
        }

    def health(self, deployment: Deployment) -> dict[str, Any]:
        """For the admin API's providers view: state, consecutive failures, and the error rate
        of this process's calls in the last `RECENT_SECONDS` (None without calls)."""
        now = self._clock()
        recent = [
            failed
            for at, failed in self._recent.get(deployment.label, ())
            if now - at <= RECENT_SECONDS
        ]
        circuit = self._circuits.get(deployment.label, _Circuit())
        return {
            "circuit_state": self.state(deployment),
            "consecutive_failures": circuit.failures,
            "recent_calls": len(recent),
            "recent_error_rate": round(sum(recent) / len(recent), 4) if recent else None,
        }

    def _remember(self, deployment: Deployment, failed: bool) -> None:
        recent = self._recent.setdefault(deployment.label, collections.deque(maxlen=RECENT_CALLS))
        recent.append((self._clock(), failed))

    def _trial_in_flight(self, circuit: _Circuit) -> bool:
        started = circuit.trial_started
        return started is not None and self._clock() < started + self.cooldown_seconds


class ColdTracker:
    """Deployments that answered "not ready / no copy", skipped until their next probe."""

    def __init__(
        self, *, recheck_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ):
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._next_probe: dict[str, float] = {}

    def is_cold(self, deployment: Deployment) -> bool:
        return deployment.label in self._next_probe

    def admit(self, deployment: Deployment) -> bool:
        """False while a cold deployment waits for its next probe; True for a warm one, and for
        exactly one caller once the wait is over (the probe)."""
        next_probe = self._next_probe.get(deployment.label)
        if next_probe is None:
            return True
        now = self._clock()
        if now < next_probe:
            return False
        self._next_probe[deployment.label] = now + self.recheck_seconds  # one probe per period
        return True

    def mark_cold(self, deployment: Deployment) -> None:
        self._next_probe[deployment.label] = self._clock() + self.recheck_seconds

    def mark_warm(self, deployment: Deployment) -> None:
        self._next_probe.pop(deployment.label, None)

    def seconds_until_probe(self, deployment: Deployment) -> float:
        next_probe = self._next_probe.get(deployment.label)
        return 0.0 if next_probe is None else max(0.0, next_probe - self._clock())


def describe_deployments(
    deployments: Iterable[Deployment], breaker: CircuitBreaker, cold: ColdTracker
) -> list[dict[str, Any]]:
    return [
        {
            "deployment": d.label,
            "provider": d.provider,
            "breaker": breaker.describe(d),
            "cold": cold.is_cold(d),
        }
        for d in deployments
    ]


def _field_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(object)"
    return f"IC_RESILIENCE_PRESET: field {field!r}: {first['msg']}"
