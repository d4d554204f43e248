"""Real registries for the tests: Debian's docker-registry on loopback.

:class:`Registry` starts ``/usr/bin/docker-registry serve CONFIG`` on a free port with
filesystem storage in a temporary directory, optionally behind htpasswd basic auth or
bearer tokens from :class:`TokenServer` (a small token service signing JWTs with a
throwaway key through the openssl CLI, as a real token service would). Images are pushed
with plain HTTP calls of the registry API: a config blob, a layer blob and one manifest
per tag. No Docker engine is needed.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgitlib import free_port

if TYPE_CHECKING:
    from pathlib import Path

REGISTRY_BIN = "/usr/bin/docker-registry"
_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
_CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
_LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@dataclass(frozen=True)
class User:
    """A registry user (htpasswd or token service)."""

    name: str
    password: str

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.name}:{self.password}".encode()).decode()


# The user of the registries that ask for credentials.
USER = User("kgit-robot", "s3cret-pa55")


class TokenServer:
    """A token service for registry bearer auth: checks a user, signs a JWT with x5c."""

    service = "kgit-test-registry"
    issuer = "kgit-test-issuer"

    def __init__(self, workdir: Path, user: User) -> None:
        self.user = user
        self.key = workdir / "token.key"
        self.cert = workdir / "token.crt"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", str(self.key), "-out", str(self.cert), "-subj", "/CN=kgit-token",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self._x5c = base64.b64encode(der).decode()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                server.requests.append(self.path)
                if self.headers.get("Authorization") != server.user.basic:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"details": "wrong user or password"}')
                    return
                scope = query.get("scope", [""])[0]
                body = json.dumps({"token": server.mint(scope, server.user.name)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.port = free_port()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def mint(self, scope: str, subject: str) -> str:
        """A signed token granting pull and push on the scope's repository."""
        parts = scope.split(":")
        access = []
        if len(parts) == 3 and parts[0] == "repository":
            access = [{"type": "repository", "name": parts[1], "actions": ["pull", "push"]}]
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header))}.{_b64url(json.dumps(claims))}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _b64url(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Registry:
    """A running docker-registry on 127.0.0.1; ``host`` is ``127.0.0.1:port``."""

    def __init__(
        self,
        workdir: Path,
        *,
        user: User | None = None,
        tokens: TokenServer | None = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.tokens = tokens
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        auth = ""
        if tokens is not None:
            auth = (
                "auth:\n  token:\n"
                f"    realm: {tokens.realm}\n    service: {tokens.service}\n"
                f"    issuer: {tokens.issuer}\n    rootcertbundle: {tokens.cert}\n"
            )
        elif user is not None:
            htpasswd = workdir / "htpasswd"
            subprocess.run(
                ["htpasswd", "-Bbc", str(htpasswd), user.name, user.password],
                check=True,
                capture_output=True,
            )
            auth = f"auth:\n  htpasswd:\n    realm: kgit-test\n    path: {htpasswd}\n"
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
            f"http:\n  addr: {self.host}\n  secret: {uuid.uuid4().hex}\n" + auth
        )
        self._log = (workdir / "registry.log").open("wb")
        self.process = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(config)], stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready(workdir)

    def _wait_ready(self, workdir: Path) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(workdir / 'registry.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2):
                    return
            except urllib.error.HTTPError as err:
                if err.code == 401:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry on {self.host} did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def _authorization(self, repository: str) -> str | None:
        if self.tokens is not None:
            return "Bearer " + self.tokens.mint(f"repository:{repository}:pull,push", "pusher")
        return self.user.basic if self.user is not None else None

    def _call(
        self, method: str, url: str, body: bytes = b"", content_type: str | None = None,
        repository: str = "",
    ) -> tuple[int, Any]:  # fmt: skip
        if not url.startswith("http"):
            url = f"http://{self.host}{url}"
        request = urllib.request.Request(url, data=body or None, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        authorization = self._authorization(repository)
        if authorization:
            request.add_header("Authorization", authorization)
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.headers

    def _blob(self, repository: str, data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        _, headers = self._call("POST", f"/v2/{repository}/blobs/uploads/", repository=repository)
        location = urllib.parse.urljoin(f"http://{self.host}/", headers["Location"])
        joiner = "&" if "?" in location else "?"
        self._call(
            "PUT",
            f"{location}{joiner}digest={digest}",
            data,
            "application/octet-stream",
            repository=repository,
        )
        return {"size": len(data), "digest": digest}

    def push(self, repository: str, *tags: str) -> None:
        """Push a tiny image to ``repository`` under each tag (distinct content per tag)."""
        for tag in tags:
            config = json.dumps(
                {"architecture": "amd64", "os": "linux", "config": {"Labels": {"tag": tag}},
                 "rootfs": {"type": "layers", "diff_ids": []}}
            ).encode()  # fmt: skip
            layer = f"layer of {repository}:{tag}".encode()
            manifest = {
                "schemaVersion": 2,
                "mediaType": _MANIFEST_TYPE,
                "config": {"mediaType": _CONFIG_TYPE, **self._blob(repository, config)},
                "layers": [{"mediaType": _LAYER_TYPE, **self._blob(repository, layer)}],
            }
            self._call(
                "PUT",
                f"/v2/{repository}/manifests/{tag}",
                json.dumps(manifest).encode(),
                _MANIFEST_TYPE,
                repository=repository,
            )
