"""The benchmark at its smallest (N = 100, one repetition) on the session's control plane.

No timing is asserted: this keeps ``bench/run`` from rotting. Every step must succeed
(the bench checks exit codes, object counts, the plan's changes and the state, and exits
1 otherwise) and the results must be written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
STEPS = ("first_plan", "first_apply", "noop_plan", "change_plan", "noop_apply")


def test_bench_smoke(kubeconfig: str, kubectl: Path, unique: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--kubeconfig",
            kubeconfig,
            "--kubectl",
            str(kubectl),
            "--sizes",
            "100",
            "--repeat",
            "1",
            "--prefix",
            unique,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    results = json.loads((out / "results.json").read_text())
    (size,) = results["sizes"]
    assert size["n"] == 100
    for step in STEPS:
        for tool in ("kgit", "kubectl"):
            (sample,) = size["samples"][step][tool]
            assert sample["seconds"] > 0
            assert sample["rss_mb"] > 0
    assert len(size["samples"]["floor"]["floor"]) == 1
    assert size["state_intact"] is True
    assert size["state_bytes"] > 0
    assert size["changed"] == 1
    assert size["drifted"] == 1
    assert all(s["code"] == 0 for s in results["startup"]["version"])

    report = (out / "results.md").read_text()
    assert "| no-op plan: kgit / kubectl diff |" in report
    assert "kgit --version under 0.3 s" in report
    assert (out / "time-vs-n.png").read_bytes().startswith(b"\x89PNG")
