"""The watch loop's pure parts: durations and exit codes."""

from __future__ import annotations

import pytest

from kgit.errors import ConfigError
from kgit.watch.loop import RoundResult, exit_code_of, parse_duration

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300.0), ("90s", 90.0), ("1h30m", 5400.0), ("500ms", 0.5), ("2", 2.0), ("1.5s", 1.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", "0s", "-1", "5d"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_once_exit_codes_suit_cron() -> None:
    assert {r: exit_code_of(r) for r in RoundResult} == {
        RoundResult.UNCHANGED: 0,
        RoundResult.APPLIED: 0,
        RoundResult.PENDING: 2,
        RoundResult.FAILED: 1,
        RoundResult.INTERRUPTED: 1,
    }
