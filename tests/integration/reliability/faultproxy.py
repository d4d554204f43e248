"""A small HTTPS fault proxy in front of the real kube-apiserver, started by the tests.

kgit talks to the proxy as to any API server (a kubeconfig naming the proxy, trusting its
own CA); the proxy answers TLS itself, reads each request, and forwards it to the real
server with the admin client certificate, unless a :class:`Fault` picks it. A fault can:

- ``delay`` the request, then forward it;
- ``drop`` the connection without an answer;
- answer ``status`` 429 (with ``Retry-After``), 500, 503 ... with a ``Status`` body.

``after=True`` forwards first and then drops or replaces the answer: the server did act,
the client cannot know it (the case an apply's journal must survive). Faults pick a
``share`` of the requests whose method and path (a regular expression, searched in the
path and query) match, from a seeded random stream, optionally at most ``limit`` times.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import random
import re
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import yaml

if TYPE_CHECKING:
    from collections.abc import Callable

# Answered by the proxy, never passed on: connection management and our own framing.
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"}
)
_REASONS = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable"}


@dataclass
class Fault:
    """One kind of fault and the requests it applies to."""

    action: Literal["status", "drop", "delay"]
    share: float = 1.0
    path: str = ""
    methods: frozenset[str] = frozenset()
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    after: bool = False
    limit: int | None = None
    used: int = field(default=0, compare=False)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault is meant for the request (before the dice)."""
        if self.methods and method not in self.methods:
            return False
        if self.limit is not None and self.used >= self.limit:
            return False
        return not self.path or re.search(self.path, path) is not None

    @property
    def label(self) -> str:
        """How the proxy counts this fault: ``drop``, ``503``, ``429 after`` ..."""
        name = str(self.status) if self.action == "status" else self.action
        return f"{name} after" if self.after else name


def _status_body(code: int, message: str) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": _REASONS.get(code, ""),
            "code": code,
        }
    ).encode()


class FaultProxy:
    """The proxy: start it, point kgit at :attr:`kubeconfig`, set faults, stop it.

    ``injected`` counts the faults applied by label, ``forwarded`` the requests that
    reached the real server.
    """

    def __init__(
        self,
        upstream_kubeconfig: str,
        workdir: Path,
        *,
        make_certs: Callable[[Path], None],
        seed: int = 8,
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._make_certs = make_certs
        self.kubeconfig = workdir / "kubeconfig-faults"
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        # (monotonic time, method, path, what happened: "forwarded" or a fault label)
        self.log: list[tuple[float, str, str, str]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._local = threading.local()
        self._upstream = _Upstream.from_kubeconfig(upstream_kubeconfig, workdir)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control ---------------------------------------------------------------------

    def set_faults(self, *faults: Fault) -> None:
        """Replace the faults in force (none: a faithful proxy)."""
        with self._lock:
            self._faults = list(faults)

    def start(self) -> FaultProxy:
        """Serve on a free loopback port and write the kubeconfig that names it."""
        pki = self.workdir / "proxy-pki"
        # A CA and a serving certificate for 127.0.0.1 (the control plane's own maker).
        self._make_certs(pki)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki / "serving.crt", pki / "serving.key")
        proxy = self

        class Handler(_Handler):
            owner = proxy

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        port = server.server_address[1]
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "faults",
                    "cluster": {
                        "server": f"https://127.0.0.1:{port}",
                        "certificate-authority-data": base64.b64encode(
                            (pki / "ca.crt").read_bytes()
                        ).decode(),
                    },
                }
            ],
            # The proxy itself presents the admin certificate to the real server.
            "users": [{"name": "through-proxy", "user": {}}],
            "contexts": [
                {"name": "faults", "context": {"cluster": "faults", "user": "through-proxy"}}
            ],
            "current-context": "faults",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")
        return self

    def stop(self) -> None:
        """Stop serving; open connections are closed by their threads."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- per request -----------------------------------------------------------------

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for one request, if any (the first matching one that the dice pick)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path) and self._random.random() < fault.share:
                    fault.used += 1
                    self.injected[fault.label] += 1
                    self.log.append((time.monotonic(), method, path, fault.label))
                    return fault
            self.log.append((time.monotonic(), method, path, "forwarded"))
        return None

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on to the real server over this thread's connection."""
        for attempt in range(2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._upstream.connect()
                self._local.conn = conn
            try:
                conn.request(method, path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                # A kept-alive connection the server closed meanwhile: once more, fresh.
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
                continue
            with self._lock:
                self.forwarded += 1
            return resp.status, resp.getheaders(), data
        raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Upstream:
    """Where the real server is and the admin credentials to reach it."""

    host: str
    port: int
    context: ssl.SSLContext

    @classmethod
    def from_kubeconfig(cls, path: str, workdir: Path) -> _Upstream:
        config: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        files = {}
        for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
            target = workdir / f"upstream-{key}"
            target.write_bytes(base64.b64decode(cluster.get(key) or user[key]))
            files[key] = target
        context = ssl.create_default_context(cafile=str(files["certificate-authority-data"]))
        context.load_cert_chain(files["client-certificate-data"], files["client-key-data"])
        url = urlsplit(cluster["server"])
        return cls(url.hostname or "127.0.0.1", url.port or 443, context)

    def connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=120)


class _Handler(BaseHTTPRequestHandler):
    """One client connection: read each request, fault or forward it, answer."""

    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test output is for the test

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        method, path = self.command, self.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.owner.pick(method, path)
        if fault is not None and not fault.after:
            if fault.action == "delay":
                time.sleep(fault.delay)
            elif fault.action == "drop":
                self._drop()
                return
            else:
                self._answer_fault(fault)
                return
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in _HOP_HEADERS and k.lower() != "authorization"
        }
        headers["Content-Length"] = str(len(body))
        try:
            status, resp_headers, data = self.owner.forward(method, path, headers, body)
        except (OSError, http.client.HTTPException):
            self._drop()  # the real server is gone: so is the answer
            return
        if fault is not None and fault.after:
            if fault.action == "drop":
                self._drop()
                return
            if fault.action == "status":
                self._answer_fault(fault)
                return
        self.send_response(status)
        for key, value in resp_headers:
            if key.lower() not in _HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer_fault(self, fault: Fault) -> None:
        data = _status_body(fault.status, f"injected by the fault proxy ({fault.label})")
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/json")
        if fault.retry_after is not None:
            self.send_header("Retry-After", f"{fault.retry_after:g}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
