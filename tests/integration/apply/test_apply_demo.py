"""The README's demo command, end to end against the test session's control plane."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[3] / "scripts" / "demo"


def test_demo_runs_green(kubeconfig: str) -> None:
    env = {
        **os.environ,
        # The suite runs set up already (scripts/test calls scripts/setup).
        "KGIT_DEMO_SKIP_SETUP": "1",
        "KGIT_DEMO_PYTHON": sys.executable,
        "KGIT_TEST_KUBECONFIG": kubeconfig,
    }
    done = subprocess.run(
        [str(DEMO)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    shown = [line for line in done.stdout.splitlines() if line.startswith("$ kgit ")]
    assert [" ".join(line.split()[:3]) for line in shown] == [
        "$ kgit plan",
        "$ kgit apply",
        "$ kgit plan",
        "$ kgit apply",
        "$ kgit status",
        "$ kgit apply",
        "$ kgit status",
        "$ kgit apply",
        "$ kgit plan",
        "$ kgit apply",
        "$ kgit plan",
        "$ kgit history",
    ]
    for summary in (
        "Plan: 3 to add, 0 to change, 0 to delete.",
        'image: "nginx:v1" -> "nginx:v2"',
        "Plan: 0 to add, 1 to change, 0 to delete.",
        "Plan: 0 to add, 0 to change, 1 to delete.",
        "No changes.",
        "Health: 3 Current",
        "rollout failed: ProgressDeadlineExceeded; pod nginx-",
        "ImagePullBackOff (nginx:v3)",
        "Demo complete",
    ):
        assert summary in done.stdout
    assert "demo: cleanup failed" not in output
