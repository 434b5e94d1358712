"""The CDK app: `cdk synth` / `cdk deploy` run this file (cdk.json), as does `python infra/app.py`.

It synthesizes offline: no Docker, no AWS credentials, no network (pip fetches the layer's wheels
once per requirements change when it can; see infra/shared_layer.py). cdk-nag runs on every synth.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
# Run as a script, Python puts infra/ first on sys.path, where api.py or data.py would shadow
# other modules; import everything as the `infra` package from the project root instead.
if sys.path and Path(sys.path[0]).resolve() == _ROOT / "infra":
    sys.path.pop(0)
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))
# Node 20 still runs jsii fine; keep its end-of-life banner out of every synth's output.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App  # noqa: E402

from infra.config import InfraConfig  # noqa: E402
from infra.nag import add_nag_checks  # noqa: E402
from infra.stack import InferenceCoreStack  # noqa: E402

CDK_JSON = _ROOT / "cdk.json"
# Asset paths in the template's metadata are what `sam local invoke` reads. The CDK CLI turns
# this on by itself (and refuses `aws:` keys in cdk.json); run directly, the app must ask.
_APP_CONTEXT = {"aws:cdk:enable-asset-metadata": True}


def default_context() -> dict[str, Any]:
    """cdk.json's context, so `python infra/app.py` and tests see what `cdk synth` sees."""
    if not CDK_JSON.exists():
        return {}
    return dict(json.loads(CDK_JSON.read_text()).get("context", {}))


def build_app(*, context: dict[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with its one stack and the cdk-nag checks; the CLI's context (-c) wins over these."""
    app = App(context={**_APP_CONTEXT, **default_context(), **(context or {})}, outdir=outdir)
    config = InfraConfig.from_context(app.node)
    InferenceCoreStack(app, config.stack_name, config=config)
    add_nag_checks(app)
    return app


def main() -> None:
    # Under the CDK CLI, CDK_OUTDIR says where the cloud assembly goes; run directly, use cdk.out.
    direct = "CDK_OUTDIR" not in os.environ
    assembly = build_app(outdir=str(_ROOT / "cdk.out") if direct else None).synth()
    if direct:
        for stack in assembly.stacks:
            print(Path(assembly.directory, stack.template_file).relative_to(_ROOT))


if __name__ == "__main__":
    main()
