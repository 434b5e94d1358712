"""Guardrails: checks on what goes into a model and what comes out of it (prompt injection, PII,
secrets, size, content types; markup in answers), applied by the inference service per the
caller's policy (`off` | `detect` | `redact` | `block`).

This package's `__init__` stays import-light on purpose: the API middleware imports it for the
context variable below, while the rules and the engine (`guardrails.engine`) load at the first
request that has a policy, so the cold start does not grow.
"""

from __future__ import annotations

import contextvars

# The checks that fired for the current HTTP request (names only, never the matched text); a list
# set by the API middleware and appended to by the engine, sent as the `x-ic-guardrails` header.
fired_checks: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "guardrails_fired", default=None
)

HEADER = "x-ic-guardrails"


def note_fired(names: list[str]) -> None:
    """Record checks that fired for the current request (a no-op outside an HTTP request)."""
    fired = fired_checks.get()
    if fired is not None:
        for name in names:
            if name not in fired:
                fired.append(name)
