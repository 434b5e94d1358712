"""Input rules shared by the API models and the CLI: email syntax and the password policy.

Email: a deliberately simple syntax check (no DNS, no `email-validator` dependency): one `@`, a
local part of RFC 5322 "atext" characters and single dots (≤64 chars), a domain of at least two DNS
labels ending in an alphabetic TLD, ≤254 chars in all. Addresses are normalized by stripping and
lower-casing the whole address (every mainstream provider treats the local part case-insensitively),
so `Ann@Example.com` and `ann@example.com` are one account.

Password policy (NIST SP 800-63B: length, not composition rules): 12 to 128 characters, not only
whitespace, not the account's own email. The upper bound keeps argon2 input bounded; there are no
"must contain a digit" rules, which push people to predictable patterns.
"""

from __future__ import annotations

import re

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_EMAIL_LENGTH = 254

_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z]{2,63}$|^xn--[a-z0-9-]{1,59}$")


def normalize_email(value: str) -> str:
    """The normalized address, or ValueError with a message fit for a 400."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or email.count("@") != 1:
        raise ValueError("not a valid email address")
    local, domain = email.split("@")
    labels = domain.split(".")
    if (
        not local
        or len(local) > 64
        or not _LOCAL.match(local)
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        raise ValueError("not a valid email address")
    return email


def check_password_policy(password: str, *, email: str | None = None) -> str:
    """The password unchanged if it meets the policy, else ValueError saying which rule failed."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters long")
    if not password.strip():
        raise ValueError("the password cannot be only whitespace")
    if email is not None and password.strip().lower() == email.strip().lower():
        raise ValueError("the password cannot be the email address")
    return password
