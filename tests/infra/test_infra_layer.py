"""The shared layer's build (pip for arm64, cached, no Docker), its pins, and the registry builder.

No synth here and no network: pip is replaced by a fake that records its command line.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from infra.config import PROJECT_ROOT, SageMakerConfig
from infra.pin_layer_requirements import RUNTIME_PROVIDED
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import shared_layer


@pytest.fixture
def layer_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_layer, "CACHE_ROOT", tmp_path / "cache")
    return tmp_path / "cache"


@pytest.fixture
def fake_pip(monkeypatch):
    """Records each pip call and drops one fake wheel into --target."""
    calls: list[list[str]] = []

    def run(command, check):
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "pydantic_core").mkdir(parents=True)
        (target / "pydantic_core" / "_pydantic_core.cpython-314-aarch64-linux-gnu.so").write_bytes(
            b"\x7fELF"
        )
        (target / "bin").mkdir()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(shared_layer.subprocess, "run", run)
    return calls


def _offline(monkeypatch):
    def fail(command, check):
        raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(shared_layer.subprocess, "run", fail)


def test_dependencies_are_installed_for_arm64_lambda_without_docker(layer_cache, fake_pip):
    deps = shared_layer.build_dependencies(python_version="3.14")

    (command,) = fake_pip
    assert command[1:4] == ["-m", "pip", "install"]
    assert "--only-binary=:all:" in command and "--no-deps" in command
    assert "--require-hashes" in command  # nothing but the locked wheels' bytes
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[command.index("--implementation") + 1] == "cp"
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_28_aarch64" in platforms
    assert all(p.endswith("_aarch64") for p in platforms)
    assert command[command.index("--requirement") + 1] == str(shared_layer.REQUIREMENTS)
    assert (deps / "python" / "pydantic_core").is_dir()
    assert not (deps / "python" / "bin").exists()


def test_a_second_build_with_the_same_pins_uses_the_cache(layer_cache, fake_pip):
    first = shared_layer.build_dependencies(python_version="3.14")
    second = shared_layer.build_dependencies(python_version="3.14")
    assert first == second and len(fake_pip) == 1


def test_a_failed_pip_leaves_nothing_behind_and_says_how_to_synth_offline(layer_cache, monkeypatch):
    _offline(monkeypatch)
    with pytest.raises(shared_layer.LayerBuildError, match="skip_layer_install"):
        shared_layer.build_dependencies(python_version="3.14")
    assert list(layer_cache.iterdir()) == []  # no half-built cache entry, no staging directory


def test_the_assembled_layer_holds_dependencies_and_the_package(layer_cache, fake_pip):
    directory, asset_hash, complete = shared_layer.assemble_layer(
        python_version="3.14", dependencies="required"
    )
    assert complete
    assert (directory / "python" / "inference_core" / "db" / "tables.py").is_file()
    # The web console's static files ship with the package (served by the control plane).
    console = directory / "python" / "inference_core" / "console" / "static"
    assert (console / "index.html").is_file()
    assert (console / "js" / "app.js").is_file()
    assert (directory / "python" / "pydantic_core").is_dir()
    package_only, other_hash, complete = shared_layer.assemble_layer(
        python_version="3.14", dependencies="skip"
    )
    assert not complete
    assert not (package_only / "python" / "pydantic_core").exists()
    assert asset_hash != other_hash


def test_offline_auto_mode_still_synthesizes_a_package_only_layer(layer_cache, monkeypatch):
    _offline(monkeypatch)
    directory, _, complete = shared_layer.assemble_layer(python_version="3.14", dependencies="auto")
    assert not complete
    assert (directory / "python" / "inference_core" / "__init__.py").is_file()


def test_offline_required_mode_refuses(layer_cache, monkeypatch):
    _offline(monkeypatch)
    with pytest.raises(shared_layer.LayerBuildError):
        shared_layer.assemble_layer(python_version="3.14", dependencies="required")


def test_requirements_pin_every_layer_dependency_except_the_runtimes_boto3():
    lines = [
        line
        for line in (PROJECT_ROOT / "layers" / "shared" / "requirements.txt")
        .read_text()
        .splitlines()
        if line and not line.startswith("#")
    ]
    pins = {}
    for line in lines:
        # Every pin carries the SHA-256 of its Lambda wheel (pip --require-hashes needs it).
        pin, _, digest = line.partition(" --hash=sha256:")
        assert len(digest) == 64 and int(digest, 16) >= 0, line
        requirement = Requirement(pin)
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        pins[canonicalize_name(requirement.name)] = spec.version
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["providers"]
    for text in wanted:
        name = canonicalize_name(Requirement(text).name)
        if name in RUNTIME_PROVIDED:
            assert name not in pins, name
        else:
            assert name in pins, f"{name} is a layer dependency but not pinned"
    assert "aws-xray-sdk" in pins  # aws-lambda-powertools[tracer]


def _registry_file(tmp_path: Path, registry: dict) -> Path:
    path = tmp_path / "models.json"
    path.write_text(json.dumps(registry))
    return path


BASE = {
    "default_model": "own-llm",
    "models": {
        "gpt-4o-mini": {"deployments": [{"provider": "openai", "model": "gpt-4o-mini"}]},
        "own-llm": {"deployments": [{"provider": "sagemaker", "model": "inference-core-llm"}]},
        "mixed": {
            "deployments": [
                {"provider": "sagemaker", "model": "inference-core-llm"},
                {"provider": "anthropic", "model": "claude-3-5-haiku-latest"},
            ]
        },
        "external": {"deployments": [{"provider": "sagemaker", "model": "someone-elses-endpoint"}]},
    },
}


def test_registry_without_the_endpoint_drops_only_what_routes_to_it(tmp_path):
    registry = shared_layer.build_registry(
        base_registry=_registry_file(tmp_path, BASE), sagemaker=SageMakerConfig(enabled=False)
    )
    assert set(registry["models"]) == {"gpt-4o-mini", "mixed", "external"}
    assert [d["provider"] for d in registry["models"]["mixed"]["deployments"]] == ["anthropic"]
    assert registry["default_model"] == "gpt-4o-mini"


def test_registry_with_the_endpoint_routes_only_its_own_alias_there(tmp_path):
    config = SageMakerConfig(enabled=True, model_alias="qwen", endpoint_name="inference-core-llm")
    registry = shared_layer.build_registry(
        base_registry=_registry_file(tmp_path, BASE), sagemaker=config
    )
    assert registry["models"]["qwen"]["deployments"][0]["model"] == "inference-core-llm"
    routed_there = [
        alias
        for alias, entry in registry["models"].items()
        if any(d["model"] == "inference-core-llm" for d in entry["deployments"])
    ]
    assert routed_there == ["qwen"]
    assert registry["models"]["external"]["deployments"][0]["model"] == "someone-elses-endpoint"
    assert registry["default_model"] == "gpt-4o-mini"


def test_a_registry_the_app_would_refuse_fails_the_synth(tmp_path):
    bad = {"models": {"x": {"deployments": [{"provider": "nope", "model": "m"}]}}}
    with pytest.raises(ValueError, match="unknown provider"):
        shared_layer.build_registry(
            base_registry=_registry_file(tmp_path, bad), sagemaker=SageMakerConfig()
        )
