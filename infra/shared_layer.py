"""The shared Lambda layer (`/opt/python`): our package plus its pinned dependencies, for arm64.

No Docker: pip downloads manylinux wheels for the Lambda platform (`--platform ... --only-binary`)
into a cache keyed by the requirements file, so only the first synth after a pin change needs the
network. Without one, synth still works: the layer then holds our package alone and a warning says
so (`layer_dependencies=required`, which `make deploy` passes, turns that into an error). With
`skip_layer_install` (tests, quick synths) pip never runs.

The model registry goes into a second, tiny layer (`/opt/registry/models.json`): it depends on
deployment context (the SageMaker endpoint), and changing it should not republish 30 MB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from aws_cdk import Annotations, AssetHashType, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import PROJECT_ROOT, SageMakerConfig
from infra.pin_layer_requirements import PLATFORMS

LAYER_SOURCE = PROJECT_ROOT / "layers" / "shared"
PACKAGE_SOURCE = LAYER_SOURCE / "python" / "inference_core"
REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
CACHE_ROOT = PROJECT_ROOT / ".cdk-layer-cache"
REGISTRY_MOUNT = "/opt/registry/models.json"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")
# Bump when the build recipe changes, so cached builds are not reused.
_RECIPE = "2"


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:20]


def tree_digest(root: Path) -> str:
    """A hash of every file's path and bytes under `root`, ignoring caches."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix in {".pyc", ".pyo"}:
            continue
        h.update(str(rel).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:20]


