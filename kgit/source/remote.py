"""Remote Git sources: a clone cache fetched over file://, SSH or HTTPS, and pushing back.

The one entry point for reading is :func:`open_source`: it fetches a URL into a bare
repository cached under ``~/.cache/kgit/repos`` (``$XDG_CACHE_HOME`` is honoured), keyed
by the URL, and resolves a ref to a commit there. The cached repository is then read
like any other with :func:`kgit.source.git.read_commit_files`. To push over the same
transport, give :func:`git_environment` to the Git command (image automation passes it to
:func:`kgit.source.commit.commit_and_push` on the cached repository, whose ``origin`` is
the URL and whose branches are the remote's).

SSH always runs with the options a deploy key needs and nothing from the user's agent:
``-i KEY -o IdentitiesOnly=yes``, host keys checked against a known_hosts file with
``StrictHostKeyChecking=yes`` (skipping the check must be asked for by name), and
``BatchMode=yes`` so that nothing ever waits for a password. Every Git command that talks
to a remote is limited to the URL's own transport (``GIT_ALLOW_PROTOCOL``), so a
repository can't make Git run a command through ``ext::`` or another helper.

Two kgit processes may share the cache: each fetch holds an exclusive ``flock`` on the
repository's lock file, and a repository is created in a temporary directory and renamed
into place, so nobody ever sees half of one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import git

from kgit.errors import SourceError
from kgit.source.git import _open_repo, _stderr, resolve_commit

if TYPE_CHECKING:
    from collections.abc import Iterator

Transport = Literal["file", "ssh", "https", "http"]

# The remote's HEAD is fetched to this ref, and the cache's own HEAD points at it, so
# ``HEAD`` means the remote's default branch as it was at the last fetch.
REMOTE_HEAD = "refs/kgit/remote-head"
_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", f"+HEAD:{REMOTE_HEAD}")
_SCHEMES: dict[str, Transport] = {
    "file": "file",
    "ssh": "ssh",
    "git+ssh": "ssh",
    "ssh+git": "ssh",
    "https": "https",
    "http": "http",
}
# git's own rule for scp-like syntax: a colon with no slash before it.
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>\[[^]/]+\]|[^:/\[\]]+):(?P<path>.*)$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class GitUrl:
    """A parsed Git URL: ``transport`` decides how it is reached and what is checked."""

    url: str
    transport: Transport
    host: str = ""
    port: int | None = None
    user: str = ""
    path: str = ""

    @property
    def is_ssh(self) -> bool:
        """Whether Git reaches this URL through ``ssh``."""
        return self.transport == "ssh"

    @property
    def name(self) -> str:
        """The repository's name: the last path component without ``.git``."""
        last = self.path.rstrip("/").rsplit("/", 1)[-1]
        return last.removesuffix(".git") or self.host or "repo"

    @property
    def where(self) -> str:
        """``host`` or ``host:port``, for messages about the SSH server."""
        return f"{self.host}:{self.port}" if self.port else self.host


@dataclass(frozen=True, slots=True)
class SshOptions:
    """How to authenticate an SSH source and check its host key.

    ``key_file`` None leaves the choice of key to ``ssh`` (the user's own keys);
    ``known_hosts`` None means ``~/.ssh/known_hosts``.
    """

    key_file: Path | None = None
    known_hosts: Path | None = None
    insecure_skip_host_key_check: bool = False


@dataclass(frozen=True, slots=True)
class OpenedSource:
    """A remote fetched into the cache: the bare repository's path and the ref's commit."""

    path: Path
    commit: str
    url: str
    ref: str


def parse_git_url(url: str) -> GitUrl:
    """Parse ``file://``, ``ssh://``, scp-like ``user@host:path``, ``http(s)://`` or a path.

    A local path becomes a ``file`` URL of its absolute path. Raises :class:`SourceError`
    for other transports, a host that could pass for an ``ssh`` option, and an HTTPS URL
    carrying a password (the plan records the URL: use a credential helper instead).
    """
    text = url.strip()
    if not text:
        raise SourceError("an empty Git URL")
    scheme = _SCHEME.match(text)
    if scheme:
        name = scheme.group(1).lower()
        transport = _SCHEMES.get(name)
        if transport is None:
            raise SourceError(
                f"{url}: the {name}:// transport is not supported (use file://, ssh://, "
                "git@host:path or https://)"
            )
        parts = urlsplit(text)
        if parts.password:
            raise SourceError(
                f"{url}: the URL carries a password, and plans record the URL; "
                "configure a Git credential helper instead"
            )
        if transport == "file":
            return GitUrl(text, "file", path=parts.path)
        try:
            port = parts.port
        except ValueError as err:
            raise SourceError(f"{url}: invalid port") from err
        host = parts.hostname or ""
        _check_host(url, host)
        return GitUrl(text, transport, host, port, parts.username or "", parts.path)
    if _HELPER.match(text):
        raise SourceError(f"{url}: remote helpers (<transport>::<address>) are not supported")
    scp = _SCP_LIKE.match(text)
    if scp:
        host = scp.group("host").strip("[]")
        _check_host(url, host)
        return GitUrl(text, "ssh", host, None, scp.group("user") or "", scp.group("path"))
    path = str(Path(text).expanduser().resolve())
    return GitUrl(path, "file", path=path)


