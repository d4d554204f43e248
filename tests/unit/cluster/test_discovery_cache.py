"""The discovery cache's file: what it holds, that it round-trips, and what it refuses."""

from __future__ import annotations

import json
import os
import stat
import time
from typing import TYPE_CHECKING

import pytest

from kgit.cluster.discovery import DiscoveryDocument, Resource
from kgit.cluster.discovery_cache import PRUNE_AFTER, cache_dir, read_cached, write_cached

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

DEPLOYMENT = Resource("apps", "v1", "Deployment", "deployments", True, frozenset({"list", "get"}))
NAMESPACE = Resource("", "v1", "Namespace", "namespaces", False, frozenset({"list"}))
DOC = DiscoveryDocument(
    {("apps", "Deployment"): DEPLOYMENT, ("", "Namespace"): NAMESPACE},
    {"metrics.k8s.io": "discovery of metrics.k8s.io/v1beta1 is stale"},
    {("apps", "Deployment"): ("v1",), ("", "Namespace"): ("v1",)},
)


def test_a_document_and_its_etags_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "discovery" / "abc.json"
    write_cached(path, DOC, ('"e1"', '"e2"'))
    doc, etags = read_cached(path) or (None, None)
    assert doc == DOC
    assert etags == ('"e1"', '"e2"')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_document_without_etags_round_trips_with_none(tmp_path: Path) -> None:
    path = tmp_path / "legacy.json"
    write_cached(path, DOC, None)
    assert read_cached(path) == (DOC, None)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json", b"[]", b'{"format": 999, "resources": []}', b'{"format": 2}'],
)
def test_an_unreadable_or_foreign_file_is_a_miss(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert read_cached(path) is None
    assert read_cached(tmp_path / "absent.json") is None


def test_files_unused_for_a_week_are_pruned_when_another_is_written(tmp_path: Path) -> None:
    old, recent = tmp_path / "old.json", tmp_path / "recent.json"
    write_cached(old, DOC, None)
    write_cached(recent, DOC, None)
    week_ago = time.time() - PRUNE_AFTER - 60
    os.utime(old, (week_ago, week_ago))
    write_cached(tmp_path / "new.json", DOC, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "recent.json"]


def test_the_file_holds_kinds_and_etags_only(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_cached(path, DOC, ('"e1"', '"e2"'))
    assert set(json.loads(path.read_text())) == {
        "format",
        "etags",
        "failed_groups",
        "resources",
        "versions",
    }


def test_the_cache_lives_under_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "kgit" / "discovery"
