"""Write `layers/shared/requirements.txt`: the layer's dependencies, every one pinned.

The set is pyproject's `dependencies` plus the `providers` extra (the deployed registry routes to
OpenAI and Anthropic, whose SDKs the gateway imports lazily but does import), and everything they
pull in on the Lambda platform (Linux,
arm64, the runtime's Python), at the versions installed in this virtualenv, minus what the Lambda
Python runtime already ships (boto3, botocore and their dependencies). The layer is installed with
`pip --no-deps --require-hashes` from this file, so it is exactly this list, byte for byte: each
pin carries the SHA-256 of the wheel pip picks for the Lambda platform (found by `pip download`
with the layer build's own platform flags, once per pin change; needs the package index).

    .venv/bin/python infra/pin_layer_requirements.py          # `make layer`
    .venv/bin/python infra/pin_layer_requirements.py --check  # fails if pyproject moved on
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "layers" / "shared" / "requirements.txt"
# Lambda's arm64 Python runtimes run on Amazon Linux 2023 (glibc 2.34): any manylinux wheel up
# to 2.34 loads there. pip does not expand `manylinux_2_34` to older tags, so list them all.
# (`infra.shared_layer` installs with the same list.)
PLATFORMS = (
    *(f"manylinux_2_{minor}_aarch64" for minor in range(34, 16, -1)),
    "manylinux2014_aarch64",
)
LAMBDA_PYTHON = "3.14"
LAYER_EXTRAS = ("providers",)
# In the Lambda Python runtime already: boto3 and its dependency tree.
RUNTIME_PROVIDED = {
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "python-dateutil",
    "six",
}
MARKER_ENVIRONMENT = {
    "python_version": LAMBDA_PYTHON,
    "python_full_version": f"{LAMBDA_PYTHON}.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def _applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(
        requirement.marker.evaluate({**MARKER_ENVIRONMENT, "extra": extra})
        for extra in {"", *extras}
    )


def closure(roots: list[Requirement]) -> dict[str, str]:
    """{name: installed version} for `roots` and their dependencies on the Lambda platform."""
    extras_seen: dict[str, set[str]] = {}
    pending = [r for r in roots if _applies(r, set())]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in extras_seen and extras <= extras_seen[name]:
            continue
        extras_seen.setdefault(name, set()).update(extras)
        for text in metadata.distribution(name).requires or []:
            dependency = Requirement(text)
            if _applies(dependency, extras_seen[name]):
                dependency.marker = None
                pending.append(dependency)
    return {name: metadata.version(name) for name in sorted(extras_seen)}


def layer_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    roots = [Requirement(r) for r in project["dependencies"]]
    for extra in LAYER_EXTRAS:
        roots += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return {n: v for n, v in closure(roots).items() if n not in RUNTIME_PROVIDED}


def _wheel_name(filename: str) -> str:
    return canonicalize_name(filename.split("-", 1)[0])


def lambda_wheel_hashes(pins: dict[str, str]) -> dict[str, str]:
    """{name: sha256} of the wheel pip picks for each pin on the Lambda platform."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable, "-m", "pip", "download",
            "-qq", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
            "--implementation", "cp", "--python-version", LAMBDA_PYTHON,
            *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
            "--dest", scratch,
            *[f"{name}=={version}" for name, version in pins.items()],
        ]  # fmt: skip
        subprocess.run(command, check=True)  # noqa: S603 (fixed argv, no shell)
        hashes = {
            _wheel_name(path.name): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in Path(scratch).glob("*.whl")
        }
    missing = sorted(set(pins) - set(hashes))
    if missing:
        sys.exit(f"no Lambda wheel downloaded for: {', '.join(missing)}")
    return hashes


def render(pins: dict[str, str], hashes: dict[str, str]) -> str:
    lines = [
        "# The shared Lambda layer's dependencies, all pinned with the SHA-256 of their Lambda",
        "# wheel (installed with pip --no-deps --require-hashes).",
        "# Generated by `make layer` (infra/pin_layer_requirements.py) from pyproject's",
        f"# dependencies and extras {', '.join(LAYER_EXTRAS)}, for Linux arm64 / CPython "
        f"{LAMBDA_PYTHON}, at the versions in .venv.",
        "# boto3, botocore and their dependencies come from the Lambda runtime and are left out.",
    ]
    lines += [f"{n}=={v} --hash=sha256:{hashes[n]}" for n, v in pins.items()]
    return "\n".join(lines) + "\n"


def pinned_versions(text: str) -> dict[str, str]:
    """{name: version} of a requirements file written by `render` (hashes dropped)."""
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            requirement = Requirement(line.split(" --hash=", 1)[0])
            pins[canonicalize_name(requirement.name)] = str(requirement.specifier).lstrip("=")
    return pins


def main() -> None:
    pins = layer_pins()
    if "--check" in sys.argv:
        # Offline: the versions must match; the hashes were checked when they were written.
        if pinned_versions(OUTPUT.read_text()) != pins:
            sys.exit(f"{OUTPUT.relative_to(ROOT)} is out of date: run `make layer`")
        return
    text = render(pins, lambda_wheel_hashes(pins))
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
