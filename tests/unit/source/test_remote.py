"""kgit.source.remote: URLs, the SSH command, and the clone cache over real file:// remotes."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sourcelib import GIT_ENV, commit_all, git, init_repo, write

from kgit.errors import SourceError
from kgit.source.git import read_commit_files, remote_url
from kgit.source.remote import (
    REMOTE_HEAD,
    GitUrl,
    SshOptions,
    cache_path,
    git_environment,
    open_source,
    parse_git_url,
    ssh_command,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "git@github.com:org/fleet.git",
            GitUrl(
                "git@github.com:org/fleet.git", "ssh", "github.com", None, "git", "org/fleet.git"
            ),
        ),
        (
            "ssh://git@git.example.com:2222/srv/fleet.git",
            GitUrl(
                "ssh://git@git.example.com:2222/srv/fleet.git",
                "ssh",
                "git.example.com",
                2222,
                "git",
                "/srv/fleet.git",
            ),
        ),
        (
            "git+ssh://h/x",
            GitUrl("git+ssh://h/x", "ssh", "h", None, "", "/x"),
        ),
        (
            "https://git.example.com/org/fleet",
            GitUrl(
                "https://git.example.com/org/fleet",
                "https",
                "git.example.com",
                None,
                "",
                "/org/fleet",
            ),
        ),
        (
            "file:///srv/git/fleet.git",
            GitUrl("file:///srv/git/fleet.git", "file", path="/srv/git/fleet.git"),
        ),
        ("/srv/git/fleet.git", GitUrl("/srv/git/fleet.git", "file", path="/srv/git/fleet.git")),
        (
            "git@[::1]:repo.git",
            GitUrl("git@[::1]:repo.git", "ssh", "::1", None, "git", "repo.git"),
        ),
    ],
)
def test_parse_git_url(url: str, expected: GitUrl) -> None:
    assert parse_git_url(url) == expected


def test_a_relative_path_is_made_absolute() -> None:
    assert parse_git_url("repos/fleet.git").url == str(Path.cwd() / "repos/fleet.git")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ext::sh -c touch% /tmp/x", "remote helpers"),
        ("git://example.com/x", "git:// transport is not supported"),
        ("https://user:secret@example.com/x", "carries a password"),
        ("ssh://-oProxyCommand=touch%20x/y", "may not start with '-'"),
        ("", "empty Git URL"),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_git_url(url)


def test_names() -> None:
    assert parse_git_url("git@h:org/fleet.git").name == "fleet"
    assert parse_git_url("https://h/org/fleet/").name == "fleet"
    assert cache_path(parse_git_url("git@h:org/fleet.git"), Path("/c")).name == "fleet"
    # Keyed by the URL: the same name from two hosts are two caches.
    assert cache_path(parse_git_url("git@a:fleet.git")) != cache_path(
        parse_git_url("git@b:fleet.git")
    )


def _private_key(tmp_path: Path, mode: int = 0o600) -> Path:
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    key.chmod(mode)
    return key


def test_ssh_command_uses_only_the_deploy_key_and_checks_host_keys(tmp_path: Path) -> None:
    key = _private_key(tmp_path)
    known = tmp_path / "known hosts"
    known.write_text("")
    args = shlex.split(ssh_command(parse_git_url("git@h:x"), SshOptions(key, known)))
    assert args[0] == "ssh"
    assert ["-i", str(key), "-o", "IdentitiesOnly=yes"] == args[
        args.index("-i") : args.index("-i") + 4
    ]
    options = [args[i + 1] for i, a in enumerate(args) if a == "-o"]
    assert f'UserKnownHostsFile="{known}"' in options
    assert "StrictHostKeyChecking=yes" in options
    assert "BatchMode=yes" in options


def test_skipping_the_host_key_check_is_asked_by_name(tmp_path: Path) -> None:
    command = ssh_command(parse_git_url("git@h:x"), SshOptions(insecure_skip_host_key_check=True))
    assert "StrictHostKeyChecking=no" in command
    assert "UserKnownHostsFile=/dev/null" in command


def test_a_missing_known_hosts_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(
        SourceError,
        match=r"known_hosts file .*missing.* does not exist; create it with `ssh-keyscan -p 2222 h",
    ):
        ssh_command(parse_git_url("ssh://h:2222/x"), SshOptions(known_hosts=tmp_path / "missing"))


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    key = _private_key(tmp_path, 0o640)
    known = tmp_path / "known_hosts"
    known.touch()
    with pytest.raises(SourceError, match=r"permissions 0640 are too open.*chmod 600"):
        ssh_command(parse_git_url("git@h:x"), SshOptions(key, known))
    with pytest.raises(SourceError, match="no such private key file"):
        ssh_command(parse_git_url("git@h:x"), SshOptions(tmp_path / "nope", known))


def test_git_environment_allows_only_the_urls_transport(tmp_path: Path) -> None:
    https = git_environment(parse_git_url("https://h/x"))
    assert https["GIT_ALLOW_PROTOCOL"] == "https"
    assert https["GIT_TERMINAL_PROMPT"] == "0"
    assert "GIT_SSH_COMMAND" not in https
    known = tmp_path / "known_hosts"
    known.touch()
    ssh = git_environment(parse_git_url("git@h:x"), SshOptions(known_hosts=known))
    assert ssh["GIT_ALLOW_PROTOCOL"] == "ssh"
    assert ssh["GIT_SSH_COMMAND"].startswith("ssh ")


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A bare repository whose default branch is ``main``, with one commit and tag v1."""
    work = init_repo(tmp_path / "work")
    write(work, {"apps/a.yaml": "a: 1\n"})
    commit_all(work, "one")
    git(work, "tag", "v1")
    bare = tmp_path / "upstream.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def _commit(bare: Path, tmp_path: Path, branch: str, text: str) -> str:
    work = tmp_path / f"push-{branch}"
    if not work.exists():
        git(tmp_path, "clone", "-q", str(bare), str(work))
        git(work, "checkout", "-q", "-B", branch)
    (work / "apps/a.yaml").write_text(text)
    git(work, "commit", "-q", "-am", text)
    git(work, "push", "-q", "origin", f"HEAD:{branch}")
    return git(work, "rev-parse", "HEAD")


