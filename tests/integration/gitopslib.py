"""Helpers of the GitOps tests: a remote repository, a real sshd, a TCP relay, kgit watch."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import yaml
from kgitlib import GitRepo, free_port, wait_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

SSHD = "/usr/sbin/sshd"


class Remote:
    """A bare repository (the remote, branch ``main``) and a work tree that pushes to it."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote.git"
        subprocess.run(
            ["git", "init", "-q", "--bare", "-b", "main", str(self.bare)],
            check=True,
            capture_output=True,
        )
        self.work = GitRepo(root / "work")
        self.work.git("remote", "add", "origin", str(self.bare))

    @property
    def file_url(self) -> str:
        """The remote as a ``file://`` URL."""
        return f"file://{self.bare}"

    def write(self, path: str, *objects: dict[str, Any]) -> None:
        """Write ``objects`` as one multi-document YAML file of the work tree."""
        self.work.write(path, yaml.safe_dump_all(objects, sort_keys=False))

    def push(self, message: str = "change") -> str:
        """Commit everything and push it to ``main``; the new commit."""
        sha = self.work.commit(message)
        self.work.git("push", "-q", "origin", "HEAD:main")
        return sha


class SshServer:
    """A real OpenSSH server on a loopback port, with a throwaway host key.

    Logins are by public key only, for the current user, with the keys :meth:`authorize`
    adds; a repository is reached by its absolute path.
    """

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = root / "host_ed25519"
        self.authorized_keys = root / "authorized_keys"
        self.authorized_keys.touch()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.host_key)], check=True
        )
        self.config = root / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.authorized_keys}",
                    # The tests run as root in CI; keys only, and no checks of the
                    # temporary directory's owner and modes.
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    f"AllowUsers {self.user}",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        self.log = root / "sshd.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start sshd and wait until it accepts connections."""
        # sshd refuses to start without its privilege separation directory.
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)], stdout=log, stderr=log
            )

        def listening() -> bool:
            assert self._process is not None
            if self._process.poll() is not None:
                raise AssertionError(f"sshd exited: {self.log.read_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return True
            return False

        wait_for(listening, "sshd to listen", timeout=15)

    def stop(self) -> None:
        """Stop sshd."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def url(self, repo: Path) -> str:
        """The ``ssh://`` URL of the repository at ``repo``."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{repo}"

    def authorize(self, public_key: str) -> None:
        """Let ``public_key`` log in."""
        with self.authorized_keys.open("a") as out:
            out.write(public_key.strip() + "\n")

    def known_hosts(self, path: Path) -> Path:
        """Write a known_hosts file holding this server's host key to ``path``."""
        key_type, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        path.write_text(f"[127.0.0.1]:{self.port} {key_type} {key}\n")
        return path


class TcpRelay:
    """Forwards a loopback port to another: :meth:`stop` makes the target unreachable
    through it (connections refused, open ones cut), :meth:`start` restores it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Listen again on the same port."""
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every connection through it."""
        with self._lock:
            server, self._server = self._server, None
            conns, self._conns = self._conns, []
        if server is not None:
            server.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, 5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._server is not server:
                    client.close()
                    upstream.close()
                    return
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select(list(peers), [], [], 1.0)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()


def kubeconfig_via(
    kubeconfig: str, path: Path, *, server: str | None = None, token: str | None = None
) -> str:
    """A copy of ``kubeconfig`` at ``path``: pointing at ``server``, authenticating by
    ``token``, when given."""
    with open(kubeconfig, encoding="utf-8") as given:
        config = yaml.safe_load(given)
    for entry in config["clusters"]:
        if server is not None:
            entry["cluster"]["server"] = server
    if token is not None:
        for entry in config["users"]:
            entry["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return str(path)


class Watcher:
    """A ``kgit watch --log-format json`` process; its log lines, parsed, as they come."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kgit", "watch", "--log-format", "json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        self.rounds: list[dict[str, Any]] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def next_round(
        self, check: Callable[[dict[str, Any]], bool] = lambda _: True, timeout: float = 60.0
    ) -> dict[str, Any]:
        """The next logged round that passes ``check`` (earlier ones are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no matching round within {timeout:g}s; rounds: {self.rounds}"
                ) from None
            if line is None:
                raise AssertionError(f"kgit watch exited: {self.stderr()}; rounds: {self.rounds}")
            entry: dict[str, Any] = json.loads(line)
            self.rounds.append(entry)
            if check(entry):
                return entry

    def stderr(self) -> str:
        """What the watcher wrote on stderr (only once it has exited)."""
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Make sure the process is gone (test clean-up)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def watching(args: list[str], *, env: dict[str, str], cwd: Path) -> Iterator[Watcher]:
    """A :class:`Watcher` that is killed if the test leaves it running."""
    watcher = Watcher(args, env=env, cwd=cwd)
    try:
        yield watcher
    finally:
        watcher.kill()
