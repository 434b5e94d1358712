"""`make dev`: the whole system on one machine, offline.

Starts, as child processes, moto's server (the embedded AWS), the SageMaker-compatible model
server (SmolLM2-135M-Instruct through llama.cpp) and the API under uvicorn; creates the tables,
queues, bucket and SES identity from the same definitions the app uses; runs the SQS pollers that
feed the real worker and mailer handlers; creates a superuser and an API key and prints them once.
Ctrl-C (or SIGTERM) stops everything.

The terminal shows the stack's own messages and one short line per API request (`local.dev_log`);
the full JSON log lines go to `.local/api.log` (the API) and `.local/workers.log` (the worker and
mailer handlers the pollers run in this process).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from inference_core.local.dev_log import tee
from inference_core.observability import send_logs_to
from inference_core.snapstart import GC_FREEZE_VARIABLE

LOCAL_ENDPOINT_NAME = "smollm2-local"
SUPERUSER_EMAIL = "admin@inference-core.local"

# The API process runs as a Lambda environment does: what init built is frozen out of the garbage
# collector's view (`snapstart.freeze_init_heap`).
API_PROCESS_ENV = {GC_FREEZE_VARIABLE: "1"}


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    api_port: int = 8000
    moto_port: int = 5001
    model_port: int = 8081
    state_dir: Path = field(default_factory=lambda: Path(".local"))
    pollers: bool = True
    quiet: bool = False


class LocalStack:
    def __init__(self, config: StackConfig):
        self.config = config
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._log_files: list[IO[Any]] = []

    # ---- addresses and environment ----

    @property
    def aws_url(self) -> str:
        return f"http://{self.config.host}:{self.config.moto_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.config.host}:{self.config.api_port}"

    @property
    def model_url(self) -> str:
        return f"http://{self.config.host}:{self.config.model_port}"

    def jwt_secret(self) -> str:
        """Generated once and kept in the state folder (mode 600), so tokens survive restarts."""
        path = self.config.state_dir / "jwt_secret"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def environment(self, queue_urls: dict[str, str]) -> dict[str, str]:
        env = {
            "IC_LOCAL_MODE": "1",
            "IC_REGION": "us-east-1",
            "IC_AWS_ENDPOINT_URL": self.aws_url,
            "IC_SAGEMAKER_ENDPOINT_URL": self.model_url,
            "IC_JWT_SECRET": self.jwt_secret(),
            "IC_PUBLIC_BASE_URL": self.api_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "inference-core",
            "POWERTOOLS_METRICS_NAMESPACE": "InferenceCoreLocal",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        for setting, url in queue_urls.items():
            env[f"IC_{setting.upper()}"] = url
        # Anything the developer set (a registry path, provider keys...) wins.
        env.update({k: v for k, v in os.environ.items() if k.startswith("IC_") and k not in env})
        return env

    # ---- lifecycle ----

    def start(self) -> dict[str, Any]:
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        logs = self.config.state_dir
        self._log_files.append(open(logs / "workers.log", "a"))
        send_logs_to(self._log_files[-1])
        self._spawn(
            "aws",
            [
                sys.executable,
                "-m",
                # moto's server, with DynamoDB operations serialized as DynamoDB isolates them
                "inference_core.local.moto_server",
                "-H",
                self.config.host,
                "-p",
                str(self.config.moto_port),
            ],
            logs / "moto.log",
        )
        self._spawn(
            "model",
            [
                sys.executable,
                "-m",
                "inference_core.local.model_server",
                "--host",
                self.config.host,
                "--port",
                str(self.config.model_port),
                "--endpoint-name",
                LOCAL_ENDPOINT_NAME,
            ],
            logs / "model.log",
        )
        _wait_http(f"{self.aws_url}/moto-api/", "embedded AWS", self.children)
        os.environ.update(self.environment({}))
        queue_urls = self.provision()
        env = self.environment(queue_urls)
        os.environ.update(env)
        _wait_http(f"{self.model_url}/ping", "model server", self.children, timeout=180)
        self._spawn(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "inference_core.api.app:create_app",
                "--factory",
                "--host",
                self.config.host,
                "--port",
                str(self.config.api_port),
                "--no-access-log",
            ],
            logs / "api.log",
            env={**os.environ, **env, **API_PROCESS_ENV},
            terminal=None if self.config.quiet else sys.stdout,
        )
        _wait_http(f"{self.api_url}/health", "API", self.children)
        seed = self.seed()
        if self.config.pollers:
            self.start_pollers()
        state = {
            "api_url": self.api_url,
            "aws_url": self.aws_url,
            "model_url": self.model_url,
            "env": env,
            **seed,
        }
        state_file = self.config.state_dir / "stack.json"
        state_file.write_text(json.dumps(state, indent=2))
        state_file.chmod(0o600)
        return state

    def provision(self) -> dict[str, str]:
        """Tables, queues, bucket and SES identity in the embedded AWS."""
        import boto3

        from inference_core.db.tables import create_tables
        from inference_core.local.resources import create_bucket, create_queues
        from inference_core.settings import QueueSettings, TableSettings

        kwargs: dict[str, Any] = {
            "endpoint_url": self.aws_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        create_tables(boto3.client("dynamodb", **kwargs), TableSettings().model_dump())
        urls = create_queues(boto3.client("sqs", **kwargs))
        create_bucket(boto3.client("s3", **kwargs), QueueSettings().files_bucket)
        with contextlib.suppress(ImportError):
            from inference_core.mail.local_mailbox import ensure_local_identity
            from inference_core.settings import Settings

            ensure_local_identity(Settings(), client=boto3.client("sesv2", **kwargs))
        return urls

    def seed(self) -> dict[str, str]:
        """The first superuser and an API key, created through the same service as the API's."""
        from inference_core.admin import create_api_key_for_email, create_user
        from inference_core.api.deps import reset_dependencies
        from inference_core.settings import get_settings

        get_settings.cache_clear()
        reset_dependencies()
        password = secrets.token_urlsafe(18)
        create_user(SUPERUSER_EMAIL, password, superuser=True, name="Local admin")
        key = create_api_key_for_email(SUPERUSER_EMAIL, name="make dev")
        return {"email": SUPERUSER_EMAIL, "password": password, "api_key": key}

    def start_pollers(self) -> None:
        try:
            from inference_core.local.pollers import start_pollers
        except ImportError:
            return
        self._threads.extend(start_pollers(self._stop))

    def stop(self) -> None:
        self._stop.set()
        for _name, proc in reversed(self.children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        self.children.clear()
        send_logs_to(sys.stdout)  # before its file closes
        for file in self._log_files:
            file.close()
        self._log_files.clear()

    def _spawn(
        self,
        name: str,
        cmd: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        *,
        terminal: IO[str] | None = None,
    ) -> None:
        """Start a child with its output in `log`; with `terminal`, its output also goes through
        `dev_log` (one short line per request) to the terminal."""
        out: Any = open(log, "ab")
        self._log_files.append(out)
        if terminal is None:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        else:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            assert proc.stdout is not None
            reader = threading.Thread(
                target=tee, args=(proc.stdout, out, terminal), name=f"{name}-log", daemon=True
            )
            reader.start()
            self._threads.append(reader)
        self.children.append((name, proc))


def _wait_http(
    url: str, what: str, children: list[tuple[str, subprocess.Popen[bytes]]], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in children:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the {name} process exited with code {proc.returncode} during start-up"
                )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the {what} did not become ready at {url} within {timeout:.0f}s")


def banner(state: dict[str, Any]) -> str:
    api, key = state["api_url"], state["api_key"]
    return f"""
Inference Core is running (local stack, offline).

  API              {api}      (OpenAI: {api}/v1, Anthropic: {api})
  Console          {api}/console/   (sign in with the superuser's email and password)
  Embedded AWS     {state["aws_url"]}
  Model server     {state["model_url"]}  (SmolLM2-135M-Instruct, llama.cpp, CPU)
  Superuser        {state["email"]}  password: {state["password"]}
  API key          {key}
                   (shown once; also in .local/stack.json, mode 600)

Try it:

  curl {api}/v1/chat/completions \\
    -H "Authorization: Bearer {key}" -H "Content-Type: application/json" \\
    -d '{{"model": "smollm2", "messages": [{{"role": "user", "content": "Say hello in one sentence."}}]}}'

  python - <<'PY'
  from openai import OpenAI
  client = OpenAI(base_url="{api}/v1", api_key="{key}")
  reply = client.chat.completions.create(
      model="smollm2", messages=[{{"role": "user", "content": "Say hello in one sentence."}}])
  print(reply.choices[0].message.content)
  PY

Press Ctrl-C to stop everything.
"""


def run(config: StackConfig) -> int:
    stack = LocalStack(config)
    stopping = threading.Event()

    def _handle(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    try:
        state = stack.start()
        print(banner(state), flush=True)
        while not stopping.is_set():
            for name, proc in stack.children:
                if proc.poll() is not None:
                    print(
                        f"the {name} process exited ({proc.returncode}); stopping", file=sys.stderr
                    )
                    stopping.set()
            stopping.wait(1)
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping the local stack...", file=sys.stderr, flush=True)
        stack.stop()
