"""A server that answers with an HTML page (a proxy, a login portal) instead of the
Kubernetes API: one line naming the URL, never the page, and no library warning."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>Sign in</body></html>\n"


class PageServer(ThreadingHTTPServer):
    """Answers every request with :data:`PAGE` and the status it is given."""

    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), PageHandler)
        self.status = status
        self.requests = 0


class PageHandler(BaseHTTPRequestHandler):
    server: PageServer

    def do_GET(self) -> None:
        self.server.requests += 1
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test's output is the client's."""


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[PageServer, str]]]:
    started: list[PageServer] = []

    def start(status: int, *, tls: bool) -> tuple[PageServer, str]:
        server = PageServer(status)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self_signed(tmp_path))
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        host, port = server.server_address[:2]
        return server, f"{'https' if tls else 'http'}://{host!s}:{port}"

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def kubeconfig_for(tmp_path: Path, url: str) -> str:
    """A kubeconfig with a bearer token; TLS unchecked, as a self-signed server needs."""
    cluster: dict[str, object] = {"server": url}
    if url.startswith("https:"):
        cluster["insecure-skip-tls-verify"] = True
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "portal",
        "clusters": [{"name": "portal", "cluster": cluster}],
        "users": [{"name": "me", "user": {"token": "abc"}}],
        "contexts": [{"name": "portal", "context": {"cluster": "portal", "user": "me"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(doc))
    return str(path)


def connect_fresh(kubeconfig: str) -> subprocess.CompletedProcess[str]:
    """connect() in a fresh interpreter (a warning prints once per process); kgit's
    error goes to stdout, anything else to stderr."""
    code = textwrap.dedent(
        """
        import sys
        from kgit.cluster import connect
        from kgit.errors import KgitError
        try:
            connect(sys.argv[1])
        except KgitError as err:
            print(err)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code, kubeconfig],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("status", "tls", "merged"),
    [
        pytest.param(200, True, False, id="page-200-kgit-transport"),
        pytest.param(401, True, False, id="login-401-kgit-transport"),
        pytest.param(502, True, False, id="proxy-502-kgit-transport"),
        pytest.param(200, True, True, id="page-200-kubernetes-package-tls"),
        pytest.param(403, False, False, id="page-403-kubernetes-package-http"),
    ],
)
def test_an_html_page_is_one_line_naming_the_url_and_no_warning(
    serve: Callable[..., tuple[PageServer, str]],
    tmp_path: Path,
    status: int,
    tls: bool,
    merged: bool,
) -> None:
    server, url = serve(status, tls=tls)
    kubeconfig = kubeconfig_for(tmp_path, url)
    if merged:
        # Two files: the kubernetes package's loader, not kgit's own.
        kubeconfig = f"{kubeconfig}{os.pathsep}{kubeconfig}"
    done = connect_fresh(kubeconfig)
    assert done.stderr == ""
    assert done.stdout == (
        f"{url}/version: the server answered with an HTML page, not the Kubernetes API "
        f"(HTTP {status})\n"
    )
    # A proxy's 502 may pass as the API server restarts: retried like any 502.
    assert server.requests == (3 if status == 502 else 1)
