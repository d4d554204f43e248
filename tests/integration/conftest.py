"""Fixtures every integration test may use: a Cluster on the session's control plane and
a namespace of a test's own."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from registrylib import Registry

from kgit.cluster import NAMESPACE, connect

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from kgit.cluster import Cluster


@pytest.fixture(scope="session")
def cluster(kubeconfig: str) -> Iterator[Cluster]:
    """A kgit Cluster on the session's control plane, to look at what kgit did."""
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


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An open docker-registry on loopback (plain http), for images and OCI charts."""
    running = Registry(tmp_path_factory.mktemp("registry"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sops_on_path(controlplane: ModuleType) -> str:
    """The pinned sops (scripts/controlplane build) first on PATH, for kgit and the tests."""
    directory = controlplane.sops_bin()
    if not (directory / "sops").exists():
        pytest.fail(f"{directory}/sops is missing (scripts/controlplane build)", pytrace=False)
    os.environ["PATH"] = f"{directory}{os.pathsep}{os.environ['PATH']}"
    return str(directory / "sops")
