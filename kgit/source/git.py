"""Read manifests from Git: resolve refs and read a commit's tree (or the work tree).

This is the only module that imports GitPython (with its siblings in kgit/source).
Everything it returns is plain data (:class:`SourceFile`), so nothing downstream needs
to know about Git. A commit's tree and the work tree are both listed into one index and
walked by :mod:`kgit.source.walk`, which resolves symlinks inside the tree.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import git

from kgit.errors import SourceError
from kgit.source.walk import (
    MANIFEST_SUFFIXES,
    TreeIndex,
    check_sizes,
    index_from_ls_tree,
    index_from_worktree,
    is_manifest,
    walk_paths,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One manifest file: its repo-relative posix ``path`` and its raw bytes."""

    path: str
    data: bytes


def resolve_commit(repo_dir: Path, ref: str = "HEAD") -> str:
    """The full sha of the commit ``ref`` names in the repository at ``repo_dir``.

    Annotated tags are peeled to their commit. Raises :class:`SourceError` naming the
    ref when it does not name a commit, or when ``repo_dir`` is not a Git repository.
    """
    with _open_repo(repo_dir) as repo:
        return _rev_parse_commit(repo, ref)


def repository_root(path: Path) -> Path:
    """The root of the repository ``path`` is in, found as git does (searching upwards);
    ``path`` itself when it is in none (the error comes when it is read)."""
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.NoSuchPathError, git.InvalidGitRepositoryError):
        return path
    try:
        return Path(repo.working_tree_dir or repo.git_dir)
    finally:
        repo.close()


def has_commit(repo_dir: Path, sha: str) -> bool:
    """Whether the repository at ``repo_dir`` holds the commit ``sha`` (False when
    ``repo_dir`` is no repository)."""
    try:
        handle = _open_repo(repo_dir)
    except SourceError:
        return False
    with handle as repo:
        try:
            repo.git.cat_file("-e", f"{sha}^{{commit}}")
        except git.GitCommandError:
            return False
        return True


def root_commits(repo_dir: Path, commit: str) -> tuple[str, ...]:
    """The root commits (those without parents) of ``commit``'s history, sorted.

    A repository's identity: every clone of it, however far it moved, shares them.
    """
    with _open_repo(repo_dir) as repo:
        try:
            out = repo.git.rev_list("--max-parents=0", "--end-of-options", commit)
        except git.GitCommandError as err:
            raise SourceError(f"{commit}: cannot read its history: {_stderr(err)}") from err
    return tuple(sorted(out.split()))


class SourceTree:
    """One commit's tree (or, for ``--dirty``, the work tree), listed once.

    :meth:`find` names the files under some paths (following symlinks inside the tree),
    :meth:`read` reads them, :meth:`object_id` gives the Git id of a directory or file
    (None in the work tree, whose content has no id). Open it with :func:`open_tree`.
    """

    def __init__(self, repo_dir: Path, commit: str | None, index: TreeIndex, root: Path | None):
        self.repo_dir = repo_dir
        self.commit = commit
        self._index = index
        self._root = root
        self.where = f"commit {commit[:12]}" if commit else "the work tree"

    def find(
        self, paths: Sequence[str], *, keep: Callable[[str], bool] = is_manifest
    ) -> dict[str, str]:
        """The files ``keep`` accepts under ``paths``: logical path -> what to read.

        Raises :class:`SourceError` as :func:`read_commit_files` does for paths.
        """
        return walk_paths(self._index, paths, where=self.where, keep=keep)

    def read(self, found: dict[str, str], *, max_bytes: int | None = None) -> list[SourceFile]:
        """The files of :meth:`find`'s answer, sorted by path (sizes checked first)."""
        check_sizes(self._index, found, max_bytes)
        if self._root is None:
            with _open_repo(self.repo_dir) as repo:
                contents = _read_blobs(repo, sorted(set(found.values())))
            return [SourceFile(path, contents[found[path]]) for path in sorted(found)]
        files = []
        for path in sorted(found):
            try:
                files.append(SourceFile(path, (self._root / found[path]).read_bytes()))
            except OSError as err:
                raise SourceError(f"{path}: cannot read: {err.strerror}") from err
        return files

    def object_id(self, path: str) -> str | None:
        """The Git id of directory or file ``path`` ("" is the root); None when unknown
        (the work tree) or when ``path`` is no directory or file of the tree."""
        if self._root is not None:
            return None
        if path in ("", "."):
            return self._index.trees.get("")
        entry = self._index.entries.get(path)
        if entry is not None:
            return entry.ref if entry.kind == "file" else None
        return self._index.trees.get(path)


