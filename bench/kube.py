"""A raw HTTPS client for the API server: the admin certificate, ``http.client``, JSON.

Standard library only at import time, so that :mod:`bench.floor` (which imports this)
measures the LIST calls and little else. One keep-alive connection per thread.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where the API server is and the admin's client certificate, as files."""

    server: str
    ca: Path
    cert: Path
    key: Path

    def args(self) -> list[str]:
        """The command-line form :func:`bench.floor.main` reads back."""
        return [
            "--server",
            self.server,
            "--ca",
            str(self.ca),
            "--cert",
            str(self.cert),
            "--key",
            str(self.key),
        ]


class HttpError(Exception):
    """An answer outside 2xx."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:300]!r}")
        self.status = status


class Api:
    """Thread-safe raw API access; each thread keeps its own connection."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        url = urlsplit(credentials.server)
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or 443
        self._context = ssl.create_default_context(cafile=str(credentials.ca))
        self._context.load_cert_chain(str(credentials.cert), str(credentials.key))
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPSConnection:
        conn: http.client.HTTPSConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(
                self._host, self._port, context=self._context, timeout=120
            )
            self._local.conn = conn
        return conn

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; the parsed JSON answer, or :class:`HttpError`."""
        url = path + ("?" + urlencode(query) if query else "")
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = content_type
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(method, url, body=payload, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                # A keep-alive connection the server closed: open a new one, once.
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        if not 200 <= resp.status < 300:
            raise HttpError(method, path, resp.status, data)
        return json.loads(data) if data else None

    def list_all(self, path: str, page_size: int = 500, selector: str = "") -> list[dict[str, Any]]:
        """Every item of a collection, read in pages like kgit reads them."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            query = {"limit": str(page_size)}
            if selector:
                query["labelSelector"] = selector
            if token:
                query["continue"] = token
            page = self.request("GET", path, query=query)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    def get(self, path: str) -> Any | None:
        """One object, or None when it does not exist."""
        try:
            return self.request("GET", path)
        except HttpError as err:
            if err.status == 404:
                return None
            raise

    def wait_gone(self, paths: list[str], timeout: float) -> None:
        """Wait until none of ``paths`` exists (namespaces finishing their deletion)."""
        deadline = time.monotonic() + timeout
        pending = list(paths)
        while pending:
            pending = [p for p in pending if self.get(p) is not None]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"still present after {timeout:.0f} s: {', '.join(pending[:5])}")
            time.sleep(0.5)
