"""Fixtures of the source tests: the pinned kustomize and helm on PATH, caches per test."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType


@pytest.fixture
def tools_env(controlplane: ModuleType, tmp_path: Path) -> dict[str, str]:
    """Environment for kgit runs: the pinned kustomize and helm first on PATH, and kgit's
    and helm's caches and configuration in this test's own directory."""
    for tool, directory in (
        ("kustomize", controlplane.kustomize_bin()),
        ("helm", controlplane.helm_bin()),
    ):
        if not (directory / tool).exists():
            pytest.fail(f"{directory / tool} is missing (scripts/setup builds it)", pytrace=False)
    return {
        "PATH": f"{controlplane.render_tools_path()}{os.pathsep}{os.environ['PATH']}",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
