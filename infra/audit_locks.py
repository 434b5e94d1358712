"""`make audit`: pip-audit over the checked-in locks; FAILS unless every package was audited.

pip-audit prints "No known vulnerabilities found" even when it could not look a package up (its
vulnerability service unreachable, a package it cannot find): those it only lists as skipped
("... could not be audited"). A skipped package is an unknown, not a pass, so this wrapper reads
pip-audit's JSON report and exits non-zero, loudly, when any package was skipped (2) or has a
known vulnerability (1). Only a report that audited every pinned package and found nothing is a
pass (0). Run it where the vulnerability service is reachable; it is not part of `make test`.

    .venv-tools/bin/python infra/audit_locks.py [LOCK ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCKS = (ROOT / "layers" / "shared" / "requirements.txt", ROOT / "infra" / "locks" / "dev.txt")


@dataclass
class AuditSummary:
    audited: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name → pip-audit's reason
    vulnerable: dict[str, list[str]] = field(default_factory=dict)  # name → advisory ids

    @property
    def exit_code(self) -> int:
        if self.vulnerable:
            return 1
        if self.skipped or not self.audited:
            return 2
        return 0


def summarize(report: dict[str, Any]) -> AuditSummary:
    """What a pip-audit JSON report (`-f json`) says, package by package."""
    summary = AuditSummary()
    for dependency in report.get("dependencies", []):
        version = dependency.get("version")
        name = f"{dependency.get('name')}=={version}" if version else str(dependency.get("name"))
        if dependency.get("skip_reason"):
            summary.skipped[name] = str(dependency["skip_reason"])
            continue
        summary.audited.append(name)
        ids = [str(v.get("id")) for v in dependency.get("vulns") or []]
        if ids:
            summary.vulnerable[name] = ids
    return summary


def audit(lock: Path) -> AuditSummary:
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "report.json"
        command = [
            sys.executable, "-m", "pip_audit",
            "--requirement", str(lock), "--require-hashes", "--disable-pip",
            "--format", "json", "--output", str(output), "--progress-spinner", "off",
        ]  # fmt: skip
        completed = subprocess.run(command, check=False)  # noqa: S603 (fixed argv, no shell)
        if not output.exists():
            sys.exit(f"AUDIT FAILED: pip-audit did not produce a report for {lock} "
                     f"(exit {completed.returncode})")  # fmt: skip
        return summarize(json.loads(output.read_text()))


def report(lock: Path, summary: AuditSummary) -> None:
    print(f"{lock.relative_to(ROOT) if lock.is_relative_to(ROOT) else lock}: "
          f"{len(summary.audited)} audited, {len(summary.skipped)} NOT audited, "
          f"{len(summary.vulnerable)} vulnerable")  # fmt: skip
    for name, ids in sorted(summary.vulnerable.items()):
        print(f"  VULNERABLE {name}: {', '.join(ids)}")
    for name, reason in sorted(summary.skipped.items()):
        print(f"  NOT AUDITED {name}: {reason}")


def main(argv: list[str]) -> int:
    locks = [Path(a).resolve() for a in argv] or list(LOCKS)
    worst = 0
    for lock in locks:
        summary = audit(lock)
        report(lock, summary)
        worst = max(worst, summary.exit_code)
    if worst == 2:
        print(
            "AUDIT INCOMPLETE: some packages could not be audited (is the vulnerability service "
            "reachable?). This is NOT a clean result.",
            file=sys.stderr,
        )
    elif worst == 1:
        print("AUDIT FAILED: known vulnerabilities in the locked packages.", file=sys.stderr)
    else:
        print("audit clean: every locked package audited, no known vulnerabilities")
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
