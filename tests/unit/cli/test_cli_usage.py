"""Usage errors exit 1 (never 2, which --detailed-exitcode keeps for "changes")."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def kgit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kgit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"KUBECONFIG": "/nonexistent", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--detailed-exitcode", "--no-such-flag"),
        ("plan", "--detailed-exitcode", "--max-delete", "many"),
        ("plan", "--detailed-exitcode", "--max-delete", "-1"),
        ("plan", "--detailed-exitcode", "--format", "yaml"),
        ("show", "plan.json", "--format", "yaml"),
        ("no-such-verb",),
        ("state", "show"),
        ("state", "list", "--format", "yaml"),
    ],
)
def test_usage_errors_exit_1(args: tuple[str, ...]) -> None:
    done = kgit(*args)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "Usage:" in done.stderr, done.stderr


def test_help_exits_0() -> None:
    assert kgit("plan", "--help").returncode == 0
