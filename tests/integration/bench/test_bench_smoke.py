"""The benchmark at its smallest (N = 100, one repetition) on the session's control plane,
with every peer (kubectl, kapp, Flux's engine).

No timing is asserted: this keeps ``bench/run`` and its peers from rotting. Every step must
succeed (the bench checks exit codes, object counts, the changes each tool reports, the
plan's changes and the state, and exits 1 otherwise) and the results must be written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
TOOLS = ("kgit", "kubectl", "kapp", "flux")
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
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]

    results = json.loads((out / "results.json").read_text())
    (size,) = results["sizes"]
    assert size["n"] == 100
    # kubectl apply names every object it applies, changed or not.
    expected = {
        "first_plan": 100,
        "first_apply": 100,
        "noop_plan": 0,
        "change_plan": 2,
        "noop_apply": 0,
    }
    for step in STEPS:
        for tool in TOOLS:
            (sample,) = size["samples"][step][tool]
            assert sample["seconds"] > 0
            assert sample["rss_mb"] > 0
            applies_all = tool == "kubectl" and step == "noop_apply"
            assert sample["changes"] == (100 if applies_all else expected[step]), (step, tool)
    assert len(size["samples"]["floor"]["floor"]) == 1
    assert size["state_intact"] is True
    assert size["state_bytes"] > 0
    assert size["changed"] == 1
    assert size["drifted"] == 1
    assert all(s["code"] == 0 for s in results["startup"]["version"])

    report = (out / "results.md").read_text()
    for peer in ("kubectl diff", "kapp deploy --diff-run", "Flux ssa Diff"):
        assert f"| no-op plan: kgit / {peer} |" in report
    assert "| flux peak RSS, plans / applies |" in report
    assert "`kgit plan` of a 10-object stack under 0.3 s" not in report  # N = 10 not run
    assert "kgit --version under 0.3 s" in report
    assert (out / "time-vs-n.png").read_bytes().startswith(b"\x89PNG")
