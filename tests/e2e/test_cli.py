"""The `inference-core` CLI against the running local stack (it reads the stack's state file)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import openai


def cli(local_stack: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "inference_core.cli",
            "--state-dir",
            local_stack["state_dir"],
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_create_user_then_create_key_then_use_it(local_stack: dict[str, Any]) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    created = cli(local_stack, "create-user", email, "--password", "a long cli passphrase")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["role"] == "user"
    key_run = cli(local_stack, "create-key", email, "--models", "smollm2", "--rpm", "5")
    assert key_run.returncode == 0, key_run.stderr
    key = key_run.stdout.strip()
    assert key.startswith("sk-ic-")
    client = openai.OpenAI(base_url=local_stack["api_url"] + "/v1", api_key=key, max_retries=0)
    assert [m.id for m in client.models.list()] == ["smollm2"]


def test_cli_refuses_a_weak_password_without_a_traceback(local_stack: dict[str, Any]) -> None:
    result = cli(
        local_stack,
        "create-user",
        f"weak-{uuid.uuid4().hex[:6]}@example.com",
        "--password",
        "short",
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_mail_lists_the_local_mailbox(local_stack: dict[str, Any]) -> None:
    result = cli(local_stack, "mail")
    assert result.returncode == 0, result.stderr
