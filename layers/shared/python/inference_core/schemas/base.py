"""`WireModel`: the base of the request and response bodies the routes declare.

Its pydantic schema is built at first use, not when the class is defined (`defer_build`): FastAPI
builds what each route needs when the app is built, and the class's own validator and serializer
wait for the first request that constructs one, or for the SnapStart snapshot
(`inference_core.snapstart.before_snapshot` builds them all). This keeps about a fifth of the API
handler's import off a cold start (docs/performance.md).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class WireModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
