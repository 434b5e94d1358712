"""`inference-core batch ...`: submit a JSONL file and wait for it, list batches, cancel one.

These talk HTTP to the API with the official `openai` SDK, like any client would. The API is
found in this order: `--base-url`/`--api-key`, the environment (`INFERENCE_CORE_BASE_URL`,
`INFERENCE_CORE_API_KEY`), then the local stack's `.local/stack.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

TERMINAL = ("completed", "failed", "expired", "cancelled")
BAR_WIDTH = 30


def add_batch_commands(sub: Any) -> None:
    """Register `batch submit|list|cancel` on the CLI's subparsers."""
    batch = sub.add_parser("batch", help="run and manage batch jobs (OpenAI Batch API)")
    commands = batch.add_subparsers(dest="batch_command", required=True)

    def connection(p: argparse.ArgumentParser) -> None:
        p.add_argument("--base-url", help="the API's URL (default: the local stack's)")
        p.add_argument(
            "--api-key", help="an API key (default: $INFERENCE_CORE_API_KEY or the local stack's)"
        )

    submit = commands.add_parser("submit", help="upload a JSONL file and create a batch")
    submit.add_argument("file", type=Path, help="OpenAI batch input: one request per line")
    submit.add_argument("--endpoint", help="default: the url of the file's first request")
    submit.add_argument("--completion-window", default="24h")
    submit.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE")
    submit.add_argument(
        "--wait", action="store_true", help="wait, show progress, download the results"
    )
    submit.add_argument(
        "--output-dir", type=Path, default=Path("."), help="where results are saved"
    )
    submit.add_argument("--poll-seconds", type=float, default=2.0)
    connection(submit)
    submit.set_defaults(func=cmd_batch_submit)

    listing = commands.add_parser("list", help="your batches, newest first")
    listing.add_argument("--limit", type=int, default=20)
    connection(listing)
    listing.set_defaults(func=cmd_batch_list)

    cancel = commands.add_parser("cancel", help="cancel a batch (finished lines are kept)")
    cancel.add_argument("batch_id")
    connection(cancel)
    cancel.set_defaults(func=cmd_batch_cancel)


def openai_client(args: argparse.Namespace) -> Any:
    from openai import OpenAI

    base_url = args.base_url or os.environ.get("INFERENCE_CORE_BASE_URL")
    api_key = args.api_key or os.environ.get("INFERENCE_CORE_API_KEY")
    state_file = Path(getattr(args, "state_dir", ".local")) / "stack.json"
    if (not base_url or not api_key) and state_file.exists():
        state = json.loads(state_file.read_text())
        base_url = base_url or state.get("api_url")
        api_key = api_key or state.get("api_key")
    if not base_url or not api_key:
        sys.exit(
            "no API to talk to: start the local stack (`make dev`), or pass --base-url and "
            "--api-key (or set INFERENCE_CORE_BASE_URL and INFERENCE_CORE_API_KEY)"
        )
    base = base_url.rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    return OpenAI(base_url=base, api_key=api_key, max_retries=2, timeout=120)


def _first_url(path: Path) -> str:
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                try:
                    return str(json.loads(raw)["url"])
                except (ValueError, KeyError, TypeError):
                    break
    sys.exit(f"{path}: the first line is not a batch request with a 'url'; pass --endpoint")


def _metadata(pairs: list[str]) -> dict[str, str] | None:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            sys.exit(f"--metadata takes KEY=VALUE, not {pair!r}")
        found[key] = value
    return found or None


def progress_line(batch: Any) -> str:
    counts = batch.request_counts
    total = counts.total if counts else 0
    finished = (counts.completed + counts.failed) if counts else 0
    filled = int(BAR_WIDTH * finished / total) if total else 0
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    failed = f", {counts.failed} failed" if counts and counts.failed else ""
    return f"[{bar}] {finished}/{total} done{failed} ({batch.status})"


def wait_for_batch(
    client: Any, batch_id: str, *, poll_seconds: float, stream: Any = sys.stderr
) -> Any:
    last = ""
    while True:
        batch = client.batches.retrieve(batch_id)
        line = progress_line(batch)
        if line != last:
            stream.write("\r" + line.ljust(len(last)))
            stream.flush()
            last = line
        if batch.status in TERMINAL:
            stream.write("\n")
            return batch
        time.sleep(poll_seconds)


def _download(client: Any, file_id: str | None, target: Path) -> str | None:
    if not file_id:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(client.files.content(file_id).content)
    return str(target)


def _api_errors(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        import openai

        try:
            return int(func(args) or 0)
        except openai.APIStatusError as exc:
            body = exc.body if isinstance(exc.body, dict) else {}
            message = body.get("message") or (body.get("error") or {}).get("message") or str(exc)
            print(f"error: {message} (HTTP {exc.status_code})", file=sys.stderr)
        except openai.APIConnectionError:
            print("error: the API cannot be reached", file=sys.stderr)
        return 1

    return run


@_api_errors
def cmd_batch_submit(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        sys.exit(f"{path}: no such file")
    client = openai_client(args)
    endpoint = args.endpoint or _first_url(path)
    with path.open("rb") as fh:
        uploaded = client.files.create(file=(path.name, fh), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint=endpoint,
        completion_window=args.completion_window,
        metadata=_metadata(args.metadata),
    )
    total = batch.request_counts.total if batch.request_counts else "?"
    print(f"batch {batch.id}: {total} requests to {endpoint}", file=sys.stderr)
    if not args.wait:
        print(json.dumps(batch.model_dump(), indent=2))
        return 0
    batch = wait_for_batch(client, batch.id, poll_seconds=args.poll_seconds)
    saved = {
        "output": _download(
            client, batch.output_file_id, args.output_dir / f"{batch.id}_output.jsonl"
        ),
        "errors": _download(
            client, batch.error_file_id, args.output_dir / f"{batch.id}_error.jsonl"
        ),
    }
    counts = batch.request_counts
    summary = {
        "id": batch.id,
        "status": batch.status,
        "request_counts": counts.model_dump() if counts else None,
        "files": saved,
    }
    print(json.dumps(summary, indent=2))
    return 0 if batch.status == "completed" else 1


@_api_errors
def cmd_batch_list(args: argparse.Namespace) -> int:
    client = openai_client(args)
    page = client.batches.list(limit=args.limit)
    for batch in page.data:
        counts = batch.request_counts
        done = f"{counts.completed + counts.failed}/{counts.total}" if counts else "-"
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(batch.created_at))
        print(f"{batch.id}  {batch.status:<11} {done:>11}  {created}  {batch.endpoint}")
    return 0


@_api_errors
def cmd_batch_cancel(args: argparse.Namespace) -> int:
    client = openai_client(args)
    batch = client.batches.cancel(args.batch_id)
    print(f"{batch.id}: {batch.status}")
    return 0