def open_tree(repo_dir: Path, commit: str | None) -> SourceTree:
    """List the tree of ``commit`` (a full sha or ref), or the work tree when None.

    The work tree holds what Git would commit: tracked files still present plus
    untracked files that ``.gitignore`` does not exclude; ``.git``, submodules and
    nested repositories are skipped. Raises :class:`SourceError` when the commit or the
    work tree cannot be listed.
    """
    with _open_repo(repo_dir) as repo:
        if commit is None:
            if repo.bare or repo.working_tree_dir is None:
                raise SourceError(f"{repo_dir}: a bare repository has no work tree")
            root = Path(repo.working_tree_dir)
            try:
                listing = repo.git.ls_files(
                    "-z", "--cached", "--others", "--exclude-standard", stdout_as_string=False
                )
            except git.GitCommandError as err:
                raise SourceError(f"{repo_dir}: cannot list the work tree: {_stderr(err)}") from err
            return SourceTree(repo_dir, None, index_from_worktree(root, listing), root)
        sha = _rev_parse_commit(repo, commit)
        try:
            listing = repo.git.ls_tree(
                "-r",
                "-t",
                "-z",
                "-l",
                "--full-tree",
                "--end-of-options",
                sha,
                stdout_as_string=False,
            )
            root_tree = str(repo.git.rev_parse("--verify", f"{sha}^{{tree}}")).strip()
        except git.GitCommandError as err:
            raise SourceError(f"{commit}: cannot list the tree: {_stderr(err)}") from err
        index = index_from_ls_tree(listing)
        index.trees[""] = root_tree
        links = [e.ref for e in index.entries.values() if e.kind == "link"]
        if links:
            blobs = _read_blobs(repo, links)
            for entry in index.entries.values():
                if entry.kind == "link":
                    entry.target = os.fsdecode(blobs[entry.ref])
    return SourceTree(repo_dir, sha, index, None)


def read_commit_files(
    repo_dir: Path, commit: str, paths: Sequence[str], *, max_bytes: int | None = None
) -> list[SourceFile]:
    """The manifest files (``*.yaml``, ``*.yml``, ``*.json``) under ``paths`` in ``commit``.

    Reads the commit's tree, never the work tree. Each path may name a directory (read
    recursively) or one file; ``"."`` or ``""`` is the whole repository. The result is
    sorted by path, without duplicates when paths overlap. Submodules are skipped.
    Symlinks are followed inside the tree; files are named by the path they were found
    under (a link's own path, not its target's).

    Raises :class:`SourceError` when the commit cannot be read, a path is missing or
    leaves the repository, a symlink leaves the repository, loops or dangles, or a file
    is larger than ``max_bytes`` (checked before it is read: a hostile repository's huge
    file must not fill the memory).
    """
    tree = open_tree(repo_dir, commit)
    return tree.read(tree.find(paths), max_bytes=max_bytes)


