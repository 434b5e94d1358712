"""API key format and storage hash."""

from __future__ import annotations

import base64
import hashlib
import re

from inference_core.auth.api_keys import (
    API_KEY_PREFIX,
    display_prefix,
    generate_api_key,
    hash_api_key,
    looks_like_api_key,
    new_key_id,
)


def test_key_format_and_entropy() -> None:
    secret = generate_api_key()
    assert secret.startswith("sk-ic-")
    body = secret[len(API_KEY_PREFIX) :]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body)
    assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) >= 32


def test_keys_are_unique() -> None:
    assert len({generate_api_key() for _ in range(200)}) == 200


def test_hash_is_sha256_hex_of_the_secret() -> None:
    secret = generate_api_key()
    assert hash_api_key(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", hash_api_key(secret))
    assert secret not in hash_api_key(secret)


def test_display_prefix_shows_little_of_the_secret() -> None:
    secret = generate_api_key()
    prefix = display_prefix(secret)
    assert secret.startswith(prefix) and prefix.startswith("sk-ic-")
    assert len(prefix) <= 12


def test_looks_like_api_key_and_key_ids() -> None:
    assert looks_like_api_key(generate_api_key())
    assert not looks_like_api_key("eyJhbGciOiJIUzI1NiJ9.e30.x")
    assert new_key_id().startswith("key_") and new_key_id() != new_key_id()
