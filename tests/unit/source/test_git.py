"""kgit.source.git against real repositories made with the git CLI in tmp_path."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from sourcelib import commit_all, git, init_repo, write

from kgit.errors import SourceError
from kgit.source.git import (
    SourceFile,
    is_dirty,
    read_commit_files,
    read_worktree_files,
    remote_url,
    resolve_commit,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = pytest.mark.unit


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a few manifests and other files, committed on ``main``."""
    root = init_repo(tmp_path / "repo")
    write(
        root,
        {
            "kgit.yaml": "stack: web\n",
            "README.md": "# docs\n",
            "namespaces/web.yaml": "kind: Namespace\n",
            "workloads/web/deploy.yml": "kind: Deployment\n",
            "workloads/web/svc.json": "{}\n",
            "workloads/web/notes.txt": "not a manifest\n",
            "workloads/db/sts.yaml": "kind: StatefulSet\n",
        },
    )
    commit_all(root, "initial")
    return root


def paths_of(files: list[SourceFile]) -> list[str]:
    return [f.path for f in files]


# --- resolve_commit ------------------------------------------------------------------------


def test_resolve_commit_gives_full_sha_of_refs(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "v1", "-m", "release")  # annotated: must peel to the commit
    assert resolve_commit(repo) == head
    assert resolve_commit(repo, "main") == head
    assert resolve_commit(repo, "v1") == head
    assert resolve_commit(repo, head[:8]) == head
    assert len(head) == 40


def test_resolve_commit_names_a_bad_ref(repo: Path) -> None:
    with pytest.raises(SourceError, match=r"no-such-branch"):
        resolve_commit(repo, "no-such-branch")
    with pytest.raises(SourceError, match=r"--output"):
        resolve_commit(repo, "--output=/tmp/x")
    blob = git(repo, "rev-parse", "HEAD:README.md")
    with pytest.raises(SourceError, match=blob):
        resolve_commit(repo, blob)


def test_resolve_commit_refuses_a_directory_that_is_no_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"not a Git repository"):
        resolve_commit(tmp_path)
    with pytest.raises(SourceError, match=r"no such directory"):
        resolve_commit(tmp_path / "missing")


def test_resolve_commit_of_an_empty_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(SourceError, match=r"HEAD"):
        resolve_commit(tmp_path)


# --- read_commit_files ---------------------------------------------------------------------


def test_reads_manifests_of_the_whole_tree_sorted(repo: Path) -> None:
    files = read_commit_files(repo, "HEAD", ["."])
    assert paths_of(files) == [
        "kgit.yaml",
        "namespaces/web.yaml",
        "workloads/db/sts.yaml",
        "workloads/web/deploy.yml",
        "workloads/web/svc.json",
    ]
    assert files[1] == SourceFile("namespaces/web.yaml", b"kind: Namespace\n")
    assert paths_of(read_commit_files(repo, "HEAD", [""])) == paths_of(files)
    assert paths_of(read_commit_files(repo, "HEAD", [])) == paths_of(files)


def test_reads_the_commit_not_the_work_tree(repo: Path) -> None:
    first = resolve_commit(repo)
    write(repo, {"namespaces/web.yaml": "changed\n", "namespaces/new.yaml": "new\n"})
    files = read_commit_files(repo, first, ["namespaces"])
    assert files == [SourceFile("namespaces/web.yaml", b"kind: Namespace\n")]
    second = commit_all(repo)
    assert paths_of(read_commit_files(repo, second, ["namespaces"])) == [
        "namespaces/new.yaml",
        "namespaces/web.yaml",
    ]
    # The older commit still reads as it was.
    assert read_commit_files(repo, first, ["namespaces"]) == files


def test_paths_may_be_files_or_directories_and_overlap(repo: Path) -> None:
    files = read_commit_files(
        repo,
        "HEAD",
        [
            "workloads/web",
            "workloads",
            "workloads/web/deploy.yml",
            "./namespaces/",
            "a/../kgit.yaml",
        ],
    )
    assert paths_of(files) == [
        "kgit.yaml",
        "namespaces/web.yaml",
        "workloads/db/sts.yaml",
        "workloads/web/deploy.yml",
        "workloads/web/svc.json",
    ]


