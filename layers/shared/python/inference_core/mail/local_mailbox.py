"""The local stack's mailbox: what moto's SES has "sent", read over HTTP (`inference-core mail`).

moto keeps sent mail in its SES backend (SES v2 shares it) and serves every model instance it holds
at `GET <endpoint>/moto-api/data.json`; the raw MIME messages the mailer sends are parsed back into
subject, text and HTML here. `ensure_local_identity` verifies the From identity in moto, which, like
SES, refuses to send from an unverified one.
"""

from __future__ import annotations

import re
import sys
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    import httpx
    from mypy_boto3_sesv2 import SESV2Client

    from inference_core.settings import Settings

MOTO_DATA_PATH = "/moto-api/data.json"
_LINK = re.compile(r"https?://[^\s<>\"')]+")


def list_sent_mail(
    endpoint_url: str,
    *,
    to: str | None = None,
    timeout: float = 10.0,
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """Every message moto's SES has accepted, oldest first, optionally only those sent to `to`.

    Each is `{"message_id", "source", "from", "to": [...], "subject", "date", "text", "html"}`.
    """
    import httpx

    url = endpoint_url.rstrip("/") + MOTO_DATA_PATH
    if client is not None:
        response = client.get(url, timeout=timeout)
    else:
        response = httpx.get(url, timeout=timeout)
    response.raise_for_status()
    ses = response.json().get("ses", {})
    messages = [_simple_message(item) for item in ses.get("Message", [])]
    messages += [_raw_message(item) for item in ses.get("RawMessage", [])]
    if to is not None:
        wanted = to.strip().lower()
        messages = [m for m in messages if wanted in (a.lower() for a in m["to"])]
    return messages


def _simple_message(item: dict[str, Any]) -> dict[str, Any]:
    destinations = item.get("destinations") or {}
    body = str(item.get("body") or "")
    return {
        "message_id": item.get("id"),
        "source": item.get("source"),
        "from": item.get("source"),
        "to": list(destinations.get("ToAddresses", [])),
        "subject": item.get("subject"),
        "date": None,
        "text": None if body.lstrip().startswith("<") else body,
        "html": body if body.lstrip().startswith("<") else None,
    }


def _raw_message(item: dict[str, Any]) -> dict[str, Any]:
    raw = str(item.get("raw_data") or "")
    parsed = cast(EmailMessage, message_from_string(raw, policy=policy.default))
    return {
        "message_id": item.get("id"),
        "source": item.get("source"),
        "from": str(parsed.get("From", "")) or item.get("source"),
        "to": [address for _, address in getaddresses([str(parsed.get("To", ""))]) if address],
        "subject": str(parsed.get("Subject", "")),
        "date": str(parsed.get("Date", "")) or None,
        "text": _part(parsed, "plain"),
        "html": _part(parsed, "html"),
    }


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return None
    return str(body.get_content())


def extract_links(mail: dict[str, Any]) -> list[str]:
    """The http(s) links in a message's text (or HTML) body, in order: e.g. a verification link."""
    body = mail.get("text") or mail.get("html") or ""
    links = [link.rstrip(".,;") for link in _LINK.findall(body)]
    if not mail.get("text"):
        links = [link.replace("&amp;", "&") for link in links]
    return list(dict.fromkeys(links))


def print_mailbox(
    endpoint_url: str,
    *,
    to: str | None = None,
    limit: int = 20,
    show_body: bool = True,
    out: TextIO | None = None,
) -> int:
    """Print the newest `limit` messages (oldest of them first); returns how many there are."""
    out = out or sys.stdout
    messages = list_sent_mail(endpoint_url, to=to)
    shown = messages[-limit:] if limit > 0 else messages
    if not messages:
        print("The local mailbox is empty.", file=out)
        return 0
    print(
        f"{len(messages)} message(s) in the local mailbox"
        + (f", showing the last {len(shown)}" if len(shown) < len(messages) else ""),
        file=out,
    )
    first = len(messages) - len(shown) + 1
    for number, mail in enumerate(shown, start=first):
        print(file=out)
        print(f"#{number}  {mail.get('date') or ''}".rstrip(), file=out)
        print(f"  From:    {mail.get('from')}", file=out)
        print(f"  To:      {', '.join(mail['to'])}", file=out)
        print(f"  Subject: {mail.get('subject')}", file=out)
        if show_body:
            body = mail.get("text") or mail.get("html") or ""
            print(file=out)
            for line in body.rstrip().splitlines():
                print(f"    {line}", file=out)
    return len(messages)


def ensure_local_identity(settings: Settings, client: SESV2Client | None = None) -> str:
    """Verify the configured From address (and create the configuration set) in the local SES.

    Only for the embedded AWS: it refuses to run without local mode and an endpoint URL, so it can
    never create identities in a real account. Returns the verified address. Safe to call twice.
    """
    if not (settings.aws.local_mode and settings.aws.aws_endpoint_url) and client is None:
        raise RuntimeError(
            "ensure_local_identity is for the local stack (IC_LOCAL_MODE + endpoint)"
        )
    if client is None:
        import boto3

        client = boto3.client(
            "sesv2", region_name=settings.aws.region, endpoint_url=settings.aws.aws_endpoint_url
        )
    address = settings.mail.mail_from
    try:
        client.get_email_identity(EmailIdentity=address)
    except client.exceptions.NotFoundException:
        client.create_email_identity(EmailIdentity=address)
    config_set = settings.mail.mail_configuration_set
    if config_set:
        existing = client.list_configuration_sets().get("ConfigurationSets", [])
        if config_set not in existing:
            client.create_configuration_set(ConfigurationSetName=config_set)
    return address
