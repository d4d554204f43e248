"""Requests to the API server with kgit's one retry policy; private to :mod:`kgit.cluster`.

Callers outside the package use :class:`~kgit.cluster.client.Cluster`'s named operations
and never build verbs or paths themselves.

Retries: reads, server-side applies and deletes are idempotent and are retried with a
bounded exponential backoff on connection errors, 429 (honouring ``Retry-After``) and
500/502/503/504. Creates and updates are retried only when the server surely did not act
on them (429, or the connection was never opened). Other 4xx answers are never retried.

An HTML page instead of the API's JSON (a proxy, a login portal in front of the server)
raises :class:`NotKubernetesError` with one line naming the URL, never the page.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from kgit.cluster.errors import (
    ApiError,
    NotKubernetesError,
    ServerError,
    UnreachableError,
    error_from_response,
)
from kgit.cluster.transport import TransportError
from kgit.errors import ClusterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kgit.cluster.transport import Transport

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({500, 502, 503, 504})
MAX_ATTEMPTS = 6
_BACKOFF_BASE = 0.25
_BACKOFF_CAP = 4.0
_RETRY_AFTER_CAP = 10.0
TIMEOUT = (10.0, 60.0)
_HTML_STARTS = (b"<!doctype html", b"<html")


@dataclass(frozen=True, slots=True)
class Response:
    """A raw answer: where from, HTTP status, headers and the unparsed body."""

    url: str
    status: int
    headers: Mapping[str, str]
    data: bytes

    def json(self) -> Any:
        """The body parsed as JSON; :class:`ClusterError` if it is not JSON."""
        if not self.data:
            return None
        try:
            return json.loads(self.data)
        except ValueError as err:
            raise ClusterError(
                f"{self.url}: the server's answer is not JSON (HTTP {self.status})"
            ) from err


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever case the server wrote its name in; "" if absent."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def _is_html(headers: Mapping[str, str], data: bytes) -> bool:
    if "html" in header(headers, "Content-Type").lower():
        return True
    return data[:64].lstrip().lower().startswith(_HTML_STARTS)


def _backoff(attempt: int) -> float:
    delay: float = min(_BACKOFF_CAP, _BACKOFF_BASE * (2**attempt))
    return delay * (0.5 + random.random() / 2)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = header(headers, "Retry-After")
    if not value:
        return None
    try:
        return min(_RETRY_AFTER_CAP, max(0.0, float(value)))
    except ValueError:
        return None


def _answer_error(
    url: str, subject: str, status: int, headers: Mapping[str, str], data: bytes
) -> ApiError | None:
    """The error an answer stands for, or None for a success."""
    if _is_html(headers, data):
        return NotKubernetesError(url, status)
    if 200 <= status < 300:
        return None
    return error_from_response(subject, status, data, _retry_after(headers))


class Http:
    """One API server's transport behind kgit's retry policy. Thread-safe."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.host: str = transport.host
        self.identity: str | None = transport.identity

    def close(self) -> None:
        """Close the transport's connections."""
        self._transport.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        subject: str | None = None,
        idempotent: bool | None = None,
        attempts: int = MAX_ATTEMPTS,
        timeout: tuple[float, float] = TIMEOUT,
        if_none_match: str = "",
    ) -> Response:
        """Send one request; raise the typed :class:`ApiError` for an error status.

        With ``if_none_match`` (an ETag the caller holds) the answer may be 304 Not
        Modified, returned as a success with an empty body.

        ``idempotent`` defaults to True for GET, PATCH (kgit sends apply and merge
        patches: sent twice, they change nothing more) and DELETE; such requests are retried on connection errors and 429/5xx. Others
        are retried only when the server surely did not act on them.
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PATCH", "DELETE")
        url = self.host + path
        full_url = url + "?" + urlencode(query) if query else url
        subject = subject or f"{method} {path}"
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        attempt = 0
        while True:
            attempt += 1
            try:
                status, resp_headers, data = self._transport.send(
                    method, full_url, headers, body, timeout
                )
            except TransportError as err:
                if attempt >= attempts or not (idempotent or err.not_sent):
                    raise UnreachableError(
                        f"{subject}: cannot reach the API server at {self.host}: {err.reason}"
                    ) from err
                delay = _backoff(attempt - 1)
                log.debug("%s: %s; retry %d in %.2fs", subject, err.reason, attempt, delay)
                time.sleep(delay)
                continue
            error = _answer_error(url, subject, status, resp_headers, data)
            if error is None or (status == 304 and if_none_match):
                return Response(url, status, resp_headers, data)
            # A proxy's 502 or 503 page may stand for an API server restarting behind it:
            # retried like the API server's own.
            retryable = status == 429 or (
                idempotent
                and status in _RETRY_STATUS
                and isinstance(error, ServerError | NotKubernetesError)
            )
            if not retryable or attempt >= attempts:
                raise error
            retry_after = _retry_after(resp_headers)
            delay = retry_after if retry_after is not None else _backoff(attempt - 1)
            log.debug("%s: HTTP %d; retry %d in %.2fs", subject, status, attempt, delay)
            time.sleep(delay)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, with the answer's body parsed as JSON."""
        return self.request(method, path, **kwargs).json()
