"""API key secrets: `sk-ic-` + 32 random bytes (urlsafe base64), stored only as SHA-256 hex.

A key has 256 bits of entropy, so an unsalted fast hash is the right storage: it cannot be brute
forced, and it lets the hot path find a key with one keyed DynamoDB call.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

API_KEY_PREFIX = "sk-ic-"
SECRET_BYTES = 32
# What people see in listings to recognise a key: the marker plus a few random characters.
DISPLAY_PREFIX_CHARS = len(API_KEY_PREFIX) + 6


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:DISPLAY_PREFIX_CHARS]


def looks_like_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def new_key_id() -> str:
    return "key_" + uuid.uuid4().hex[:24]