def test_a_missing_path_is_named(repo: Path) -> None:
    with pytest.raises(SourceError, match=r"^nope/: no such file or directory in commit"):
        read_commit_files(repo, "HEAD", ["namespaces", "nope/"])
    # A file is not a directory.
    with pytest.raises(SourceError, match=r"kgit\.yaml/x"):
        read_commit_files(repo, "HEAD", ["kgit.yaml/x"])


def test_a_named_file_must_be_a_manifest(repo: Path) -> None:
    with pytest.raises(SourceError, match=r"README.md: not a \.yaml"):
        read_commit_files(repo, "HEAD", ["README.md"])


@pytest.mark.parametrize("path", ["..", "../other", "/etc", "workloads/../../x", "/"])
def test_a_path_leaving_the_repository_is_refused(repo: Path, path: str) -> None:
    with pytest.raises(SourceError, match=r"leaves the repository"):
        read_commit_files(repo, "HEAD", [path])


def test_a_bad_commit_is_named(repo: Path) -> None:
    with pytest.raises(SourceError, match=r"deadbeef"):
        read_commit_files(repo, "deadbeef", ["."])


def test_symlinks_inside_the_repository_are_followed(repo: Path) -> None:
    (repo / "links").mkdir()
    os.symlink("../namespaces/web.yaml", repo / "links/ns.yaml")
    os.symlink("../workloads/db", repo / "links/db")  # a directory
    os.symlink("../README.md", repo / "links/readme")  # not a manifest: skipped
    os.symlink("missing-dir", repo / "links/gone")  # dangling, not a manifest: skipped
    commit = commit_all(repo)
    files = read_commit_files(repo, commit, ["links"])
    assert files == [
        SourceFile("links/db/sts.yaml", b"kind: StatefulSet\n"),
        SourceFile("links/ns.yaml", b"kind: Namespace\n"),
    ]
    # A requested path may pass through a link, and a link may be requested itself.
    assert paths_of(read_commit_files(repo, commit, ["links/db/sts.yaml", "links/ns.yaml"])) == [
        "links/db/sts.yaml",
        "links/ns.yaml",
    ]


def test_a_chain_of_links_is_followed(repo: Path) -> None:
    os.symlink("namespaces", repo / "a")
    os.symlink("a/web.yaml", repo / "b.yaml")
    commit = commit_all(repo)
    assert read_commit_files(repo, commit, ["b.yaml"]) == [
        SourceFile("b.yaml", b"kind: Namespace\n")
    ]


@pytest.mark.parametrize(
    "target", ["../../outside.yaml", "/etc/passwd", "../../../repo/kgit.yaml", "../.."]
)
def test_a_symlink_leaving_the_repository_is_refused(
    repo: Path, tmp_path: Path, target: str
) -> None:
    (tmp_path / "outside.yaml").write_text("kind: Secret\n")
    os.symlink(target, repo / "namespaces/evil.yaml")
    commit = commit_all(repo)
    with pytest.raises(SourceError, match=r"^namespaces/evil.yaml: symlink leaves the repository"):
        read_commit_files(repo, commit, ["namespaces"])
    # Not under the requested paths: not looked at.
    assert paths_of(read_commit_files(repo, commit, ["workloads/db"])) == ["workloads/db/sts.yaml"]


def test_a_symlink_named_without_suffix_leaving_the_repository_is_refused(repo: Path) -> None:
    # It could be a directory of manifests: skipping it would prune what it holds.
    os.symlink("../../elsewhere", repo / "workloads/shared")
    commit = commit_all(repo)
    with pytest.raises(SourceError, match=r"workloads/shared: symlink leaves the repository"):
        read_commit_files(repo, commit, ["workloads"])


