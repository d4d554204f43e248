"""Fixtures of the GitOps tests: a Cluster for assertions, a remote, a real sshd."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from gitopslib import Remote, SshServer

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