def read_worktree_files(
    repo_dir: Path, paths: Sequence[str], *, max_bytes: int | None = None
) -> list[SourceFile]:
    """The manifest files under ``paths`` in the work tree of ``repo_dir`` (for ``--dirty``).

    Same rules as :func:`read_commit_files` (see :func:`open_tree` for which files the
    work tree holds). Raises :class:`SourceError` like :func:`read_commit_files`, and
    when the repository has no work tree.
    """
    tree = open_tree(repo_dir, None)
    return tree.read(tree.find(paths), max_bytes=max_bytes)


def is_dirty(repo_dir: Path) -> bool:
    """True when the work tree differs from ``HEAD``.

    Changes to tracked files count, and so do untracked manifest files (``.gitignore``d
    files and changes inside submodules do not).
    """
    with _open_repo(repo_dir) as repo:
        if repo.bare:
            return False
        try:
            out = repo.git.status(
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--ignore-submodules=all",
                stdout_as_string=False,
            )
        except git.GitCommandError as err:
            raise SourceError(f"{repo_dir}: git status failed: {_stderr(err)}") from err
    suffixes = tuple(s.encode() for s in MANIFEST_SUFFIXES)
    for record in out.split(b"\0"):
        # Records are "XY path"; a rename adds its source as a record of its own, but
        # any non-"??" code already makes the tree dirty.
        if record and (not record.startswith(b"?? ") or record.endswith(suffixes)):
            return True
    return False


def remote_url(repo_dir: Path) -> str:
    """The URL of the ``origin`` remote, or the repository's absolute path if it has none."""
    with _open_repo(repo_dir) as repo:
        try:
            return str(repo.remote("origin").url)
        except ValueError:
            # No origin: the local repository itself is the source.
            base = repo.working_tree_dir if not repo.bare else repo.git_dir
            return str(Path(base or repo_dir).resolve())


# --- repository access -------------------------------------------------------------------


class _RepoHandle:
    """A ``git.Repo`` that closes its persistent ``cat-file`` processes on exit."""

    __slots__ = ("repo",)

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo

    def __enter__(self) -> git.Repo:
        return self.repo

    def __exit__(self, *exc: object) -> None:
        self.repo.close()


def _open_repo(repo_dir: Path) -> _RepoHandle:
    try:
        # No search of parent directories: a path inside some other repository must not
        # silently become that repository.
        return _RepoHandle(git.Repo(repo_dir))
    except git.NoSuchPathError as err:
        raise SourceError(f"{repo_dir}: no such directory") from err
    except git.InvalidGitRepositoryError as err:
        raise SourceError(f"{repo_dir}: not a Git repository") from err


def _rev_parse_commit(repo: git.Repo, ref: str) -> str:
    if not ref:
        raise SourceError("an empty ref does not name a commit")
    try:
        # --end-of-options: a ref such as "--output=x" must not become an option.
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except git.GitCommandError as err:
        raise SourceError(f"{ref}: no such commit in {repo.git_dir}") from err
    return str(sha).strip()


def _stderr(err: git.GitCommandError) -> str:
    text = err.stderr if isinstance(err.stderr, str) else str(err.stderr or "")
    return text.strip().removeprefix("stderr:").strip().strip("'").strip() or str(err)


def _read_blobs(repo: git.Repo, shas: Sequence[str]) -> dict[str, bytes]:
    """Read many blobs with one ``git cat-file --batch`` round trip.

    Writing every request up front and letting ``communicate`` drain the output is far
    faster than GitPython's per-object odb calls (about 0.07 s against 0.3-0.5 s for
    10,000 small blobs).
    """
    if not shas:
        return {}
    proc = repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
    out, err = proc.proc.communicate("".join(f"{sha}\n" for sha in shas).encode())
    if proc.proc.returncode != 0:
        raise SourceError(f"git cat-file failed: {err.decode(errors='replace').strip()}")
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in shas:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split(b" ")
        if len(header) != 3:
            raise SourceError(f"{sha}: object missing from the repository")
        size = int(header[2])
        blobs[sha] = out[eol + 1 : eol + 1 + size]
        pos = eol + 1 + size + 1
    return blobs
