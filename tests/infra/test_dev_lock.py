"""The development environment comes from the hashed lock, and the lock is not stale.

`make install` installs `infra/locks/dev.txt` with `--require-hashes` (llama-cpp-python from its
sdist, downloaded by hash and built here). These tests fail when someone adds or bumps a
dependency (pyproject.toml, constraints.txt) without `make lock`, when the environment the suite
runs in holds something the lock does not, and when an install step could fetch a file nobody
checked. No network.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from infra.config import PROJECT_ROOT
from packaging.markers import default_environment
from packaging.requirements import Requirement

from infra import dev_lock

LOCK = PROJECT_ROOT / "infra" / "locks" / "dev.txt"
PYPROJECT = PROJECT_ROOT / "pyproject.toml"
CONSTRAINTS = PROJECT_ROOT / "constraints.txt"
BUILD_IN = PROJECT_ROOT / "infra" / "locks" / "build.in"


def _stale(
    *,
    lock: str | None = None,
    constraints: str | None = None,
    pyproject: str | None = None,
    build_in: str | None = None,
) -> list[str]:
    return dev_lock.stale(
        lock if lock is not None else LOCK.read_text(),
        constraints if constraints is not None else CONSTRAINTS.read_text(),
        pyproject if pyproject is not None else PYPROJECT.read_text(),
        build_in if build_in is not None else BUILD_IN.read_text(),
    )


def test_the_dev_lock_covers_pyproject_constraints_and_build_tools() -> None:
    assert _stale() == [], "infra/locks/dev.txt is stale: run `make lock`"


def _with_dev_requirement(requirement: str) -> str:
    text = PYPROJECT.read_text()
    assert '\ndev = [\n  "pytest' in text
    return text.replace('\ndev = [\n  "pytest', f'\ndev = [\n  "{requirement}",\n  "pytest', 1)


def _without_hashes_of(name: str) -> str:
    text = LOCK.read_text()
    entry = dev_lock.parse(text)[name]
    stripped = re.sub(
        rf"^{re.escape(entry.name)}=={re.escape(entry.version)} \\\n(\s+--hash=\S+( \\)?\n)+",
        f"{entry.name}=={entry.version}\n",
        text,
        flags=re.M,
    )
    assert stripped != text
    return stripped


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        (lambda: {"pyproject": _with_dev_requirement("leftpad>=1.0")}, "leftpad>=1.0"),
        (lambda: {"pyproject": _with_dev_requirement("fastapi>=999")}, "fastapi>=999"),
        (lambda: {"constraints": CONSTRAINTS.read_text() + "leftpad==1.0\n"}, "leftpad==1.0"),
        (
            lambda: {"constraints": CONSTRAINTS.read_text().replace("\nruff==", "\nruff==9")},
            "ruff: constraints.txt pins 9",
        ),
        (lambda: {"build_in": BUILD_IN.read_text() + "meson-python\n"}, "meson-python"),
        (lambda: {"lock": _without_hashes_of("jinja2")}, "has no hash"),
    ],
    ids=["new-dependency", "raised-floor", "new-pin", "bumped-pin", "new-build-tool", "no-hash"],
)
def test_a_dependency_changed_without_make_lock_is_reported(
    change: Callable[[], dict[str, str]], reported: str
) -> None:
    problems = _stale(**change())
    assert any(reported in p for p in problems), problems


def _installed_closure(roots: list[Requirement]) -> dict[str, str]:
    """{canonical name: installed version} of `roots` and everything they pull in, here."""
    environment = default_environment()
    extras_of: dict[str, set[str]] = {}
    pending = list(roots)
    while pending:
        requirement = pending.pop()
        name = dev_lock.canonical(requirement.name)
        extras = set(requirement.extras)
        if name in extras_of and extras <= extras_of[name]:
            continue
        extras_of.setdefault(name, set()).update(extras)
        for text in metadata.distribution(name).requires or []:
            dependency = Requirement(text)
            if dependency.marker is None or any(
                dependency.marker.evaluate({**environment, "extra": extra})
                for extra in {"", *extras_of[name]}
            ):
                pending.append(dependency)
    return {name: metadata.version(name) for name in extras_of}


def test_everything_the_project_pulls_in_here_is_locked() -> None:
    """Every distribution the project needs in the environment this suite runs in is in the lock,
    and at the installed version wherever constraints.txt pins one (a dependency installed by hand
    and not re-locked fails here). pip, setuptools and wheel are not in constraints.txt (`pip
    freeze` leaves them out): an environment installed before the lock may hold the venv's own
    older setuptools, so only their presence in the lock is checked."""
    closure = _installed_closure([Requirement(f"inference-core[{','.join(dev_lock.EXTRAS)}]")])
    closure.pop("inference-core")
    assert len(closure) > 100
    locked = dev_lock.parse(LOCK.read_text())
    constrained = dev_lock.parse(CONSTRAINTS.read_text())
    differ = {
        name: (version, locked[name].version if name in locked else None)
        for name, version in closure.items()
        if name not in locked or (name in constrained and locked[name].version != version)
    }
    assert differ == {}, "installed (version, locked version); run `make lock`"


def test_split_puts_every_locked_file_in_exactly_one_part(tmp_path: Path) -> None:
    dev_lock.split(LOCK, tmp_path)
    locked = dev_lock.parse(LOCK.read_text())
    parts = {p.name: dev_lock.parse(p.read_text()) for p in tmp_path.iterdir()}
    assert set(parts) == {"pip.txt", "llama-cpp-python.txt", "rest.txt"}
    assert list(parts["pip.txt"]) == ["pip"]
    assert list(parts["llama-cpp-python.txt"]) == ["llama-cpp-python"]
    assert {**parts["pip.txt"], **parts["llama-cpp-python.txt"], **parts["rest.txt"]} == locked
    assert sum(len(p) for p in parts.values()) == len(locked)
    # The sdist's hash is the one the Makefile keys the wheel stamp on.
    printed = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "infra" / "dev_lock.py"),
            "hashes",
            str(LOCK),
            "llama_cpp_python",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == sorted(locked["llama-cpp-python"].hashes) and len(printed) >= 1


def _make() -> str:
    make = shutil.which("make")
    assert make, "make is needed to build the environment"
    return make


def _install_commands() -> list[str]:
    """The commands `make install` runs from scratch, continuation lines joined (`make -n`
    prints them without running any)."""
    printed = subprocess.run(
        [_make(), "--no-print-directory", "-n", "-B", "install"],
        cwd=PROJECT_ROOT,
        # Not the flags of a `make test` this may run under.
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.strip() for line in re.sub(r"\\\n\s*", " ", printed).splitlines()]


def test_make_install_fetches_nothing_without_checking_its_hash() -> None:
    commands = _install_commands()
    pip = [c for c in commands if re.search(r"-m pip (install|download|wheel)\b", c)]
    assert len(pip) >= 5, commands
    for command in pip:
        assert "--upgrade" not in command and " -c " not in command, command
        assert "--no-deps" in command, command  # nothing transitive that is not in the lock
        checked = "--require-hashes" in command
        offline = "--no-index" in command or re.search(
            r"pip (wheel|install) .*\.(tar\.gz|whl)\b|-e \.$", command
        )
        assert checked or offline, f"fetches without hashes: {command}"
        if "pip wheel" in command or "-e ." in command or "pip download" in command:
            assert "--no-build-isolation" in command, command  # build tools come from the lock
    assert any("--require-hashes" in c and c.endswith("-r .venv/lock/rest.txt") for c in pip)
    order = [
        next(i for i, c in enumerate(commands) if needle in c)
        for needle in (
            "lock/pip.txt",
            "lock/rest.txt",
            "pip download",
            "pip wheel",
            "-e .",
            "pip check",
        )
    ]
    assert order == sorted(order), commands


def _dry_run_install(tmp_path: Path, stamp_text: str | None) -> str:
    """`make -n install` against an installed venv (stamps newer than the lock) and a wheel
    cache whose llama-cpp-python stamp holds `stamp_text` (None: no stamp)."""
    venv, wheels = tmp_path / "venv", tmp_path / "wheels"
    venv.mkdir(parents=True)
    wheels.mkdir()
    (venv / ".locked-stamp").touch()
    (venv / ".installed-stamp").touch()
    version = dev_lock.parse(LOCK.read_text())["llama-cpp-python"].version
    if stamp_text is not None:
        (wheels / f".llama-cpp-python-{version}").write_text(stamp_text)
    return subprocess.run(
        [_make(), "--no-print-directory", "-n", "install", f"VENV={venv}", f"WHEELS={wheels}"],
        cwd=PROJECT_ROOT,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_llama_wheel_is_built_once_per_locked_sdist(tmp_path: Path) -> None:
    hashes = " ".join(sorted(dev_lock.parse(LOCK.read_text())["llama-cpp-python"].hashes))
    # Built from the locked sdist before: a second `make install` neither downloads nor builds.
    again = _dry_run_install(tmp_path / "built", hashes + "\n")
    assert "pip download" not in again and "pip wheel" not in again, again
    # No stamp, or one that does not hold the lock's sdist hash (written before the wheel was
    # built from a verified sdist, or for another file): download by hash and build.
    for name, stamp in (("none", None), ("empty", ""), ("other", "0" * 64)):
        rebuilt = _dry_run_install(tmp_path / name, stamp)
        assert "pip download --quiet --require-hashes" in rebuilt, rebuilt
        assert rebuilt.index("pip download") < rebuilt.index("pip wheel"), rebuilt
        assert "--force-reinstall" in rebuilt  # the new wheel replaces an installed one