def _check_host(url: str, host: str) -> None:
    if not host:
        raise SourceError(f"{url}: no host")
    if host.startswith("-"):
        raise SourceError(f"{url}: a host may not start with '-'")


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/kgit/repos``, else ``~/.cache/kgit/repos``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kgit" / "repos"


def cache_path(url: GitUrl, root: Path | None = None) -> Path:
    """The cached bare repository of ``url``: ``<root>/<sha256 of the URL>/<name>``.

    The last component is the repository's name, so a stack named after the directory
    (the default) is named after the repository, as it is for a local checkout.
    """
    key = hashlib.sha256(url.url.encode("utf-8")).hexdigest()[:20]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", url.name).strip(".-") or "repo"
    return (root or cache_root()) / key / name


def git_environment(url: GitUrl, ssh: SshOptions | None = None) -> dict[str, str]:
    """The environment for a Git command that talks to ``url`` (fetch, push, ls-remote).

    Raises :class:`SourceError` for a private key readable by others, and for a missing
    known_hosts file (unless the host key check is skipped).
    """
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": url.transport}
    if url.is_ssh:
        env["GIT_SSH_COMMAND"] = ssh_command(url, ssh or SshOptions())
        env["GIT_SSH_VARIANT"] = "ssh"
    return env


def ssh_command(url: GitUrl, ssh: SshOptions) -> str:
    """The ``GIT_SSH_COMMAND`` for ``url``: the deploy key only, host keys verified."""
    args = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"]
    if ssh.key_file is not None:
        key = ssh.key_file.expanduser().resolve()
        check_private_key(key)
        args += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
    if ssh.insecure_skip_host_key_check:
        args += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    else:
        known = known_hosts_file(ssh)
        if not known.is_file():
            raise SourceError(
                f"{url.url}: known_hosts file {known} does not exist; create it with "
                f"`{keyscan_hint(url)} > {known}` after checking the fingerprint, or pass "
                "--known-hosts FILE"
            )
        args += [
            "-o",
            f"UserKnownHostsFile={_ssh_quote(str(known))}",
            "-o",
            "StrictHostKeyChecking=yes",
        ]
    return shlex.join(args)


def known_hosts_file(ssh: SshOptions) -> Path:
    """The known_hosts file host keys are checked against."""
    return (ssh.known_hosts or Path("~/.ssh/known_hosts")).expanduser().resolve()


def keyscan_hint(url: GitUrl) -> str:
    """The ``ssh-keyscan`` command that reads ``url``'s host keys."""
    port = f"-p {url.port} " if url.port else ""
    return f"ssh-keyscan {port}{url.host}"


def _ssh_quote(value: str) -> str:
    # ssh splits option values on whitespace, and reads double quotes around them.
    if '"' in value:
        raise SourceError(f"{value}: a path with '\"' cannot be given to ssh")
    return f'"{value}"' if any(c.isspace() for c in value) else value


def check_private_key(path: Path) -> None:
    """Refuse a private key file that is missing, not a file, or open to others."""
    try:
        st = path.stat()
    except FileNotFoundError as err:
        raise SourceError(f"{path}: no such private key file") from err
    except OSError as err:
        raise SourceError(f"{path}: cannot read the private key: {err.strerror}") from err
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(f"{path}: the private key is not a file")
    if st.st_mode & 0o077:
        raise SourceError(
            f"{path}: private key permissions {stat.S_IMODE(st.st_mode):04o} are too open "
            f"(others may read it); run `chmod 600 {path}`"
        )


# --- the cache ---------------------------------------------------------------------------


