"""Discovery kept on disk between runs, per API server and credentials, like kubectl's
``~/.kube/cache/discovery``.

One JSON file per server and identity (:attr:`Transport.identity`, a digest: the file
holds the served kinds and the documents' ETags, never a credential) under
``$XDG_CACHE_HOME/kgit/discovery`` (``~/.cache/kgit/discovery``). A run asks the server
whether its aggregated discovery changed (two conditional requests, answered 304 without
a body when not) instead of reading and parsing it whole. Older servers give no ETags:
their per-group documents are trusted for ``LEGACY_TTL`` seconds. A document taken from
the disk without asking is unverified: a kind missing from it makes
:class:`~kgit.cluster.discovery.Discovery` read discovery again before it answers that
the server does not serve the kind. The cache is best effort: a file that cannot be read
or written is a miss.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgit.cluster.discovery import (
    Discovery,
    DiscoveryDocument,
    ETags,
    Resource,
    fetch_tagged_discovery,
)

if TYPE_CHECKING:
    from kgit.cluster.http import Http

FORMAT = 2
# Seconds a document without ETags (a server before Kubernetes 1.26) is used unasked.
LEGACY_TTL = 60.0
# Files of servers not used for this long are removed when another is written.
PRUNE_AFTER = 7 * 24 * 3600.0


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/kgit/discovery``, else ``~/.cache/kgit/discovery``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "kgit" / "discovery"


def open_discovery(http: Http, identity: str | None) -> Discovery:
    """The server's :class:`Discovery`, from the disk cache when it is still current.

    Without an ``identity`` nothing is cached. Raises :class:`ClusterError` when the
    server cannot be asked and nothing usable is cached.
    """
    if identity is None:
        return Discovery(lambda: fetch_tagged_discovery(http)[0])
    path = cache_dir() / f"{identity}.json"
    cached = read_cached(path)

    def load() -> DiscoveryDocument:
        nonlocal cached
        # Without ETags (older servers) nothing can be asked conditionally.
        known = cached if cached and cached[1] else None
        fetched = fetch_tagged_discovery(http, known=known)
        if fetched is known:
            _touch(path)  # still current: kept from pruning
        else:
            cached = fetched
            write_cached(path, *fetched)
        return fetched[0]

    if cached is not None and cached[1] is None and _age(path) < LEGACY_TTL:
        return Discovery(load, unverified=cached[0])
    return Discovery(load)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.touch()


def read_cached(path: Path) -> tuple[DiscoveryDocument, ETags] | None:
    """A cached document and its ETags, or None when absent, unreadable or of another format."""
    try:
        doc = json.loads(path.read_bytes())
        if doc.get("format") != FORMAT:
            return None
        resources = {
            (r[0], r[2]): Resource(r[0], r[1], r[2], r[3], bool(r[4]), frozenset(r[5]))
            for r in doc["resources"]
        }
        versions = {(v[0], v[1]): tuple(v[2]) for v in doc["versions"]}
        etags = doc.get("etags")
        tags: ETags = (str(etags[0]), str(etags[1])) if etags else None
        failed = dict(doc.get("failed_groups") or {})
        return DiscoveryDocument(resources, failed, versions), tags
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def write_cached(path: Path, doc: DiscoveryDocument, etags: ETags) -> None:
    """Write one server's document atomically, readable by its owner only; prune old files."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "etags": list(etags) if etags else None,
        "failed_groups": dict(doc.failed_groups),
        "resources": [
            [r.group, r.version, r.kind, r.plural, r.namespaced, sorted(r.verbs)]
            for r in doc.resources.values()
        ],
        "versions": [[group, kind, list(v)] for (group, kind), v in doc.versions.items()],
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".discovery-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
        _prune(path.parent)
    except OSError:
        return


def _prune(directory: Path) -> None:
    now = time.time()
    for entry in directory.glob("*.json"):
        try:
            if now - entry.stat().st_mtime > PRUNE_AFTER:
                entry.unlink()
        except OSError:
            continue
