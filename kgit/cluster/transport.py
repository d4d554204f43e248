"""How requests reach the API server: the standard library's ``http.client``, or the
``kubernetes`` package.

Importing the ``kubernetes`` package costs about half a second (its thousands of model
classes, requests, oauthlib, pydantic), more than a whole no-op plan of a thousand
objects spends elsewhere, and urllib3 alone a tenth of a small plan. A plain kubeconfig
(see :mod:`kgit.cluster.config`) is served by :class:`NativeTransport`, keep-alive
``http.client`` connections reused across requests and threads; anything else by
:class:`KubernetesTransport`. Both only send and receive: retries and errors are
:mod:`kgit.cluster.http`'s.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import select
import ssl
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from kgit import __version__

if TYPE_CHECKING:
    from kgit.cluster.config import PlainKubeconfig

# A token file (a projected service account token) is rotated on disk: read it again
# after this many seconds, as client-go does.
_TOKEN_FILE_TTL = 60.0


class TransportError(Exception):
    """The request got no HTTP answer; ``not_sent`` when it surely never left."""

    def __init__(self, reason: str, *, not_sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_sent = not_sent


def _unanswered(err: Exception) -> TransportError:
    """urllib3's error as a :class:`TransportError`; only a failed connect surely sent nothing."""
    import urllib3  # noqa: PLC0415 - only the kubernetes package's transport raises these

    not_sent = isinstance(
        err, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )
    return TransportError(str(getattr(err, "reason", None) or err), not_sent=not_sent)


class Transport(Protocol):
    """Sends one request and returns (status, headers, body), or raises TransportError.

    ``identity`` names the server and credentials (a digest, never the credentials), for
    what is cached per user and cluster; None when it cannot be told.
    """

    host: str
    identity: str | None

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        timeout: tuple[float, float],
    ) -> tuple[int, dict[str, str], bytes]:
        """Send ``body`` (bytes, str, or JSON-encoded here) and read the whole answer."""
        ...

    def close(self) -> None:
        """Close the connections."""
        ...


