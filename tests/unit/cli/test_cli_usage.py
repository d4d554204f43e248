"""Usage errors exit 1 (never 2, which --detailed-exitcode keeps for "changes")."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kgit.cli.main import build_app

pytestmark = pytest.mark.unit

app = build_app()  # every verb


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--detailed-exitcode", "--no-such-flag"),
        ("plan", "--detailed-exitcode", "--max-delete", "many"),
        ("plan", "--detailed-exitcode", "--max-delete", "-1"),
        ("plan", "--detailed-exitcode", "--format", "yaml"),
        ("show", "plan.json", "--format", "yaml"),
        ("no-such-verb",),
        ("state", "rm"),
        ("state", "list", "--format", "yaml"),
    ],
)
def test_usage_errors_exit_1(args: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Usage:" in result.output, result.output


def test_help_exits_0() -> None:
    assert CliRunner().invoke(app, ["plan", "--help"]).exit_code == 0
