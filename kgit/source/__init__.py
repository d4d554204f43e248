"""Git: resolve refs, read a commit's tree or the work tree; remote sources."""

from __future__ import annotations

from kgit.source.git import (
    SourceFile,
    is_dirty,
    read_commit_files,
    read_worktree_files,
    remote_url,
    resolve_commit,
)
from kgit.source.remote import (
    GitUrl,
    OpenedSource,
    SshOptions,
    git_environment,
    open_source,
    parse_git_url,
)

__all__ = [
    "GitUrl",
    "OpenedSource",
    "SourceFile",
    "SshOptions",
    "git_environment",
    "is_dirty",
    "open_source",
    "parse_git_url",
    "read_commit_files",
    "read_worktree_files",
    "remote_url",
    "resolve_commit",
]