class _HTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection whose certificate is checked against ``server_name`` (the
    kubeconfig's ``tls-server-name``) instead of the host it connects to."""

    def __init__(
        self, host: str, port: int | None, *, context: ssl.SSLContext, server_name: str | None
    ) -> None:
        super().__init__(host, port, context=context)
        self._tls = context
        self._server_name = server_name or host

    def connect(self) -> None:
        """Connect, then wrap the socket in TLS for ``server_name``."""
        http.client.HTTPConnection.connect(self)
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_name)


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when an idle connection was closed by the server (readable means EOF here)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class NativeTransport:
    """Keep-alive connections to the server of a :class:`PlainKubeconfig`, at most
    ``maxsize`` idle ones kept for the next request of any thread."""

    def __init__(self, config: PlainKubeconfig, *, maxsize: int) -> None:
        self.host = config.server
        self.identity: str | None = _identity(config)
        self._config = config
        parts = urlsplit(config.server)
        self._https = parts.scheme == "https"
        self._address = (parts.hostname or "localhost", parts.port)
        self._context = ssl.create_default_context(cafile=config.ca_file, cadata=config.ca_data)
        if config.insecure:
            self._context.check_hostname = False
            self._context.verify_mode = ssl.CERT_NONE
        if config.cert_file or config.cert_data:
            _load_client_cert(self._context, config)
        self._maxsize = maxsize
        self._idle: list[http.client.HTTPConnection] = []
        self._idle_lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    def _bearer(self) -> str | None:
        if self._config.token:
            return self._config.token
        if not self._config.token_file:
            return None
        with self._token_lock:
            now = time.monotonic()
            if self._token is None or now - self._token[1] > _TOKEN_FILE_TTL:
                with open(self._config.token_file, encoding="utf-8") as f:
                    self._token = (f.read().strip(), now)
            return self._token[0]

    def _connection(self, connect_timeout: float) -> http.client.HTTPConnection:
        """An idle connection still open, else a new one, connected.

        Raises :class:`TransportError`; ``not_sent`` unless the TLS handshake failed
        (as urllib3 tells a refused connection from a TLS error).
        """
        with self._idle_lock:
            while self._idle:
                kept = self._idle.pop()
                if not _dropped(kept):
                    return kept
                kept.close()
        host, port = self._address
        conn: http.client.HTTPConnection
        if self._https:
            conn = _HTTPSConnection(
                host, port, context=self._context, server_name=self._config.tls_server_name
            )
        else:
            conn = http.client.HTTPConnection(host, port)
        conn.timeout = connect_timeout
        try:
            conn.connect()
        except ssl.SSLError as err:
            conn.close()
            raise TransportError(str(err), not_sent=False) from err
        except OSError as err:
            conn.close()
            raise TransportError(str(err) or type(err).__name__, not_sent=True) from err
        return conn

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._idle_lock:
            if len(self._idle) < self._maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        timeout: tuple[float, float],
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request on a kept connection; its failures become :class:`TransportError`."""
        headers = {"User-Agent": f"kgit/{__version__}", **headers}
        try:
            token = self._bearer()
        except OSError as err:
            raise TransportError(
                f"cannot read the token file {self._config.token_file}: {err}", not_sent=True
            ) from err
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, bytes | str):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()  # http.client would encode a str as Latin-1
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = self._connection(timeout[0])
        try:
            assert conn.sock is not None  # connected by _connection
            conn.sock.settimeout(timeout[1])
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise TransportError(str(err) or type(err).__name__, not_sent=False) from err
        if resp.will_close:
            conn.close()
        else:
            self._release(conn)
        return resp.status, dict(resp.getheaders()), data

    def close(self) -> None:
        """Close every kept connection."""
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _identity(config: PlainKubeconfig) -> str:
    """A digest of the server and of who we are to it (certificate, token or their files)."""
    digest = hashlib.sha256()
    for part in (
        config.server,
        config.tls_server_name,
        config.cert_file,
        config.cert_data,
        config.token,
        config.token_file,
    ):
        digest.update(part.encode() if isinstance(part, str) else part or b"")
        digest.update(b"\0")
    return digest.hexdigest()


def _load_client_cert(context: ssl.SSLContext, config: PlainKubeconfig) -> None:
    """Load the client certificate; data is written to private temporary files first.

    ``ssl`` reads certificates only from files; the files live just as long as loading.
    """
    if config.cert_file and config.key_file:
        context.load_cert_chain(config.cert_file, config.key_file)
        return
    with tempfile.TemporaryDirectory(prefix="kgit-") as tmp:
        cert = config.cert_file or os.path.join(tmp, "client.crt")
        key = config.key_file or os.path.join(tmp, "client.key")
        for path, data in ((cert, config.cert_data), (key, config.key_data)):
            if data is not None and path.startswith(tmp):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
        context.load_cert_chain(cert, key)


class KubernetesTransport:
    """Requests through the ``kubernetes`` package's ApiClient (every kubeconfig feature)."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.host = str(api.configuration.host)
        # Exec plugins and refreshed tokens change the credentials from run to run: no
        # stable identity to cache under.
        self.identity: str | None = None

    def send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        timeout: tuple[float, float],
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request with the client's default headers and (refreshed) credentials."""
        import urllib3  # noqa: PLC0415 - loaded with the kubernetes package anyway
        from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

        headers = {**self._api.default_headers, **headers}
        # Adds the bearer token, refreshing it (exec plugins, in-cluster) when due.
        self._api.update_params_for_auth(headers, [], ["BearerToken"], url, method, None)
        try:
            raw = self._api.rest_client.request(
                method, url, headers=headers, body=body, _request_timeout=timeout
            )
            try:
                data = raw.read()
            finally:
                raw.response.release_conn()
        except urllib3.exceptions.HTTPError as err:
            raise _unanswered(err) from err
        except ApiException as err:
            # The client turns TLS failures into an ApiException without a status.
            raise TransportError(
                str(err.reason or err).replace("\n", ": "), not_sent=False
            ) from err
        return int(raw.status), dict(raw.headers.items()), data

    def close(self) -> None:
        """Close the client's connections."""
        self._api.rest_client.close()
