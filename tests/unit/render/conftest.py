"""Fixtures for the render tests: the golden cases under tests/golden/<case>/.

Each case holds its input ``plan.json`` and the expected ``text.txt``,
``text-color.txt`` and ``markdown.md``. They change only on purpose: run
``KGIT_UPDATE_GOLDEN=1 pytest tests/unit/render`` and review the diff. (An environment
variable, not a ``--update-golden`` option: pytest reads options only from the rootdir
conftest, and tests/conftest.py belongs to the test harness.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kgit.plan.store import read_plan

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.plan.model import Plan

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "plan.json").is_file())


@pytest.fixture
def update_golden() -> bool:
    """True when the run was asked to rewrite the golden files (KGIT_UPDATE_GOLDEN=1)."""
    return os.environ.get("KGIT_UPDATE_GOLDEN", "") == "1"


@pytest.fixture
def golden_root() -> Path:
    """tests/golden."""
    return GOLDEN


@pytest.fixture
def golden_plan() -> Callable[[str], Plan]:
    """Load the input plan of a golden case by name."""

    def load(case: str) -> Plan:
        return read_plan(GOLDEN / case / "plan.json")

    return load


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes ``case`` once per golden case."""
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", CASES)
