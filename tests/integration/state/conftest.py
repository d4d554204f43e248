"""Fixtures for kgit.state tests: one Cluster per session, a fresh namespace per test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kgit.cluster import NAMESPACE, Cluster, connect

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def cluster(kubeconfig: str) -> Iterator[Cluster]:
    with connect(kubeconfig) as opened:
        yield opened


@pytest.fixture
def namespace(cluster: Cluster, unique: str) -> Iterator[str]:
    """A namespace of this test's own, deleted afterwards (without waiting)."""
    cluster.server_side_apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique}}
    )
    yield unique
    cluster.delete(NAMESPACE, None, unique, uid=None)
