"""The watch loop's pure parts: exit codes."""

from __future__ import annotations

import pytest

from kgit.watch.loop import RoundResult, exit_code_of

pytestmark = pytest.mark.unit


def test_once_exit_codes_suit_cron() -> None:
    assert {r: exit_code_of(r) for r in RoundResult} == {
        RoundResult.UNCHANGED: 0,
        RoundResult.APPLIED: 0,
        RoundResult.PENDING: 2,
        RoundResult.FAILED: 1,
        RoundResult.INTERRUPTED: 1,
    }
