"""moto's server with DynamoDB's isolation: one DynamoDB operation at a time.

moto's `TransactWriteItems` is not atomic across threads (it checks conditions and writes without
a lock, and rolls back by restoring a copy of the whole table), so two concurrent admissions could
both pass a condition that real DynamoDB would let only one of pass (the other gets a
`TransactionConflict` or fails its condition). Serializing moto's DynamoDB requests restores what
DynamoDB guarantees; everything else (SQS long polls, S3, SES) stays concurrent. The local stack
(`make dev`), the concurrency tests and the benches run this server, so budgets and limits hold
exactly there as they do on AWS.

Under that one-at-a-time guarantee the server also installs `local.moto_transactions`: moto's
transactions roll back by item instead of by copying every table they name, so their cost stays
flat as the tables fill up during a long run, and `local.moto_expressions`: an update expression
is parsed once per distinct string, not on every call (fixes to the local AWS, not to the gateway).

Run: `python -m inference_core.local.moto_server -H 127.0.0.1 -p 5001`.
"""

from __future__ import annotations

import argparse
import gc
import threading
from collections.abc import Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from inference_core.local import moto_expressions, moto_transactions


class SerializedDynamoDB:
    """WSGI middleware: DynamoDB requests (X-Amz-Target `DynamoDB_…`) run one at a time.

    With `freeze_every` (the server process, `main`), every that many of them it also freezes the
    heap (`gc.freeze`, after a young-generation collection): the tables' items live until deleted,
    and left in the collector's view each full collection walks all of them, a pause that grew
    past 90 ms within a bench run and without bound over a long `make dev` (about 6 ms at most
    with this). Frozen items are still freed by reference counting when deleted; only cyclic
    garbage that was already old when frozen stays (moto's items hold no cycles). Not in a
    server started inside another process (the tests' `SerializedMotoServer`): that would freeze
    the host's heap too."""

    def __init__(self, app: Any, *, freeze_every: int | None = None):
        self.app = app
        self._lock = threading.Lock()
        self._served = 0
        self._freeze_every = freeze_every

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        with self._lock:
            # Materialize the body inside the lock: the operation runs while it is produced.
            body = list(self.app(environ, start_response))
            self._served += 1
            if self._freeze_every and self._served % self._freeze_every == 0:
                gc.collect(1)
                gc.freeze()
            return body


def install_fixes() -> None:
    """The local AWS's fixes to moto, in this process: transactions rolled back by item
    (`moto_transactions`), update expressions parsed once (`moto_expressions`)."""
    moto_transactions.install()
    moto_expressions.install()


FREEZE_EVERY = 200  # DynamoDB requests between heap freezes in the server process


def create_app(*, freeze_every: int | None = None) -> SerializedDynamoDB:
    install_fixes()
    return SerializedDynamoDB(
        DomainDispatcherApplication(create_backend_app), freeze_every=freeze_every
    )


class RequestHandler(MotoRequestHandler):
    """moto's request handler, logging only answers of 400 and above: a line per successful call
    was about 5 % of the server's CPU on a governed request (three DynamoDB calls each)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        text = str(code)
        if not text.isdigit() or int(text) >= 400:
            super().log_request(code, size)


class SerializedMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` (in a thread, for tests) over the serialized app."""

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            create_app(),
            True,
            request_handler=RequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5001)
    args = parser.parse_args(argv)
    app = create_app(freeze_every=FREEZE_EVERY)
    server = make_server(args.host, args.port, app, True, request_handler=RequestHandler)
    gc.collect()
    gc.freeze()  # moto's modules and backends: a full collection never walks them again
    server.serve_forever()


if __name__ == "__main__":
    main()
