"""A source read at one commit: its manifests' files and its ``kgit.yaml``.

The files of the paths asked for (``kgit.yaml``'s ``paths`` when none are) are read from
the commit's tree, or from the work tree with ``dirty``; ``kgit.yaml`` is read from the
same commit, so a plan and its settings always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.config import CONFIG_FILE, Config, load_config
from kgit.errors import ConfigError, MissingPathError, SourceError
from kgit.manifests.load import MAX_FILE_BYTES
from kgit.redact import redact_url
from kgit.source.git import (
    SourceFile,
    is_dirty,
    read_commit_files,
    read_worktree_files,
    remote_url,
    repository_root,
    resolve_commit,
)

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where to read the desired objects: a local repository, a ref and paths inside it."""

    repo: Path
    ref: str = "HEAD"
    paths: tuple[str, ...] = ()
    dirty: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """A source read at one commit: its manifests' files and its kgit.yaml, and the
    repository it was read from (``repo``)."""

    url: str
    commit: str
    ref: str
    paths: tuple[str, ...]
    files: tuple[SourceFile, ...]
    config: Config
    dirty: bool
    repo: Path


def default_stack_name(repo: Path) -> str:
    """The repository directory's name (of its root, from a subdirectory) as a valid
    stack name (a DNS label)."""
    root = repository_root(repo)
    name = re.sub(r"[^a-z0-9-]+", "-", root.resolve().name.lower()).strip("-")
    return name[:63].strip("-") or "default"


def read_head_config(repo: Path) -> Config | None:
    """kgit.yaml at the checkout's HEAD; None when ``repo`` is no Git repository.

    For the verbs that name a stack but read no manifests (history, state, unlock).
    Raises :class:`ConfigError` for an invalid kgit.yaml.
    """
    root = repository_root(repo)
    try:
        commit = resolve_commit(root, "HEAD")
    except SourceError:
        return None
    return load_config(_config_text(root, commit, dirty=False), CONFIG_FILE)


def read_source(spec: SourceSpec, *, commit: str | None = None) -> Source:
    """The source's files at ``commit`` (default: the ref's), or the work tree if dirty.

    ``kgit.yaml`` at the repository root is read from the same commit; its ``paths``
    apply when none are given. Raises :class:`SourceError` or :class:`ConfigError`.
    """
    repo = spec.repo
    sha = commit or resolve_commit(repo, spec.ref)
    config = load_config(_config_text(repo, sha, dirty=spec.dirty), CONFIG_FILE)
    paths = spec.paths or config.paths or (".",)
    if spec.dirty:
        files = read_worktree_files(repo, list(paths), max_bytes=MAX_FILE_BYTES)
    else:
        files = read_commit_files(repo, sha, list(paths), max_bytes=MAX_FILE_BYTES)
    # kgit.yaml is kgit's own configuration, never a manifest.
    files = [f for f in files if f.path != CONFIG_FILE]
    return Source(
        url=redact_url(remote_url(repo)),
        commit=sha,
        ref=spec.ref,
        paths=tuple(paths),
        files=tuple(files),
        config=config,
        dirty=spec.dirty and is_dirty(repo),
        repo=repo,
    )


def _config_text(repo: Path, commit: str, *, dirty: bool) -> str | None:
    """kgit.yaml at the repository root, from the commit (or the work tree), if any."""
    try:
        if dirty:
            files = read_worktree_files(repo, [CONFIG_FILE], max_bytes=MAX_FILE_BYTES)
        else:
            files = read_commit_files(repo, commit, [CONFIG_FILE], max_bytes=MAX_FILE_BYTES)
    except MissingPathError:
        return None
    try:
        return files[0].data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{CONFIG_FILE}: not UTF-8 text") from err
