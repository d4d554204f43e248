"""kgit.source.commit against real repositories: a checkout with its upstream, a bare clone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sourcelib import commit_all, git, init_repo, write

from kgit.errors import SourceError
from kgit.source.commit import commit_and_push

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository holding main with two files (one executable) and a symlink."""
    seed = init_repo(tmp_path / "seed")
    write(seed, {"app.yaml": "image: app:1\n", "run.sh": "#!/bin/sh\n", "other.yaml": "a: 1\n"})
    (seed / "run.sh").chmod(0o755)
    (seed / "link.yaml").symlink_to("app.yaml")
    commit_all(seed, "seed")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


@pytest.fixture
def checkout(tmp_path: Path, remote: Path) -> Path:
    """A clone of ``remote`` with main tracking origin/main."""
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", f"file://{remote}", str(work))
    return work


def test_commit_in_a_checkout_pushes_to_the_upstream(checkout: Path, remote: Path) -> None:
    base = git(checkout, "rev-parse", "HEAD")
    # The user's own staged and unstaged work on other files stays theirs.
    (checkout / "other.yaml").write_text("a: 2\n")
    git(checkout, "add", "other.yaml")
    result = commit_and_push(
        checkout, base, {"app.yaml": b"image: app:2\n", "run.sh": b"#!/bin/sh\necho\n"}, "Bump"
    )
    assert result.branch == "main"
    assert result.pushed_to == "origin main"
    assert git(remote, "rev-parse", "main") == result.commit == git(checkout, "rev-parse", "HEAD")
    assert git(checkout, "show", "--format=%P%n%s", "--name-only", "HEAD").split("\n") == [
        base,
        "Bump",
        "",
        "app.yaml",
        "run.sh",
    ]
    assert git(checkout, "ls-tree", "HEAD", "run.sh").startswith("100755")
    assert (checkout / "app.yaml").read_text() == "image: app:2\n"
    assert git(checkout, "status", "--porcelain") == "M  other.yaml"
    assert git(checkout, "rev-parse", "origin/main") == result.commit


def test_commit_in_a_bare_clone_on_a_named_branch(tmp_path: Path, remote: Path) -> None:
    mirror = tmp_path / "cache.git"
    git(tmp_path, "clone", "-q", "--bare", f"file://{remote}", str(mirror))
    base = git(mirror, "rev-parse", "main")
    result = commit_and_push(mirror, base, {"app.yaml": b"image: app:3\n"}, "Bump", branch="main")
    assert git(mirror, "rev-parse", "main") == result.commit
    assert git(remote, "show", "main:app.yaml") == "image: app:3"
    assert result.pushed_to == "origin main"


def test_a_bare_cache_whose_branch_lags_the_commit_read(
    tmp_path: Path, remote: Path, checkout: Path
) -> None:
    mirror = tmp_path / "cache.git"
    git(tmp_path, "clone", "-q", "--bare", f"file://{remote}", str(mirror))
    stale = git(mirror, "rev-parse", "main")
    (checkout / "other.yaml").write_text("a: 5\n")
    git(checkout, "commit", "-q", "-am", "newer")
    git(checkout, "push", "-q")
    git(mirror, "fetch", "-q", "origin", "main")
    base = git(mirror, "rev-parse", "FETCH_HEAD")
    result = commit_and_push(mirror, base, {"app.yaml": b"image: app:5\n"}, "Bump", branch="main")
    assert git(remote, "rev-parse", "main") == result.commit
    assert git(remote, "rev-parse", "main~1") == base
    assert git(mirror, "rev-parse", "main") == stale


def test_without_a_remote_the_commit_stays_local(remote: Path, tmp_path: Path) -> None:
    local = tmp_path / "local"
    git(tmp_path, "clone", "-q", str(remote), str(local))
    git(local, "remote", "remove", "origin")
    base = git(local, "rev-parse", "HEAD")
    result = commit_and_push(local, base, {"app.yaml": b"image: app:4\n"}, "Bump")
    assert result.pushed_to is None
    assert git(local, "rev-parse", "HEAD") == result.commit


def test_refusals(checkout: Path) -> None:
    base = git(checkout, "rev-parse", "HEAD")
    (checkout / "app.yaml").write_text("image: mine\n")
    with pytest.raises(SourceError, match=r"app\.yaml: has uncommitted changes"):
        commit_and_push(checkout, base, {"app.yaml": b"image: app:2\n"}, "Bump")
    assert (checkout / "app.yaml").read_text() == "image: mine\n"
    with pytest.raises(SourceError, match=r"link\.yaml: not a regular file"):
        commit_and_push(checkout, base, {"link.yaml": b"x\n"}, "Bump")
    with pytest.raises(SourceError, match="moved from"):
        commit_and_push(checkout, "0" * 40, {"other.yaml": b"x\n"}, "Bump")
    git(checkout, "checkout", "-q", "--detach")
    with pytest.raises(SourceError, match="HEAD is detached"):
        commit_and_push(checkout, base, {"other.yaml": b"x\n"}, "Bump")
    assert git(checkout, "rev-parse", "HEAD") == base


def test_a_refused_push_keeps_the_commit_locally(
    tmp_path: Path, checkout: Path, remote: Path
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", f"file://{remote}", str(other))
    (other / "other.yaml").write_text("a: 3\n")
    git(other, "commit", "-q", "-am", "someone else")
    git(other, "push", "-q")
    base = git(checkout, "rev-parse", "HEAD")
    with pytest.raises(SourceError, match=r"origin: push of \w+ to refs/heads/main refused"):
        commit_and_push(checkout, base, {"app.yaml": b"image: app:2\n"}, "Bump")
    assert git(checkout, "rev-parse", "HEAD") != base
    assert git(checkout, "status", "--porcelain") == ""
