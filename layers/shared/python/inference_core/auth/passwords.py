"""Password hashing with argon2id (argon2-cffi), at OWASP's recommended minimum or above.

OWASP (Password Storage Cheat Sheet) lists argon2id with m=19 MiB, t=2, p=1 as the minimum; we use
exactly that so a Lambda with modest memory hashes in tens of milliseconds. `verify_password` does
the same amount of work whether or not there is a stored hash (it verifies against a dummy hash),
so a login for an unknown email takes as long as one with a wrong password.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

TIME_COST = 2
MEMORY_COST_KIB = 19456  # 19 MiB
PARALLELISM = 1


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi loads its C binding on import: done on first use, or before the SnapStart snapshot
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Computed once per process with the same parameters as real hashes, so verifying against it
    # costs exactly what verifying a real user's password costs.
    return _hasher().hash(secrets.token_urlsafe(24))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; with no stored hash, burn the same time and return False."""
    # Both paths build the dummy hash on first use, so a cold start costs the same either way.
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    dummy = _dummy_hash()
    if password_hash is None:
        try:
            _hasher().verify(dummy, password)
        except VerificationError:
            pass
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if the hash was made with weaker parameters than today's (re-hash at next login)."""
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