def _replace_dir(staging: Path, final: Path) -> None:
    """Move a finished build into place; a concurrent builder of the same key may win the race."""
    try:
        staging.rename(final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(staging, ignore_errors=True)


class LayerBuildError(RuntimeError):
    """pip could not fetch the layer's wheels (usually: no network, and nothing cached)."""


def build_dependencies(
    *, python_version: str, requirements: Path = REQUIREMENTS, patient: bool = True
) -> Path:
    """`pip install` the pinned dependencies for arm64 into the cache (once per requirements).

    `patient=False` gives up quickly when the index is unreachable (an offline synth).
    """
    key = _digest(
        requirements.read_bytes(),
        python_version.encode(),
        " ".join(PLATFORMS).encode(),
        _RECIPE.encode(),
    )
    final = CACHE_ROOT / f"deps-py{python_version}-{key}"
    if (final / ".complete").exists():
        return final
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    staging = CACHE_ROOT / f".staging-{uuid.uuid4().hex}"
    command = [
        sys.executable, "-m", "pip", "install",
        # -qq: errors only (mirror configuration can make pip chatty about unused indexes).
        "-qq", "--disable-pip-version-check", "--no-compile",
        # Every transitive dependency is pinned in the file with its wheel's hash; nothing else
        # may sneak in, and nothing but those exact bytes.
        "--no-deps", "--require-hashes",
        "--only-binary=:all:",
        "--implementation", "cp",
        "--python-version", python_version,
        *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
        "--target", str(staging / "python"),
        "--requirement", str(requirements),
        *([] if patient else ["--retries", "0", "--timeout", "15"]),
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True)  # noqa: S603 (fixed argv, no shell)
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise LayerBuildError(
            "building the Lambda layer's dependencies failed (pip needs the package index once "
            "per requirements change); synthesize with -c skip_layer_install=true to bundle "
            "only the inference_core package"
        ) from exc
    shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
    for cache in (staging / "python").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    (staging / ".complete").write_text(" ".join(command[3:]))
    _replace_dir(staging, final)
    return final


def assemble_layer(*, python_version: str, dependencies: str) -> tuple[Path, str, bool]:
    """The layer directory (`python/` = dependencies + inference_core), its asset hash, and
    whether the dependencies are in it (`dependencies`: auto, required or skip)."""
    package_hash = tree_digest(PACKAGE_SOURCE)
    deps: Path | None = None
    if dependencies != "skip":
        try:
            deps = build_dependencies(
                python_version=python_version, patient=dependencies == "required"
            )
        except LayerBuildError:
            if dependencies == "required":
                raise
    deps_key = deps.name if deps is not None else "no-deps"
    asset_hash = _digest(package_hash.encode(), deps_key.encode(), _RECIPE.encode())
    final = CACHE_ROOT / f"layer-{asset_hash}"
    if (final / ".complete").exists():
        os.utime(final)
        return final, asset_hash, deps is not None
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    staging = CACHE_ROOT / f".staging-{uuid.uuid4().hex}"
    if deps is not None:
        # Hard links: assembling costs no copy of the 30 MB of wheels.
        shutil.copytree(deps / "python", staging / "python", copy_function=_link_or_copy)
    shutil.copytree(
        PACKAGE_SOURCE, staging / "python" / "inference_core", ignore=_IGNORED, dirs_exist_ok=True
    )
    (staging / ".complete").write_text(asset_hash)
    _replace_dir(staging, final)
    _prune("layer-", keep=final)
    return final, asset_hash, deps is not None


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _prune(prefix: str, *, keep: Path, max_age_seconds: float = 24 * 3600) -> None:
    """Drop stale assembled layers (not dependency builds: those cost a download).

    Only directories untouched for a day go, so another synth running now keeps its inputs.
    """
    now = time.time()
    for path in CACHE_ROOT.glob(f"{prefix}*"):
        if path != keep and now - path.stat().st_mtime > max_age_seconds:
            shutil.rmtree(path, ignore_errors=True)


class SharedLayer(Construct):
    """`/opt/python`: inference_core and its pinned dependencies (boto3 is the runtime's)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: lambda_.Runtime,
        dependencies: str,
    ) -> None:
        super().__init__(scope, construct_id)
        python_version = runtime.name.removeprefix("python")
        directory, asset_hash, self.includes_dependencies = assemble_layer(
            python_version=python_version, dependencies=dependencies
        )
        if not self.includes_dependencies and dependencies != "skip":
            message = (
                "the shared layer holds inference_core without its dependencies (pip could not "
                "reach the package index); fine for synth, not for deploy"
            )
            Annotations.of(self).add_warning_v2(
                "inference-core:layer-without-dependencies", message
            )
            print(f"warning: {message}", file=sys.stderr)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(directory),
                exclude=[".complete"],
                asset_hash=asset_hash,
                asset_hash_type=AssetHashType.CUSTOM,
            ),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="inference_core and its pinned dependencies"
            + ("" if self.includes_dependencies else " (package only, not deployable)"),
            # Code, not data: published function versions keep their own copy of the layer, so
            # superseded layer versions can go.
            removal_policy=RemovalPolicy.DESTROY,
        )


def build_registry(*, base_registry: Path, sagemaker: SageMakerConfig) -> dict[str, Any]:
    """The deployed model registry: the operator's file, with the alias of our SageMaker endpoint.

    The stack owns that endpoint, so the file's deployments that name it are dropped: with the
    endpoint off nothing routes to a missing endpoint, and with it on only `model_alias` (which
    says which model runs there) does. Aliases left without deployments disappear.
    """
    raw = json.loads(base_registry.read_text())
    models: dict[str, Any] = {}
    for alias, spec in raw.get("models", {}).items():
        deployments = [
            d
            for d in spec.get("deployments", [])
            if not (d.get("provider") == "sagemaker" and d.get("model") == sagemaker.endpoint_name)
        ]
        if deployments:
            models[alias] = {**spec, "deployments": deployments}
    if sagemaker.enabled:
        models[sagemaker.model_alias] = {
            "owned_by": sagemaker.model_id.split("/")[0].lower(),
            "deployments": [
                {
                    "provider": "sagemaker",
                    "model": sagemaker.endpoint_name,
                    "input_price_per_mtok": sagemaker.input_price_per_mtok,
                    "output_price_per_mtok": sagemaker.output_price_per_mtok,
                    "context_window": sagemaker.max_total_tokens,
                    **(
                        {"inference_component": sagemaker.inference_component_name}
                        if sagemaker.inference_component_name
                        else {}
                    ),
                }
            ],
        }
    default_model = raw.get("default_model")
    if default_model not in models:
        default_model = next(iter(models), None)
    registry = {"default_model": default_model, "models": models}
    # Refuse at synth time what the functions would refuse at their first request.
    from inference_core.registry import ModelRegistry

    ModelRegistry.from_dict(registry)
    return registry


class ModelRegistryLayer(Construct):
    """`/opt/registry/models.json` for IC_MODEL_REGISTRY_PATH, generated at synth time."""

    mount_path = REGISTRY_MOUNT

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        base_registry: Path,
        sagemaker: SageMakerConfig,
        runtime: lambda_.Runtime,
    ) -> None:
        super().__init__(scope, construct_id)
        self.registry = build_registry(base_registry=base_registry, sagemaker=sagemaker)
        text = json.dumps(self.registry, indent=2, sort_keys=True) + "\n"
        asset_hash = _digest(text.encode())
        directory = CACHE_ROOT / f"registry-{asset_hash}"
        target = directory / "registry" / "models.json"
        if target.exists():
            os.utime(directory)
        else:
            staging = CACHE_ROOT / f".staging-{uuid.uuid4().hex}"
            (staging / "registry").mkdir(parents=True)
            (staging / "registry" / "models.json").write_text(text)
            _replace_dir(staging, directory)
            _prune("registry-", keep=directory)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(directory)),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Inference Core model registry (aliases to deployments)",
            removal_policy=RemovalPolicy.DESTROY,
        )
