"""The render cache: what a rendering produced, kept under kgit's cache directory.

An entry is keyed by a digest of everything the rendering depends on (the Git ids of the
directories and files it reads, the tool's version, the release settings and the
cluster's capabilities), so a tree that did not change is not rendered again. A
rendering that reads a decrypted file, the work tree or anything outside the repository
that may change is never cached (the caller decides; see :mod:`kgit.build.stage`).
Entries are private files (the directory is 0700): a chart's rendered Secrets are in
them as the repository holds them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# Bumped when what an entry holds changes meaning: old entries are then never read.
_FORMAT = 1


def render_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/kgit/render``, else ``~/.cache/kgit/render``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kgit" / "render"


def cache_key(parts: Any) -> str:
    """The digest naming an entry: sha256 of ``parts`` as canonical JSON."""
    text = json.dumps([_FORMAT, parts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load_entry(directory: Path, key: str) -> Any | None:
    """The entry stored under ``key``, or None (missing or unreadable: render again)."""
    try:
        return json.loads((directory / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_entry(directory: Path, key: str, entry: Any) -> None:
    """Store ``entry`` under ``key``; a cache that can't be written is only slower."""
    tmp = None
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{key}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(entry, out, sort_keys=True, separators=(",", ":"))
        os.replace(tmp, directory / f"{key}.json")
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
