"""The Python floor: a bare FastAPI + httpx pass-through to the upstream, no auth, no database.

`python bench/floor_app.py PORT UPSTREAM_URL` relays `/v1/chat/completions` (plain and streamed)
through one pooled `httpx.AsyncClient`, which is the least a Python gateway can do per request.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

UPSTREAM = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:9/v1"
app = FastAPI()
client = httpx.AsyncClient(base_url=UPSTREAM, timeout=30)


@app.post("/v1/chat/completions")
async def chat(request: Request) -> Response:
    body = await request.body()
    headers = {"content-type": "application/json"}
    upstream = client.build_request("POST", "/chat/completions", content=body, headers=headers)
    answer = await client.send(upstream, stream=True)
    if answer.headers.get("content-type", "").startswith("text/event-stream"):

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in answer.aiter_raw():
                    yield chunk
            finally:
                await answer.aclose()

        return StreamingResponse(relay(), media_type="text/event-stream")
    content = await answer.aread()
    return Response(content, status_code=answer.status_code, media_type="application/json")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
