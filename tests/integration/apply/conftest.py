"""Fixtures of the apply tests: a stack of each test's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from applylib import Stack
from kgitlib import GitRepo

from kgit.cluster import NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kgit.cluster import Cluster


@pytest.fixture
def stack(kubeconfig: str, cluster: Cluster, unique: str, tmp_path: Path) -> Iterator[Stack]:
    """A stack named ``unique`` with an empty Git repository of its own.

    Afterwards its Namespaces (and so their contents) are deleted, without waiting, so a
    shared control plane does not fill up with the tests' objects.
    """
    yield Stack(unique, GitRepo(tmp_path / "repo"), kubeconfig)
    for ns in cluster.list_kind(NAMESPACE, label_selector=f"kgit.dev/stack={unique}"):
        if not ns["metadata"].get("deletionTimestamp"):
            cluster.delete(NAMESPACE, None, ns["metadata"]["name"], uid=None)
