"""Fixtures of the image automation tests: real registries for the session, Git repos per test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from registrylib import USER, Registry, TokenServer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A docker-registry that asks for :data:`USER` with htpasswd basic auth."""
    running = Registry(tmp_path_factory.mktemp("basic-registry"), user=USER)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A docker-registry that wants bearer tokens from a token service knowing :data:`USER`."""
    workdir = tmp_path_factory.mktemp("token-registry")
    tokens = TokenServer(workdir, USER)
    running = Registry(workdir / "registry", tokens=tokens)
    yield running
    running.stop()
    tokens.stop()


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment for kgit runs: a tag cache and Docker config of this test's own."""
    (tmp_path / "docker").mkdir()
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "DOCKER_CONFIG": str(tmp_path / "docker")}
