"""Fixtures of the GitOps tests: a remote, a real sshd, and a clean-up after each test."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from gitopslib import Remote, SshServer

from kgit.cluster import CONFIGMAP, NAMESPACE, SECRET
from kgit.state.chunks import LABEL_STACK
from kgit.state.store import STATE_NAMESPACE
from kgit.watch.status import status_name

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kgit.cluster import Cluster


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    """A bare repository with branch main, and a work tree pushing to it."""
    return Remote(tmp_path / "git")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """kgit's environment: a clone cache and a HOME of this test's own."""
    home = tmp_path / "home"
    home.mkdir()
    # KUBECONFIG comes from each call: an inherited one would override it.
    inherited = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    return {
        **inherited,
        "HOME": str(home),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    """A real sshd on a free loopback port with a throwaway host key."""
    server = SshServer(tmp_path / "sshd")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def leave_nothing(cluster: Cluster, unique: str) -> Iterator[None]:
    """Afterwards, delete what the test made: its namespaces (``unique``, ``unique-*``), its
    stack's state and status, and install's cluster-wide RBAC; so a shared control plane
    does not fill up."""
    yield
    for ns in cluster.list_kind(NAMESPACE, metadata_only=True):
        name = str(ns["metadata"]["name"])
        if name == unique or name.startswith(f"{unique}-"):
            cluster.delete(NAMESPACE, None, name, uid=None)
    for secret in cluster.list_kind(
        SECRET, STATE_NAMESPACE, label_selector=f"{LABEL_STACK}={unique}", metadata_only=True
    ):
        cluster.delete(SECRET, STATE_NAMESPACE, str(secret["metadata"]["name"]), uid=None)
    cluster.delete(CONFIGMAP, STATE_NAMESPACE, status_name(unique), uid=None)
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        resource = cluster.resources().lookup("rbac.authorization.k8s.io", kind)
        assert resource is not None
        cluster.delete(resource, None, f"kgit-{unique}-kgit", uid=None)
