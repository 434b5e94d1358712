"""argon2id hashing: parameters at or above OWASP's minimum, verification, dummy-hash path."""

from __future__ import annotations

import time

from argon2 import PasswordHasher
from argon2.low_level import Type

from inference_core.auth import passwords
from inference_core.auth.passwords import hash_password, needs_rehash, verify_password


def test_hash_is_argon2id_with_owasp_minimum_parameters() -> None:
    encoded = hash_password("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$")
    params = dict(p.split("=") for p in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19456
    assert int(params["t"]) >= 2
    assert int(params["p"]) >= 1


def test_each_hash_is_salted() -> None:
    assert hash_password("same password here") != hash_password("same password here")


def test_verify_accepts_the_password_and_nothing_else() -> None:
    encoded = hash_password("correct horse battery staple")
    assert verify_password(encoded, "correct horse battery staple")
    assert not verify_password(encoded, "correct horse battery stapl")
    assert not verify_password(encoded, "")


def test_verify_with_garbage_hash_is_false_not_an_error() -> None:
    assert not verify_password("not-a-hash", "whatever")


def test_missing_user_costs_an_argon2_verification() -> None:
    encoded = hash_password("correct horse battery staple")
    verify_password(None, "warm")  # the dummy hash is built once per process
    started = time.perf_counter()
    for _ in range(3):
        assert not verify_password(None, "correct horse battery staple")
    missing = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(3):
        verify_password(encoded, "wrong password entirely")
    present = time.perf_counter() - started
    # Same parameters, same work: within a generous factor on a noisy machine.
    assert missing > present / 3
    assert passwords._dummy_hash().startswith("$argon2id$")


def test_weaker_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    assert needs_rehash(weak.hash("correct horse battery staple"))
    assert not needs_rehash(hash_password("correct horse battery staple"))
    assert needs_rehash("garbage")
