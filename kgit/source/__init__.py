"""Git: resolve refs, read a commit's tree or the work tree."""

from __future__ import annotations

from kgit.source.git import (
    SourceFile,
    is_dirty,
    read_commit_files,
    read_worktree_files,
    remote_url,
    resolve_commit,
)

__all__ = [
    "SourceFile",
    "is_dirty",
    "read_commit_files",
    "read_worktree_files",
    "remote_url",
    "resolve_commit",
]
