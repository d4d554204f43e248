"""The tree index and its walk: which files lie under the requested paths of a tree.

Pure: the index is built from ``git ls-tree`` output or a work-tree listing, and symlinks
are resolved *lexically inside that index*, never through the file system, so a link can
neither reach outside the repository nor read something Git does not hold; a link that
tries is refused rather than skipped, because silently dropping manifests would make the
plan prune what they define.
"""

from __future__ import annotations

import bisect
import os
import posixpath
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kgit.errors import MissingPathError, SourceError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

# The kernel's limit for nested symlinks (ELOOP); any deeper chain is a loop in practice.
_MAX_LINK_HOPS = 40

_MODE_LINK = "120000"
_MODE_SUBMODULE = "160000"
_MODE_TREE = "040000"


@dataclass(slots=True)
class Entry:
    """A leaf of the tree: ``ref`` is a blob sha (commit) or the real path (work tree)."""

    kind: Literal["file", "link", "submodule"]
    ref: str
    target: str = ""
    size: int = 0


@dataclass(slots=True)
class TreeIndex:
    entries: dict[str, Entry] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {""})
    # Directory -> Git tree id (a commit's index listed with -t; empty for the work tree).
    trees: dict[str, str] = field(default_factory=dict)
    sorted_paths: list[str] = field(default_factory=list)

    def add(self, path: str, entry: Entry) -> None:
        self.entries[path] = entry
        parent = posixpath.dirname(path)
        while parent not in self.dirs:
            self.dirs.add(parent)
            parent = posixpath.dirname(parent)

    def seal(self) -> None:
        self.sorted_paths = sorted(self.entries)

    def under(self, directory: str) -> Iterator[str]:
        """Every leaf below ``directory`` ("" is the root), in path order."""
        if not directory:
            yield from self.sorted_paths
            return
        prefix = directory + "/"
        start = bisect.bisect_left(self.sorted_paths, prefix)
        for path in self.sorted_paths[start:]:
            if not path.startswith(prefix):
                break
            yield path


def index_from_ls_tree(listing: bytes) -> TreeIndex:
    index = TreeIndex()
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        # "<mode> <type> <sha> <size>", the size padded with spaces ("-" for submodules).
        mode, _type, sha, size = (part.decode() for part in meta.split())
        path = os.fsdecode(raw_path)
        if mode == _MODE_TREE:
            index.trees[path] = sha
        elif mode == _MODE_SUBMODULE:
            index.add(path, Entry("submodule", sha))
        elif mode == _MODE_LINK:
            index.add(path, Entry("link", sha))
        else:
            index.add(path, Entry("file", sha, size=int(size)))
    index.seal()
    return index


def index_from_worktree(root: Path, listing: bytes) -> TreeIndex:
    index = TreeIndex()
    for raw in set(listing.split(b"\0")):
        if not raw:
            continue
        path = os.fsdecode(raw).rstrip("/")
        try:
            st = (root / path).lstat()
        except OSError:
            continue  # tracked but deleted in the work tree
        if stat.S_ISLNK(st.st_mode):
            entry = Entry("link", path, os.readlink(root / path))
        elif stat.S_ISDIR(st.st_mode):
            entry = Entry("submodule", path)  # a submodule or a nested repository
        elif stat.S_ISREG(st.st_mode):
            entry = Entry("file", path, size=st.st_size)
        else:
            continue
        index.add(path, entry)
    index.seal()
    return index


def check_sizes(index: TreeIndex, found: dict[str, str], max_bytes: int | None) -> None:
    """Refuse, before reading anything, a found file larger than ``max_bytes``."""
    if max_bytes is None:
        return
    sizes = {e.ref: e.size for e in index.entries.values() if e.kind == "file"}
    for path in sorted(found):
        size = sizes.get(found[path], 0)
        if size > max_bytes:
            raise SourceError(f"{path}: file is larger than {_in_units(max_bytes)} ({size} bytes)")


