"""Reading an upstream's Retry-After: the one part of upstream error mapping that parses."""

from __future__ import annotations

import email.utils

import pytest

from inference_core.upstream_errors import MAX_RETRY_AFTER_SECONDS, retry_after_seconds

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "5"}, 5.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the precise one wins
        ({"retry-after": email.utils.formatdate(NOW + 12, usegmt=True)}, 12.0),
        ({"retry-after": email.utils.formatdate(NOW - 12, usegmt=True)}, None),  # in the past
        ({"retry-after": "3600"}, MAX_RETRY_AFTER_SECONDS),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-1"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_is_read_in_seconds_from_any_form(headers, expected):
    assert retry_after_seconds(headers, now=NOW) == expected
