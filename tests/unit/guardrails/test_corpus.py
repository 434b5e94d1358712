"""The labelled corpus (tests/data/guardrails) through every check, as bench/guardrails.py runs
it: the detection and false-positive counts are fixed numbers (the rules are deterministic), so
a rule change that loses a detection or adds a false positive fails here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[3] / "bench" / "guardrails.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_guardrails", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_guardrails"] = module
    spec.loader.exec_module(module)
    return module


def test_corpus_detection_and_false_positive_counts_are_fixed() -> None:
    bench = load_bench()
    cases = bench.load()
    counts = bench.evaluate(cases)
    assert counts.cases == 80
    assert (counts.must_fire, counts.detected, counts.missed) == (48, 48, [])
    assert (counts.benign, counts.false_positives, counts.noisy) == (32, 0, [])
    # Stream cases are part of it: spans split across chunks.
    split = [c for c in cases if "chunks" in c and c["expect"]]
    assert len(split) == 6


def test_every_rule_has_a_case_that_fires_it() -> None:
    from inference_core.guardrails.rules import INJECTION_RULES, PII_RULES, SECRET_RULES

    bench = load_bench()
    expected = {name for case in bench.load() for name in case["expect"]}
    for rule in INJECTION_RULES + PII_RULES + SECRET_RULES:
        assert rule.qualified in expected, rule.qualified