def _in_units(size: int) -> str:
    mib = 1024 * 1024
    return f"{size // mib} MiB" if size % mib == 0 else f"{size} bytes"


def is_manifest(path: str) -> bool:
    return path.endswith(MANIFEST_SUFFIXES)


def _inside(base_dir: str, relative: str) -> str | None:
    """``relative`` joined to ``base_dir`` and normalised, or None when it leaves the root."""
    if relative.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, relative))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _resolve(index: TreeIndex, path: str, hops: int = 0) -> str | None:
    """The real path ``path`` names after following symlinks, or None if it doesn't exist.

    The result is "" (the root), a directory, or a file or submodule leaf. Raises
    :class:`SourceError` when a link leaves the repository or links loop.
    """
    current = ""
    parts = path.split("/") if path else []
    for i, part in enumerate(parts):
        candidate = f"{current}/{part}" if current else part
        entry = index.entries.get(candidate)
        if entry is None:
            if candidate not in index.dirs:
                return None
            current = candidate
        elif entry.kind == "link":
            hops += 1
            if hops > _MAX_LINK_HOPS:
                raise SourceError(f"{candidate}: too many levels of symlinks")
            target = _inside(posixpath.dirname(candidate), entry.target)
            if target is None:
                raise SourceError(f"{candidate}: symlink leaves the repository")
            resolved = _resolve(index, target, hops)
            if resolved is None:
                return None
            current = resolved
        else:
            if i != len(parts) - 1:
                return None  # a file used as a directory
            current = candidate
    return current


def walk_paths(
    index: TreeIndex,
    paths: Sequence[str],
    *,
    where: str,
    keep: Callable[[str], bool] = is_manifest,
) -> dict[str, str]:
    """Map the logical path of each file ``keep`` accepts to its entry ref, for every
    requested path (default: manifests)."""
    found: dict[str, str] = {}
    for requested in paths or ["."]:
        logical = _inside("", requested.strip())
        if logical is None:
            raise SourceError(f"{requested}: path leaves the repository")
        real = _resolve(index, logical)
        if real is None:
            raise MissingPathError(f"{requested}: no such file or directory in {where}")
        entry = index.entries.get(real)
        if entry is None:
            _walk_dir(index, real, logical, (real,), found, keep)
        elif entry.kind == "submodule":
            raise SourceError(f"{requested}: is a submodule, and submodules are not read")
        elif not keep(logical):
            raise SourceError(f"{requested}: not a .yaml, .yml or .json file")
        else:
            found[logical] = entry.ref
    return found


def _walk_dir(
    index: TreeIndex,
    real_dir: str,
    logical_dir: str,
    stack: tuple[str, ...],
    found: dict[str, str],
    keep: Callable[[str], bool] = is_manifest,
) -> None:
    cut = len(real_dir) + 1 if real_dir else 0
    for path in index.under(real_dir):
        rel = path[cut:]
        logical = f"{logical_dir}/{rel}" if logical_dir else rel
        entry = index.entries[path]
        if entry.kind == "file":
            if keep(logical):
                found[logical] = entry.ref
        elif entry.kind == "link":
            # Resolve every link, not only those named like manifests: a link to a
            # directory of manifests has no suffix, and one leaving the repo is refused.
            target = _resolve(index, path)
            if target is None:
                if keep(logical):
                    raise SourceError(f"{logical}: symlink target does not exist")
                continue
            target_entry = index.entries.get(target)
            if target_entry is None:
                # Following a link to a directory that contains it (or contains a
                # directory being walked) would never end.
                around = (*stack, posixpath.dirname(path))
                if not target or any(d == target or d.startswith(target + "/") for d in around):
                    raise SourceError(f"{logical}: symlink loop")
                _walk_dir(index, target, logical, (*stack, target), found, keep)
            elif target_entry.kind == "file" and keep(logical):
                found[logical] = target_entry.ref
