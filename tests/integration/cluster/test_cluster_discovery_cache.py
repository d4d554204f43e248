"""Discovery on disk between runs: revalidated by ETag, re-read when the server changed or a
kind is missing, and never holding a credential."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
import yaml
from applylib import crd

from kgit.cluster import CRD, connect, wait_established
from kgit.cluster.discovery_cache import cache_dir, read_cached, write_cached

pytestmark = pytest.mark.integration


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty discovery cache of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return cache_dir()


def _only_file(directory: Path) -> Path:
    (path,) = directory.glob("*.json")
    return path


def test_discovery_is_cached_without_credentials_and_revalidated(
    kubeconfig: str, cache: Path
) -> None:
    with connect(kubeconfig) as first:
        kinds = {(r.group, r.kind): r for r in first.resources()}
    path = _only_file(cache)
    cached = read_cached(path)
    assert cached is not None and cached[1] is not None  # the server's ETags
    assert dict(cached[0].resources) == kinds
    text = path.read_bytes()
    config = yaml.safe_load(Path(kubeconfig).read_text())
    for user in config["users"]:
        for field in ("client-key-data", "client-certificate-data", "token"):
            secret = user["user"].get(field)
            if secret:
                assert secret.encode() not in text
                if field.endswith("-data"):
                    assert base64.b64decode(secret) not in text
    inode = path.stat().st_ino
    # Unchanged on the server: answered 304, the file is kept (not rewritten).
    with connect(kubeconfig) as second:
        assert second.resources().lookup("apps", "Deployment") is not None
    assert path.stat().st_ino == inode


def test_a_changed_server_is_read_again(kubeconfig: str, cache: Path, unique: str) -> None:
    group = f"{unique}.kgit.test"
    with connect(kubeconfig) as cluster:
        assert cluster.resources().lookup(group, "Widget") is None
        path = _only_file(cache)
        before = path.read_bytes()
        applied = cluster.server_side_apply(crd(group))
        try:
            wait_established(cluster, f"widgets.{group}", timeout=30)
            # As another run left it, from before the CRD: its ETags no longer match.
            path.write_bytes(before)
            inode = path.stat().st_ino
            with connect(kubeconfig) as later:
                found = later.resources().lookup(group, "Widget")
            assert found is not None and found.plural == "widgets"
            assert path.stat().st_ino != inode  # read and written anew
            cached = read_cached(path)
            assert cached is not None and (group, "Widget") in cached[0].resources
        finally:
            cluster.delete(CRD, None, f"widgets.{group}", uid=applied["metadata"]["uid"])


def test_a_kind_missing_from_a_cached_document_is_looked_up_afresh(
    kubeconfig: str, cache: Path
) -> None:
    with connect(kubeconfig) as cluster:
        cluster.resources()
    path = _only_file(cache)
    cached = read_cached(path)
    assert cached is not None
    # A document without ETags (as an older server's) is used unasked while young; one
    # that lacks ConfigMap must not make kgit conclude the kind is unserved.
    kinds = {k: r for k, r in cached[0].resources.items() if k != ("", "ConfigMap")}
    write_cached(path, dataclasses.replace(cached[0], resources=kinds), None)
    with connect(kubeconfig) as cluster:
        discovery = cluster.resources()
        assert discovery.lookup("apps", "Deployment") is not None
        configmap = discovery.lookup("", "ConfigMap")
    assert configmap is not None and configmap.plural == "configmaps"
