"""Helpers of the kgit.source tests: real repositories made with the git CLI, run with a
configuration of the tests' own."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# Tests must not depend on the developer's git configuration.
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "kgit test",
    "GIT_AUTHOR_EMAIL": "test@kgit.invalid",
    "GIT_COMMITTER_NAME": "kgit test",
    "GIT_COMMITTER_EMAIL": "test@kgit.invalid",
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with :data:`GIT_ENV` and return its stdout."""
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def init_repo(root: Path) -> Path:
    """A new, empty repository at ``root`` on branch ``main``."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    return root


def write(repo: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path in the repo -> text) into the work tree."""
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def commit_all(repo: Path, message: str = "change") -> str:
    """Commit everything in the work tree; the new commit."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
