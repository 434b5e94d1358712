"""The named detection rules: deterministic regular expressions, some with a checksum.

Each rule belongs to one check (`injection`, `pii`, `secrets`, `markup`) and is reported as
`check.rule` (e.g. `pii.credit_card`); a policy sets a mode per check or per rule. Validators
(Luhn for cards, ISO 7064 mod 97 for IBANs, the control letter of a Spanish DNI, the address
parser for IPs) keep look-alike numbers from firing. `max_span` bounds how long a match can be;
the stream filter holds back the largest one (see `engine.StreamGuard`).

We use our own rules rather than Presidio: its pattern recognizers need spaCy and a language model
at import, which neither fits the Lambda layer nor the offline local stack.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    check: str  # "injection" | "pii" | "secrets" | "markup"
    name: str
    pattern: re.Pattern[str]
    placeholder: str
    max_span: int = 64
    validate: Callable[[str], bool] | None = None
    doc: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.check}.{self.name}"


def luhn_ok(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def es_dni_ok(text: str) -> bool:
    return _DNI_LETTERS[int(text[:8]) % 23] == text[8].upper()


def ip_ok(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    # Version strings such as 1.2.3.4 are common in prose; an all-small-octets v4 still counts.
    return not (address.version == 6 and text.count(":") < 3)


# ---- prompt injection (checked in user and tool content, never in the operator's system
# prompt) ----

_OVERRIDE = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[\w\s,'-]{0,40}?"
    r"\b(?:previous|prior|above|earlier|preceding|all|any|your|the|these|those|system)\b"
    r"[\w\s'-]{0,30}?\b(?:instructions?|prompts?|rules|directions|guidelines|directives|"
    r"guardrails|safety\s+policies)\b",
    re.IGNORECASE,
)
_ROLE_SPOOF = re.compile(
    r"<\|(?:im_start|im_end|system|assistant|endoftext)\|>|\[/?INST\]|<</?SYS>>"
    r"|^\s*#{2,}\s*(?:system|instruction)s?\b|^\s*(?:system|developer)\s*(?:prompt)?\s*:"
    r"|\bnew\s+system\s+prompt\b",
    re.IGNORECASE | re.MULTILINE,
)
_PERSONA = re.compile(
    r"\byou\s+are\s+now\s+(?:DAN|in\s+developer\s+mode|jailbroken|unrestricted|free\s+of)\b"
    r"|\b(?:developer|god|jailbreak)\s+mode\s+(?:enabled|on|activated)\b"
    r"|\bpretend\s+(?:that\s+)?you\s+have\s+no\s+(?:rules|restrictions|guidelines|filters)\b",
    re.IGNORECASE,
)
_EXTRACTION = re.compile(
    r"\b(?:reveal|show|print|repeat|output|disclose|leak|tell\s+me)\b[\w\s,'-]{0,30}?"
    r"\b(?:system\s+prompt|hidden\s+(?:instructions|prompt)|initial\s+instructions|"
    r"instructions\s+you\s+were\s+given)\b",
    re.IGNORECASE,
)

PLAIN_INJECTION = (_OVERRIDE, _ROLE_SPOOF, _PERSONA, _EXTRACTION)

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")


def _decoded(text: str) -> str | None:
    """The text a base64 or hex candidate decodes to, if it is printable UTF-8."""
    try:
        if _HEX.fullmatch(text):
            raw = bytes.fromhex(text)
        else:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not decoded or sum(c.isprintable() or c.isspace() for c in decoded) < 0.95 * len(decoded):
        return None
    return decoded


def encoded_injection(text: str) -> bool:
    decoded = _decoded(text)
    return decoded is not None and any(p.search(decoded) for p in PLAIN_INJECTION)


INJECTION_RULES = (
    Rule(
        "injection",
        "instruction_override",
        _OVERRIDE,
        "[PROMPT_INJECTION]",
        max_span=160,
        doc="'ignore/disregard/forget ... previous/your ... instructions/rules'",
    ),
    Rule(
        "injection",
        "role_spoofing",
        _ROLE_SPOOF,
        "[PROMPT_INJECTION]",
        max_span=32,
        doc="chat-template tokens (<|im_start|>, [INST], <<SYS>>) or a 'system:' line in user text",
    ),
    Rule(
        "injection",
        "jailbreak_persona",
        _PERSONA,
        "[PROMPT_INJECTION]",
        max_span=80,
        doc="'you are now DAN', 'developer mode enabled', 'pretend you have no rules'",
    ),
    Rule(
        "injection",
        "prompt_extraction",
        _EXTRACTION,
        "[PROMPT_INJECTION]",
        max_span=120,
        doc="'reveal/print/repeat ... your system prompt / hidden instructions'",
    ),
    Rule(
        "injection",
        "encoded_payload",
        re.compile(f"{_BASE64.pattern}|{_HEX.pattern}"),
        "[PROMPT_INJECTION]",
        max_span=4096,
        validate=encoded_injection,
        doc="base64 or hex that decodes to any of the phrasings above",
    ),
)

# ---- secrets (before PII: an AWS key must not be reported as something else) ----

SECRET_RULES = (
    Rule(
        "secrets",
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]{0,8000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?"
        ),
        "[PRIVATE_KEY]",
        max_span=48,
        doc="a PEM/OpenSSH/PGP private key block (its BEGIN line is enough to fire)",
    ),
    Rule(
        "secrets",
        "aws_access_key",
        re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
        "[AWS_ACCESS_KEY]",
        max_span=20,
        doc="an AWS access key id (AKIA..., ASIA..., 20 characters)",
    ),
    Rule(
        "secrets",
        "aws_secret_key",
        re.compile(
            r"(?i)\baws_?secret_?access_?key\b\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
        ),
        "[AWS_SECRET_KEY]",
        max_span=80,
        doc="a 40-character secret key labelled aws_secret_access_key",
    ),
    Rule(
        "secrets",
        "github_token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        "[GITHUB_TOKEN]",
        max_span=96,
        doc="a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
    ),
    Rule(
        "secrets",
        "api_key",
        re.compile(r"\bsk-(?:[A-Za-z0-9]+-){0,2}[A-Za-z0-9_-]{20,}"),
        "[API_KEY]",
        max_span=200,
        doc="an OpenAI/Anthropic-style key (sk-..., sk-proj-..., sk-ant-..., our sk-ic-...)",
    ),
    Rule(
        "secrets",
        "slack_token",
        re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        "[SLACK_TOKEN]",
        max_span=96,
        doc="a Slack token (xoxb-, xoxp-, ...)",
    ),
    Rule(
        "secrets",
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"),
        "[JWT]",
        max_span=2048,
        doc="a JSON Web Token (three base64url parts, header and payload starting eyJ)",
    ),
)

PII_RULES = (
    Rule(
        "pii",
        "email",
        re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b"),
        "[EMAIL]",
        max_span=128,
        doc="an email address",
    ),
    Rule(
        "pii",
        "credit_card",
        re.compile(r"\b(?:\d[ -]?){12,18}\d\b"),
        "[CREDIT_CARD]",
        max_span=24,
        validate=luhn_ok,
        doc="13-19 digits (spaces or dashes allowed) that pass the Luhn check",
    ),
    Rule(
        "pii",
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
        "[IBAN]",
        max_span=44,
        validate=iban_ok,
        doc="an IBAN whose ISO 7064 mod-97 checksum holds",
    ),
    Rule(
        "pii",
        "us_ssn",
        re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"),
        "[US_SSN]",
        max_span=11,
        doc="a US social security number (AAA-GG-SSSS, excluding never-issued areas)",
    ),
    Rule(
        "pii",
        "uk_nino",
        re.compile(
            r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
            r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
        ),
        "[UK_NINO]",
        max_span=13,
        doc="a UK National Insurance number (two letters, six digits, A-D)",
    ),
    Rule(
        "pii",
        "es_dni",
        re.compile(r"\b\d{8}[A-HJ-NP-TV-Z]\b"),
        "[ES_DNI]",
        max_span=9,
        validate=es_dni_ok,
        doc="a Spanish DNI whose control letter matches",
    ),
    Rule(
        "pii",
        "ip_address",
        re.compile(
            r"\b(?:\d{1,3}\.){3}\d{1,3}\b"
            r"|(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"
        ),
        "[IP_ADDRESS]",
        max_span=45,
        validate=ip_ok,
        doc="an IPv4 or IPv6 address that parses",
    ),
    Rule(
        "pii",
        "phone",
        re.compile(
            r"(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}\b"
            r"|(?<![\w(])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"
        ),
        "[PHONE]",
        max_span=24,
        doc="an international (+CC ...) or North American (555-123-4567) phone number",
    ),
)

MARKUP_RULES = (
    Rule(
        "markup",
        "script",
        re.compile(
            r"<\s*(script|style|iframe|object|embed)\b[^>]{0,500}>[\s\S]{0,4000}?<\s*/\s*\1\s*>"
            r"|<\s*(?:script|style|iframe|object|embed)\b[^>]{0,500}>",
            re.IGNORECASE,
        ),
        "",
        max_span=64,
        doc="a script, style, iframe, object or embed element",
    ),
    Rule(
        "markup",
        "html_tag",
        re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,20}(?:\s[^<>]{0,500})?/?>"),
        "",
        max_span=64,
        doc="any other HTML tag (the text between tags is kept)",
    ),
    Rule(
        "markup",
        "event_handler",
        re.compile(r"\bon[a-z]{3,20}\s*=\s*(?:\"[^\"]{0,500}\"|'[^']{0,500}')", re.IGNORECASE),
        "",
        max_span=64,
        doc="an inline event handler attribute (onclick=..., onerror=...) outside a tag",
    ),
    Rule(
        "markup",
        "javascript_url",
        re.compile(r"\bjavascript\s*:", re.IGNORECASE),
        "",
        max_span=16,
        doc="a javascript: URL",
    ),
)

ALL_RULES = INJECTION_RULES + SECRET_RULES + PII_RULES + MARKUP_RULES
INPUT_CHECKS = ("injection", "secrets", "pii")
OUTPUT_CHECKS = ("secrets", "pii", "markup")
