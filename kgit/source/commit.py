"""Write to Git: commit changed files on top of a known commit, then push the branch.

The commit is built with Git's plumbing in a temporary index (``read-tree``,
``hash-object``, ``update-index``, ``write-tree``, ``commit-tree``), so it works the same
in a bare clone and in a checkout, never stages anything else of the user's, and stores
the bytes exactly as given (no filters, no line-ending conversion). In a checkout whose
branch is the one committed to, the changed files and their index entries are brought
up to date afterwards; files with uncommitted changes are refused first.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import git

from kgit.errors import SourceError
from kgit.source.git import _open_repo, _stderr

if TYPE_CHECKING:
    from collections.abc import Mapping

# Who commits when Git has no identity configured (a container, a CI job).
DEFAULT_IDENTITY = {"name": "kgit", "email": "kgit@kgit.dev"}
_REGULAR_MODES = ("100644", "100755")


@dataclass(frozen=True, slots=True)
class CommitResult:
    """A commit made by kgit: its sha, its branch, and where it was pushed (None: nowhere)."""

    commit: str
    branch: str
    pushed_to: str | None


def commit_and_push(
    repo_dir: Path,
    base: str,
    changes: Mapping[str, bytes],
    message: str,
    *,
    branch: str | None = None,
    push: bool = True,
    env: Mapping[str, str] | None = None,
) -> CommitResult:
    """Commit ``changes`` (repo-relative path -> new bytes) on top of ``base``, and push.

    ``branch`` None means the checked-out branch, which must still be at ``base``. A named
    branch is committed to even when only the remote has it (a clone kept at a fetched
    commit); its local ref moves only if it was at ``base``. The push goes to the branch's
    upstream, else to ``origin``'s branch of the same name; a repository with neither
    keeps the commit locally. ``env`` adds to Git's environment for the push (e.g.
    ``GIT_SSH_COMMAND``).

    Raises :class:`SourceError` when HEAD is detached (and no branch is named), the branch
    moved, a file is not a regular file in ``base`` or has uncommitted changes, or the
    push is refused (the commit then stays local).
    """
    if not changes:
        raise ValueError("nothing to commit")
    paths = sorted(changes)
    with _open_repo(repo_dir) as repo:
        head_ref = _symbolic_head(repo)
        current = branch is None
        if branch is None:
            if head_ref is None:
                raise SourceError(
                    f"{repo_dir}: HEAD is detached: check out the branch to commit to"
                )
            branch = head_ref.removeprefix("refs/heads/")
        local_ref = f"refs/heads/{branch}"
        local = _rev(repo, local_ref)
        checked_out = not repo.bare and head_ref == local_ref
        # The checked-out branch must still be where the files were read; a named
        # branch of a bare cache that lags the fetched commit is only left alone.
        if (current or checked_out) and local != base:
            raise SourceError(
                f"{branch}: moved from {base[:12]} to {(local or '(none)')[:12]} while kgit "
                f"was editing: run again"
            )
        _check_regular_files(repo, base, paths)
        if checked_out:
            _check_clean(repo, paths)
        commit = _make_commit(repo, base, changes, message)
        if local == base:
            _git(
                repo,
                "update-ref",
                "-m",
                f"kgit: {message.splitlines()[0]}",
                local_ref,
                commit,
                base,
            )
        if checked_out:
            _refresh_worktree(repo, changes)
        pushed_to = _push(repo, branch, commit, env or {}) if push else None
    return CommitResult(commit, branch, pushed_to)


def _git(repo: git.Repo, command: str, *args: str, **kwargs: object) -> str:
    try:
        return str(getattr(repo.git, command.replace("-", "_"))(*args, **kwargs)).strip()
    except git.GitCommandError as err:
        raise SourceError(f"{repo.git_dir}: git {command} failed: {_stderr(err)}") from err


def _symbolic_head(repo: git.Repo) -> str | None:
    try:
        return str(repo.git.symbolic_ref("-q", "HEAD")).strip()
    except git.GitCommandError:
        return None  # detached


def _rev(repo: git.Repo, ref: str) -> str | None:
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}")).strip()
    except git.GitCommandError:
        return None


def _check_regular_files(repo: git.Repo, base: str, paths: list[str]) -> None:
    listing = _git(repo, "ls-tree", "-z", "--full-tree", base, "--", *paths)
    modes = {}
    for record in listing.split("\0"):
        if record:
            meta, _, path = record.partition("\t")
            modes[path] = meta.split(" ")[0]
    for path in paths:
        if modes.get(path) not in _REGULAR_MODES:
            raise SourceError(
                f"{path}: not a regular file in commit {base[:12]} (reached through a "
                f"symlink?): kgit edits regular files only"
            )


def _check_clean(repo: git.Repo, paths: list[str]) -> None:
    try:
        # Not through _git: its strip would eat the status column of the first record.
        status = str(repo.git.status("--porcelain=v1", "-z", "--", *paths))
    except git.GitCommandError as err:
        raise SourceError(f"{repo.git_dir}: git status failed: {_stderr(err)}") from err
    for record in status.split("\0"):
        if record and len(record) > 3:
            raise SourceError(
                f"{record[3:]}: has uncommitted changes: commit or stash them, then run again"
            )


def _identity_env(repo: git.Repo) -> dict[str, str]:
    """Author and committer for a repository without a configured identity."""
    env: dict[str, str] = {}
    reader = repo.config_reader()
    for field in ("name", "email"):
        if reader.has_option("user", field):
            continue
        for role in ("AUTHOR", "COMMITTER"):
            variable = f"GIT_{role}_{field.upper()}"
            if variable not in os.environ:
                env[variable] = DEFAULT_IDENTITY[field]
    return env


def _make_commit(repo: git.Repo, base: str, changes: Mapping[str, bytes], message: str) -> str:
    with tempfile.TemporaryDirectory(prefix="kgit-commit-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(repo, "read-tree", base, env=index)
        modes = {}
        for record in _git(repo, "ls-files", "-s", "-z", "--", *changes, env=index).split("\0"):
            if record:
                meta, _, path = record.partition("\t")
                modes[path] = meta.split(" ")[0]
        blob_file = Path(tmp) / "blob"
        for path, data in changes.items():
            blob_file.write_bytes(data)
            sha = _git(repo, "hash-object", "-w", "--no-filters", str(blob_file))
            _git(repo, "update-index", "--cacheinfo", f"{modes[path]},{sha},{path}", env=index)
        tree = _git(repo, "write-tree", env=index)
    return _git(repo, "commit-tree", tree, "-p", base, "-m", message, env=_identity_env(repo))


def _refresh_worktree(repo: git.Repo, changes: Mapping[str, bytes]) -> None:
    root = Path(repo.working_tree_dir or ".")
    for path, data in changes.items():
        (root / path).write_bytes(data)
    _git(repo, "reset", "-q", "--", *changes)
    # Only stat information: other changed files make it exit 1, which is no failure.
    with contextlib.suppress(git.GitCommandError):
        repo.git.update_index("-q", "--refresh")


def _push(repo: git.Repo, branch: str, commit: str, env: Mapping[str, str]) -> str | None:
    reader = repo.config_reader()
    section = f'branch "{branch}"'
    remote = reader.get_value(section, "remote", "") if reader.has_section(section) else ""
    target = reader.get_value(section, "merge", "") if remote else ""
    if not remote or remote == ".":
        if "origin" not in [r.name for r in repo.remotes]:
            return None
        remote, target = "origin", ""
    destination = str(target or f"refs/heads/{branch}")
    try:
        repo.git.push("--porcelain", str(remote), f"{commit}:{destination}", env=dict(env))
    except git.GitCommandError as err:
        raise SourceError(
            f"{remote}: push of {commit[:12]} to {destination} refused: {_stderr(err)} "
            f"(the commit is kept locally; pull and run again if the branch moved)"
        ) from err
    return f"{remote} {destination.removeprefix('refs/heads/')}"
