"""Helpers of the kgit.source tests: git run with a configuration of the tests' own."""

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
