"""The hashed development lock (`infra/locks/dev.txt`): read it, split it for `make install`, and
tell whether it is stale.

`make install` installs the development environment from this lock only, every file checked
against its SHA-256 (`pip install --require-hashes --no-deps`). One locked package cannot be
installed that way: llama-cpp-python is published as an sdist only, and we build the wheel
ourselves with portable CMAKE_ARGS (see the Makefile), so the wheel has no hash anyone could
lock. Its sdist has one, so the install downloads the sdist by that hash, builds the wheel from
the verified file and installs that wheel. Hence `split` writes the lock in three parts:

- `pip.txt`: pip itself, installed first (by hash) so the venv's bundled pip never reads the rest;
- `llama-cpp-python.txt`: the sdist to download by hash and build;
- `rest.txt`: everything else, installed by hash.

`stale` compares the lock with what it must cover (constraints.txt's pins, pyproject's
requirements and build tools, infra/locks/build.in) and lists what `make lock` would change. It
needs `packaging`; `split` and `hashes` run on the standard library alone (the Makefile calls them
before the venv holds anything).

    python infra/dev_lock.py split infra/locks/dev.txt DIR     # DIR/{pip,llama-cpp-python,rest}.txt
    python infra/dev_lock.py hashes infra/locks/dev.txt NAME   # NAME's locked sha256s, one line
    python infra/dev_lock.py stale                             # exit 1 and say why, if stale
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_LOCK = ROOT / "infra" / "locks" / "dev.txt"
BUILD_IN = ROOT / "infra" / "locks" / "build.in"
CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = ROOT / "pyproject.toml"
# The extras `make install` installs (and `make lock` locks).
EXTRAS = ("providers", "local", "dev")
BOOTSTRAP = "pip"
BUILT_HERE = "llama-cpp-python"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)==(\S+)")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


def canonical(name: str) -> str:
    """PEP 503's normalized name: `Jinja2`, `jinja_2` → `jinja2`, `jinja-2`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Locked:
    name: str  # as written in the lock
    version: str
    hashes: tuple[str, ...]

    def requirement(self) -> str:
        """The entry as pip reads it (comments dropped)."""
        lines = [f"{self.name}=={self.version}", *(f"    --hash=sha256:{h}" for h in self.hashes)]
        return " \\\n".join(lines) + "\n"


def parse(text: str) -> dict[str, Locked]:
    """{canonical name: entry} of a pip-compile lock (`name==version \\` + `--hash=` lines)."""
    entries: dict[str, Locked] = {}
    for block in re.sub(r"\\\n", " ", text).splitlines():
        match = _PIN.match(block)
        if match is None:
            continue
        name, version = match.groups()
        entries[canonical(name)] = Locked(name, version, tuple(_HASH.findall(block)))
    return entries


def split(lock: Path, out: Path) -> None:
    entries = parse(lock.read_text())
    for name in (BOOTSTRAP, BUILT_HERE):
        if name not in entries:
            sys.exit(f"{lock}: no {name} in the lock; run `make lock`")
    header = f"# Generated from {lock.name} by infra/dev_lock.py split; do not edit.\n"
    parts = {
        "pip.txt": [entries[BOOTSTRAP]],
        f"{BUILT_HERE}.txt": [entries[BUILT_HERE]],
        "rest.txt": [e for n, e in entries.items() if n not in (BOOTSTRAP, BUILT_HERE)],
    }
    out.mkdir(parents=True, exist_ok=True)
    for filename, part in parts.items():
        (out / filename).write_text(header + "".join(e.requirement() for e in part))


def stale(
    lock_text: str, constraints_text: str, pyproject_text: str, build_in_text: str
) -> list[str]:
    """What the lock lacks or pins otherwise than it must; empty when `make lock` has nothing to do.

    Every pin of constraints.txt must be locked at that version; every requirement of pyproject
    (its dependencies, the extras `make install` installs, its build-system requires) and of
    build.in must be locked at a version it allows; every entry must carry a hash.
    """
    import tomllib  # only `stale` needs these (see the docstring)

    from packaging.requirements import Requirement

    locked = parse(lock_text)
    problems = [f"{e.name}=={e.version} has no hash" for e in locked.values() if not e.hashes]
    for line in constraints_text.splitlines():
        match = _PIN.match(line.strip())
        if match is None:
            continue
        name, version = match.groups()
        entry = locked.get(canonical(name))
        if entry is None:
            problems.append(f"{name}=={version} (constraints.txt) is not in the lock")
        elif entry.version != version:
            problems.append(f"{name}: constraints.txt pins {version}, the lock {entry.version}")
    pyproject = tomllib.loads(pyproject_text)
    required = [*pyproject["project"]["dependencies"], *pyproject["build-system"]["requires"]]
    for extra in EXTRAS:
        required += pyproject["project"]["optional-dependencies"][extra]
    required += [
        line.split("#", 1)[0].strip()
        for line in build_in_text.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    for text in required:
        requirement = Requirement(text)
        entry = locked.get(canonical(requirement.name))
        if entry is None:
            problems.append(f"{text} (pyproject.toml or build.in) is not in the lock")
        elif not requirement.specifier.contains(entry.version, prereleases=True):
            problems.append(f"{text}: the lock pins {entry.version}")
    return problems


def main(argv: list[str]) -> int:
    match argv:
        case ["split", lock, out]:
            split(Path(lock), Path(out))
        case ["hashes", lock, name]:
            entry = parse(Path(lock).read_text()).get(canonical(name))
            if entry is None:
                sys.exit(f"{lock}: no {name} in the lock")
            print(" ".join(sorted(entry.hashes)))
        case ["stale"]:
            problems = stale(
                DEV_LOCK.read_text(),
                CONSTRAINTS.read_text(),
                PYPROJECT.read_text(),
                BUILD_IN.read_text(),
            )
            for problem in problems:
                print(problem)
            if problems:
                print("infra/locks/dev.txt is stale: run `make lock`", file=sys.stderr)
                return 1
        case _:
            sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