def open_source(
    url: str,
    ref: str = "HEAD",
    ssh: SshOptions | None = None,
    *,
    root: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> OpenedSource:
    """Fetch ``url`` into the cache and resolve ``ref`` (branch, tag, commit) to a commit.

    ``HEAD`` is the remote's default branch. Every branch and tag is fetched (pruned
    when deleted remotely), so a later :func:`open_source` of another ref of the same
    URL, or a stored plan's commit, is found without another clone. Waits up to
    ``timeout`` seconds for another kgit process fetching the same URL, and as long for
    the fetch itself. Raises :class:`SourceError` naming the URL when the remote can't
    be reached, its host key is unknown, the key is refused, or the ref names no commit.
    """
    parsed = parse_git_url(url)
    env = git_environment(parsed, ssh)
    path = cache_path(parsed, root)
    with _locked(path, timeout):
        _ensure_cache(path, parsed)
        _fetch(path, parsed, env, timeout, ssh or SshOptions())
        try:
            commit = resolve_commit(path, ref)
        except SourceError as err:
            raise SourceError(f"{ref}: no such branch, tag or commit in {parsed.url}") from err
    return OpenedSource(path, commit, parsed.url, ref)


def remote_branch(
    cache: Path,
    url: str,
    ref: str,
    ssh: SshOptions | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """The branch of ``url`` that ``ref`` follows, to push a commit to: ``cache`` is the
    URL's cached repository, as :func:`open_source` left it.

    A branch name (or ``refs/heads/NAME``) is that branch. ``HEAD`` is the remote's
    default branch, asked of the remote (``git ls-remote --symref``): the cache keeps
    only its commit. Raises :class:`SourceError` for a tag or a commit, and when the
    remote can't be asked or names no default branch.
    """
    parsed = parse_git_url(url)
    with _open_repo(cache) as repo:
        if ref == "HEAD":
            try:
                answer = repo.git.ls_remote(
                    "--symref",
                    "origin",
                    "HEAD",
                    env=git_environment(parsed, ssh),
                    kill_after_timeout=timeout,
                )
            except git.GitCommandError as err:
                raise SourceError(
                    f"{parsed.url}: cannot ask for the default branch: {_stderr(err)}"
                ) from err
            for line in str(answer).splitlines():
                target, _, name = line.partition("\t")
                if name == "HEAD" and target.startswith("ref: refs/heads/"):
                    return target.removeprefix("ref: refs/heads/")
            raise SourceError(
                f"{parsed.url}: the remote names no default branch: give --git-ref BRANCH"
            )
        branch = ref.removeprefix("refs/heads/")
        try:
            repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}")
        except git.GitCommandError:
            raise SourceError(
                f"{ref}: not a branch of {parsed.url} (a tag or a commit): kgit "
                "commits to a branch; give --git-ref BRANCH"
            ) from None
    return branch


@contextlib.contextmanager
def _locked(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path's parent>.lock`` (the cache entry's lock)."""
    lock_file = path.parent.with_name(path.parent.name + ".lock")
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise SourceError(f"{lock_file}: cannot open the cache lock: {err.strerror}") from err
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise SourceError(
                        f"{path}: another kgit process held the clone cache for {timeout:g}s"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _ensure_cache(path: Path, url: GitUrl) -> None:
    """Create the bare repository of ``url`` at ``path`` unless a valid one is there."""
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        return
    # A directory without a repository is what a crash mid-create leaves: start over.
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=".new-"))
    try:
        repo = git.Repo.init(staging, bare=True, mkdir=False)
        try:
            writer = repo.config_writer()
            try:
                writer.set_value('remote "origin"', "url", url.url)
                writer.set_value('remote "origin"', "tagOpt", "--no-tags")
                # Nobody works in the cache: no reflogs. A fetch's automatic gc runs in
                # the fetch, under the cache lock, not detached after it; it prunes only
                # objects unreachable for two weeks, never a commit a reader resolved.
                writer.set_value("core", "logAllRefUpdates", "false")
                writer.set_value("gc", "autoDetach", "false")
            finally:
                writer.release()
            repo.git.config("--replace-all", "remote.origin.fetch", _REFSPECS[0])
            for spec in _REFSPECS[1:]:
                repo.git.config("--add", "remote.origin.fetch", spec)
            repo.git.symbolic_ref("HEAD", REMOTE_HEAD)
        finally:
            repo.close()
        staging.rename(path)
    except (OSError, git.GitCommandError) as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise SourceError(f"{path}: cannot create the clone cache: {err}") from err


def _fetch(path: Path, url: GitUrl, env: dict[str, str], timeout: float, ssh: SshOptions) -> None:
    with _open_repo(path) as repo:
        try:
            repo.git.fetch("--prune", "--quiet", "origin", env=env, kill_after_timeout=timeout)
        except git.GitCommandError as err:
            raise _transport_error(url, ssh, err) from err


def _transport_error(url: GitUrl, ssh: SshOptions, err: git.GitCommandError) -> SourceError:
    """A :class:`SourceError` that says what went wrong in words a person can act on."""
    text = _stderr(err)
    lower = text.lower()
    if "remote host identification has changed" in lower:
        return SourceError(
            f"{url.url}: the host key of {url.where} CHANGED since it was recorded in "
            "known_hosts: someone may be intercepting the connection, or the server's key "
            "was rotated; check with the server's owner before you update known_hosts"
        )
    if "host key verification failed" in lower or "host key is known for" in lower:
        return SourceError(
            f"{url.url}: the host key of {url.where} is unknown: it is not in "
            f"{known_hosts_file(ssh)}; check the server's fingerprint, then add it "
            f"(`{keyscan_hint(url)} >> {known_hosts_file(ssh)}`), or pass "
            "--insecure-skip-host-key-check"
        )
    if "permission denied (publickey" in lower:
        return SourceError(
            f"{url.url}: the server refused the key: add the public key printed by "
            "`kgit identity` as a deploy key of the repository (or give --ssh-key FILE)"
        )
    if "timeout:" in lower and "did not complete" in lower:
        return SourceError(f"{url.url}: git fetch did not finish in time")
    detail = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return SourceError(f"{url.url}: git fetch failed: {detail}")
