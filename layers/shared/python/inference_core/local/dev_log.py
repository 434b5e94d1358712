"""What `make dev` shows in the terminal: one short line per API request, and warnings.

The API writes JSON log lines (as in Lambda); the local stack keeps every one of them in
`.local/api.log` and turns the access line (`"message": "request"`) into

    POST /v1/chat/completions 200  smollm2  12+34 tok  $0.000046  812 ms  cache miss

Other JSON lines stay in the file unless they are warnings or errors; plain text (uvicorn's
own start-up lines) stays in the file unless it reports an error.
"""

from __future__ import annotations

import json
from typing import IO, Any

_LOUD_LEVELS = ("WARNING", "ERROR", "CRITICAL")


def request_line(record: dict[str, Any]) -> str:
    """The one terminal line of an access record."""
    parts = [
        f"{record.get('http_method', '?')} {record.get('path', '?')} {record.get('status_code', '?')}"
    ]
    if record.get("model"):
        parts.append(str(record["model"]))
        tokens_in, tokens_out = record.get("input_tokens") or 0, record.get("output_tokens") or 0
        parts.append(f"{tokens_in}+{tokens_out} tok")
        parts.append(f"${float(record.get('cost_usd') or 0):.6f}")
    parts.append(f"{float(record.get('latency_ms') or 0):.0f} ms")
    if record.get("model"):
        parts.append("cache hit" if record.get("cache_hit") else "cache miss")
    return "  ".join(parts)


def terminal_line(line: str) -> str | None:
    """The terminal's version of one line of the API's output, or None to keep it file-only."""
    text = line.strip()
    if not text:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return text if ("ERROR" in text or text.startswith("Traceback")) else None
    if not isinstance(record, dict):
        return None
    if record.get("message") == "request" and "http_method" in record:
        return request_line(record)
    level = str(record.get("level", "")).upper()
    if level in _LOUD_LEVELS:
        detail = record.get("error_code") or record.get("error")
        return f"{level} {record.get('message', '')}" + (f" ({detail})" if detail else "")
    return None


def tee(source: IO[bytes], log: IO[bytes], terminal: IO[str] | None) -> None:
    """Copy every line of `source` to `log`, and its terminal version (if any) to `terminal`."""
    for raw in iter(source.readline, b""):
        log.write(raw)
        log.flush()
        if terminal is not None:
            shown = terminal_line(raw.decode("utf-8", errors="replace"))
            if shown is not None:
                print(shown, file=terminal, flush=True)
