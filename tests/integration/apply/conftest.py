"""Fixtures of the apply tests: a Cluster for assertions and a stack of each test's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from applylib import Stack
from kgitlib import GitRepo

from kgit.cluster import connect

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kgit.cluster import Cluster


@pytest.fixture(scope="session")
def cluster(kubeconfig: str) -> Iterator[Cluster]:
    """A kgit Cluster on the session's control plane, to look at what kgit did."""
    with connect(kubeconfig) as opened:
        yield opened


@pytest.fixture
def stack(kubeconfig: str, unique: str, tmp_path: Path) -> Stack:
    """A stack named ``unique`` with an empty Git repository of its own."""
    return Stack(unique, GitRepo(tmp_path / "repo"), kubeconfig)
