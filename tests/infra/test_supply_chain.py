"""Supply chain: the locks carry a hash for every package, and `make audit` never calls an
incomplete audit clean (pip-audit itself prints "No known vulnerabilities found" while listing
every package as "could not be audited" when its service is unreachable). No network here."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from infra.config import PROJECT_ROOT

from infra import audit_locks

LOCKS = [
    PROJECT_ROOT / "infra" / "locks" / "dev.txt",
    PROJECT_ROOT / "infra" / "locks" / "tools.txt",
]

SKIPPED_REPORT = {
    "dependencies": [
        {
            "name": "fastapi",
            "skip_reason": "Dependency not found on PyPI and could not be audited: fastapi (0.165.0)",
        },
        {"name": "pydantic", "version": "2.14.3", "vulns": []},
    ],
    "fixes": [],
}
VULNERABLE_REPORT = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.6",
            "vulns": [{"id": "PYSEC-0000-1", "fix_versions": []}],
        }
    ]
}
CLEAN_REPORT = {"dependencies": [{"name": "jinja2", "version": "3.1.6", "vulns": []}]}


def _requirement_blocks(text: str) -> list[str]:
    """Each requirement with its continuation lines, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "--"))
    ]


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_every_locked_package_is_pinned_with_a_hash(lock: Path) -> None:
    blocks = _requirement_blocks(lock.read_text())
    assert len(blocks) > 10
    for block in blocks:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+ ", block), block
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), block


def test_the_dev_lock_agrees_with_the_constraints() -> None:
    def pins(text: str) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, flags=re.M)
        return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in found}

    locked = pins((PROJECT_ROOT / "infra" / "locks" / "dev.txt").read_text())
    constrained = pins((PROJECT_ROOT / "constraints.txt").read_text())
    differ = {n: (constrained[n], v) for n, v in locked.items() if constrained.get(n, v) != v}
    assert differ == {}, "run `make lock` after changing constraints.txt"


def test_skipped_packages_make_the_audit_incomplete_not_clean() -> None:
    summary = audit_locks.summarize(SKIPPED_REPORT)
    assert summary.skipped and summary.exit_code == 2
    assert audit_locks.summarize({"dependencies": []}).exit_code == 2  # nothing audited
    assert audit_locks.summarize(VULNERABLE_REPORT).exit_code == 1
    assert audit_locks.summarize(VULNERABLE_REPORT).vulnerable == {
        "jinja2==3.1.6": ["PYSEC-0000-1"]
    }
    assert audit_locks.summarize(CLEAN_REPORT).exit_code == 0


@pytest.mark.parametrize(
    ("report", "code"), [(SKIPPED_REPORT, 2), (VULNERABLE_REPORT, 1), (CLEAN_REPORT, 0)]
)
def test_make_audit_fails_loudly_unless_every_package_was_audited(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    report: dict[str, Any],
    code: int,
) -> None:
    commands: list[list[str]] = []

    def fake_pip_audit(command: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        Path(command[command.index("--output") + 1]).write_text(json.dumps(report))
        return subprocess.CompletedProcess(command, 0)  # pip-audit exits 0 on skips

    monkeypatch.setattr(audit_locks.subprocess, "run", fake_pip_audit)
    assert audit_locks.main([]) == code
    assert len(commands) == len(audit_locks.LOCKS)
    assert all("--require-hashes" in c for c in commands)
    captured = capsys.readouterr()
    if code == 2:
        assert "NOT a clean result" in captured.err
        assert "NOT AUDITED fastapi" in captured.out
    if code == 0:
        assert "audit clean" in captured.out


def test_audit_and_sbom_are_targets_outside_make_test() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    for target in ("layer:", "lock:", "sbom:", "audit:"):
        assert re.search(rf"^{target}", makefile, flags=re.M), target
    test_rule = re.search(r"^test:(.*)$", makefile, flags=re.M)
    assert test_rule and "audit" not in test_rule.group(1)