def test_a_requested_path_through_a_link_leaving_the_repository_is_refused(repo: Path) -> None:
    os.symlink("/etc", repo / "etc")
    commit = commit_all(repo)
    with pytest.raises(SourceError, match=r"etc: symlink leaves the repository"):
        read_commit_files(repo, commit, ["etc/passwd.yaml"])


def test_symlink_loops_are_refused(repo: Path) -> None:
    os.symlink("..", repo / "workloads/db/up")
    commit = commit_all(repo)
    with pytest.raises(SourceError, match=r"symlink loop"):
        read_commit_files(repo, commit, ["workloads"])
    os.remove(repo / "workloads/db/up")
    os.symlink("self.yaml", repo / "workloads/db/self.yaml")
    commit = commit_all(repo)
    with pytest.raises(SourceError, match=r"too many levels of symlinks"):
        read_commit_files(repo, commit, ["workloads"])


def test_a_dangling_manifest_symlink_is_refused(repo: Path) -> None:
    os.symlink("gone.yaml", repo / "namespaces/link.yaml")
    commit = commit_all(repo)
    with pytest.raises(SourceError, match=r"namespaces/link\.yaml: symlink target does not exist"):
        read_commit_files(repo, commit, ["namespaces"])


def test_submodules_are_skipped(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    write(other, {"x.yaml": "kind: Secret\n"})
    sha = commit_all(other)
    # A gitlink entry is what a submodule is in the tree.
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{sha},workloads/vendor")
    git(repo, "commit", "-q", "-m", "submodule")
    assert "workloads/vendor" in git(repo, "ls-tree", "-r", "HEAD")
    assert paths_of(read_commit_files(repo, "HEAD", ["workloads"])) == [
        "workloads/db/sts.yaml",
        "workloads/web/deploy.yml",
        "workloads/web/svc.json",
    ]
    with pytest.raises(SourceError, match=r"workloads/vendor: is a submodule"):
        read_commit_files(repo, "HEAD", ["workloads/vendor"])


def test_a_bare_repository_is_read(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    assert resolve_commit(bare, "main") == resolve_commit(repo)
    assert read_commit_files(bare, "main", ["."]) == read_commit_files(repo, "HEAD", ["."])
    with pytest.raises(SourceError, match=r"bare repository"):
        read_worktree_files(bare, ["."])
    assert not is_dirty(bare)


def test_binary_and_large_files_are_read_exactly(repo: Path) -> None:
    data = bytes(range(256)) * 4000 + b"\n\x00end"
    (repo / "blob.yaml").write_bytes(data)
    (repo / "empty.yaml").write_bytes(b"")
    commit = commit_all(repo)
    files = read_commit_files(repo, commit, ["blob.yaml", "empty.yaml", "kgit.yaml"])
    assert files == [
        SourceFile("blob.yaml", data),
        SourceFile("empty.yaml", b""),
        SourceFile("kgit.yaml", b"stack: web\n"),
    ]


def test_many_files_are_read_in_one_batch(repo: Path) -> None:
    write(repo, {f"many/d{i % 10}/f{i}.yaml": f"n: {i}\n" for i in range(500)})
    commit = commit_all(repo)
    files = read_commit_files(repo, commit, ["many"])
    assert len(files) == 500
    assert {f.data for f in files} == {f"n: {i}\n".encode() for i in range(500)}


# --- read_worktree_files -------------------------------------------------------------------


def test_worktree_reads_what_git_would_commit(repo: Path) -> None:
    write(
        repo,
        {
            ".gitignore": "ignored.yaml\n",
            "namespaces/web.yaml": "changed\n",
            "namespaces/new.yaml": "untracked\n",
            "namespaces/ignored.yaml": "ignored\n",
        },
    )
    os.remove(repo / "workloads/db/sts.yaml")
    files = read_worktree_files(repo, [".", "namespaces"])
    assert files == [
        SourceFile("kgit.yaml", b"stack: web\n"),
        SourceFile("namespaces/new.yaml", b"untracked\n"),
        SourceFile("namespaces/web.yaml", b"changed\n"),
        SourceFile("workloads/web/deploy.yml", b"kind: Deployment\n"),
        SourceFile("workloads/web/svc.json", b"{}\n"),
    ]


def test_worktree_follows_links_inside_and_refuses_links_outside(
    repo: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.yaml").write_text("kind: Secret\n")
    os.symlink("../namespaces", repo / "workloads/ns")
    assert paths_of(read_worktree_files(repo, ["workloads/ns"])) == ["workloads/ns/web.yaml"]
    os.symlink(str(tmp_path / "secret.yaml"), repo / "workloads/abs.yaml")
    with pytest.raises(SourceError, match=r"workloads/abs\.yaml: symlink leaves the repository"):
        read_worktree_files(repo, ["workloads"])
    os.remove(repo / "workloads/abs.yaml")
    os.symlink("../../secret.yaml", repo / "workloads/rel.yaml")
    with pytest.raises(SourceError, match=r"workloads/rel\.yaml: symlink leaves the repository"):
        read_worktree_files(repo, ["workloads"])


def test_worktree_skips_git_dir_and_nested_repositories(repo: Path) -> None:
    nested = repo / "workloads/nested"
    nested.mkdir()
    git(nested, "init", "-q")
    write(nested, {"x.yaml": "kind: Secret\n"})
    commit_all(nested)
    files = read_worktree_files(repo, ["."])
    assert not [f for f in files if f.path.startswith((".git", "workloads/nested"))]
    assert "workloads/db/sts.yaml" in paths_of(files)


def test_worktree_missing_path_is_named(repo: Path) -> None:
    with pytest.raises(SourceError, match=r"^gone: no such file or directory in the work tree"):
        read_worktree_files(repo, ["gone"])


# --- is_dirty and remote_url ---------------------------------------------------------------


def test_is_dirty(repo: Path) -> None:
    assert not is_dirty(repo)
    write(repo, {"notes/todo.txt": "untracked, not a manifest\n"})
    assert not is_dirty(repo)
    write(repo, {".gitignore": "*.tmp.yaml\n"})
    assert not is_dirty(repo)  # an untracked .gitignore is not a manifest
    write(repo, {"x.tmp.yaml": "ignored\n"})
    assert not is_dirty(repo)
    write(repo, {"namespaces/new.yaml": "untracked manifest\n"})
    assert is_dirty(repo)
    os.remove(repo / "namespaces/new.yaml")
    assert not is_dirty(repo)
    write(repo, {"README.md": "edited\n"})
    assert is_dirty(repo)
    git(repo, "checkout", "--", "README.md")
    git(repo, "rm", "-q", "--cached", "kgit.yaml")
    assert is_dirty(repo)


def test_remote_url(repo: Path, tmp_path: Path) -> None:
    assert remote_url(repo) == str(repo.resolve())
    git(repo, "remote", "add", "origin", "https://example.com/org/repo.git")
    assert remote_url(repo) == "https://example.com/org/repo.git"
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert remote_url(clone) == str(repo)


def test_files_over_the_size_cap_are_refused_before_reading(repo: Path) -> None:
    write(repo, {"big/huge.yaml": "a: " + "x" * 2000 + "\n", "big/link.yaml": ""})
    (repo / "big/link.yaml").unlink()
    os.symlink("huge.yaml", repo / "big/link.yaml")
    commit_all(repo)
    readers: list[Callable[[], list[SourceFile]]] = [
        lambda: read_commit_files(repo, "HEAD", ["big/link.yaml"], max_bytes=1000),
        lambda: read_worktree_files(repo, ["big/link.yaml"], max_bytes=1000),
    ]
    for read in readers:
        with pytest.raises(SourceError, match=r"^big/link.yaml: file is larger than 1000 bytes"):
            read()
    assert len(read_commit_files(repo, "HEAD", ["big"], max_bytes=4096)) == 2
    assert len(read_worktree_files(repo, ["big"], max_bytes=4096)) == 2