def test_open_source_fetches_into_the_cache_and_resolves_refs(
    upstream: Path, tmp_path: Path
) -> None:
    root = tmp_path / "cache"
    url = f"file://{upstream}"
    first = open_source(url, root=root)
    assert first.path == cache_path(parse_git_url(url), root)
    assert first.commit == git(upstream, "rev-parse", "main")
    assert remote_url(first.path) == url  # what a plan records
    assert read_commit_files(first.path, first.commit, ["apps"])[0].data == b"a: 1\n"
    assert open_source(url, "v1", root=root).commit == first.commit

    # New commits on main and on a new branch arrive with the next fetch.
    second = _commit(upstream, tmp_path, "main", "a: 2\n")
    feature = _commit(upstream, tmp_path, "feature", "a: 3\n")
    assert open_source(url, root=root).commit == second
    assert open_source(url, "main", root=root).commit == second
    assert open_source(url, "feature", root=root).commit == feature
    assert open_source(url, first.commit, root=root).commit == first.commit

    # HEAD follows the remote's default branch, and deleted branches are pruned.
    git(upstream, "symbolic-ref", "HEAD", "refs/heads/feature")
    assert open_source(url, "HEAD", root=root).commit == feature
    assert git(first.path, "symbolic-ref", "HEAD") == REMOTE_HEAD
    git(upstream, "symbolic-ref", "HEAD", "refs/heads/main")
    git(upstream, "branch", "-q", "-D", "feature")
    with pytest.raises(SourceError, match=f"feature: no such branch, tag or commit in {url}"):
        open_source(url, "feature", root=root)


def test_a_half_made_cache_is_made_again(upstream: Path, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    url = f"file://{upstream}"
    leftover = cache_path(parse_git_url(url), root)
    leftover.mkdir(parents=True)
    (leftover / "junk").write_text("a crash left this")
    assert open_source(url, root=root).commit == git(upstream, "rev-parse", "main")
    assert not (leftover / "junk").exists()


def test_an_unreachable_remote_names_the_url(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/missing.git"
    with pytest.raises(
        SourceError, match=f"^{url}: git fetch failed: .*does not appear to be a git repository"
    ):
        open_source(url, root=tmp_path / "cache")


def test_processes_share_the_cache_safely(upstream: Path, tmp_path: Path) -> None:
    """Several kgit processes fetching one URL at once: each gets the commit, none fails."""
    root = tmp_path / "cache"
    url = f"file://{upstream}"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kgit.source.remote import open_source\n"
        "for _ in range(5):\n"
        "    print(open_source(sys.argv[1], root=Path(sys.argv[2])).commit)\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=GIT_ENV,
        )
        for _ in range(4)
    ]
    expected = git(upstream, "rev-parse", "main")
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert out.split() == [expected] * 5
