"""`make dev`'s banner tells a new user where the console is and how to sign in."""

from __future__ import annotations

from inference_core.local.stack import banner


def test_the_banner_prints_the_console_url_next_to_the_credentials():
    text = banner(
        {
            "api_url": "http://127.0.0.1:8000",
            "aws_url": "http://127.0.0.1:5001",
            "model_url": "http://127.0.0.1:8081",
            "email": "admin@inference-core.local",
            "password": "pw-123",
            "api_key": "sk-ic-abc",
        }
    )
    console_line = next(line for line in text.splitlines() if "Console" in line)
    assert "http://127.0.0.1:8000/console/" in console_line
    assert "admin@inference-core.local" in text and "pw-123" in text
