"""Typed errors for API server answers, built from the ``Status`` object it returns.

Every message starts with its subject (``Deployment/web/nginx:``, or the request path
when there is no object), then the server's own message and its reason, so the CLI can
print it as is. Callers branch on the class, never on message text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kgit.errors import ClusterError

# Messages of field causes that mean "this cannot be changed in place: replace it".
# The first is what most validators say; Service clusterIP and StatefulSet spec have
# their own words for the same thing.
_IMMUTABLE_MARKERS = (
    "is immutable",
    "may not change once set",
    "updates to statefulset spec for fields other than",
)

_TYPED_PATCH_FAILURE = "failed to create typed patch object"


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of ``status.details.causes``: which field, why, what the server said."""

    reason: str
    message: str
    field: str


class UnreachableError(ClusterError):
    """The API server could not be reached (connection refused, TLS, timeout)."""


class KubeconfigError(ClusterError):
    """No usable kubeconfig, context or in-cluster configuration."""


class UnknownKindError(ClusterError):
    """The server serves no resource for this group and kind (yet: a CRD may be pending)."""

    def __init__(self, message: str, *, group: str, kind: str) -> None:
        super().__init__(message)
        self.group = group
        self.kind = kind


class ApiError(ClusterError):
    """The API server answered with an error status.

    ``code`` is the HTTP status, ``reason`` the ``Status.reason`` (``NotFound``,
    ``Invalid``, ``Conflict``, ...), ``causes`` the field-level details.
    """

    def __init__(
        self,
        subject: str,
        *,
        code: int,
        reason: str,
        message: str,
        causes: tuple[Cause, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        self.subject = subject
        self.code = code
        self.reason = reason
        self.server_message = message
        self.causes = causes
        self.retry_after = retry_after
        super().__init__(f"{subject}: {message} ({reason or code})")


class BadRequestError(ApiError):
    """400: the request itself is malformed (e.g. a manifest the server cannot decode)."""


class UnauthorizedError(ApiError):
    """401: the credentials were refused."""


class ForbiddenError(ApiError):
    """403: RBAC or an admission plugin refused the request."""


class NotFoundError(ApiError):
    """404: the object, its namespace or its kind does not exist."""


class ConflictError(ApiError):
    """409: a precondition (``resourceVersion``, ``uid``) no longer holds."""


class AlreadyExistsError(ConflictError):
    """409 ``AlreadyExists``: a create met an object of the same name."""


class ApplyConflictError(ConflictError):
    """409 from a non-forced server-side apply: other field managers own these fields.

    ``managers`` names them (``kubectl-client-side-apply``, ...), ``fields`` the paths.
    """

    def __init__(self, subject: str, **kwargs: Any) -> None:
        super().__init__(subject, **kwargs)
        self.fields = tuple(c.field for c in self.causes if c.field)
        self.managers = tuple(sorted({m for c in self.causes if (m := _manager_of(c.message))}))


class InvalidError(ApiError):
    """422: the object fails validation."""


class ImmutableFieldError(InvalidError):
    """The change touches fields that cannot be updated: the object must be replaced.

    ``fields`` are the paths the server named (``spec.selector``, ``spec.template``).
    Raised for 422 Invalid and for 409 Conflict answers whose causes say so.
    """

    def __init__(self, subject: str, **kwargs: Any) -> None:
        super().__init__(subject, **kwargs)
        self.fields = tuple(
            dict.fromkeys(c.field or "(object)" for c in self.causes if _is_immutable(c))
        )


class GoneError(ApiError):
    """410: a LIST continue token or watch resourceVersion expired."""


class TooManyRequestsError(ApiError):
    """429: the server asks to slow down (``retry_after`` seconds, when it says)."""


class ServerError(ApiError):
    """5xx: the server failed; reads and applies are retried before this is raised."""


class NotKubernetesError(ApiError):
    """The server answered with an HTML page (a proxy, a login portal), not the Kubernetes API.

    ``code`` is the page's HTTP status, which may be 200. Never one of the typed errors
    above: a proxy's 404 page says nothing about whether an object exists.
    """

    def __init__(self, url: str, code: int) -> None:
        super().__init__(
            url,
            code=code,
            reason=f"HTTP {code}",
            message="the server answered with an HTML page, not the Kubernetes API",
        )


def _is_immutable(cause: Cause) -> bool:
    text = cause.message.lower()
    return any(marker in text for marker in _IMMUTABLE_MARKERS)


def _manager_of(message: str) -> str:
    # The server writes 'conflict with "kubectl-client-side-apply" using apps/v1'.
    _head, quote, rest = message.partition('"')
    if not quote:
        return ""
    return rest.partition('"')[0]


def _parse_causes(status: Mapping[str, Any]) -> tuple[Cause, ...]:
    details = status.get("details") or {}
    causes = details.get("causes") or []
    return tuple(
        Cause(str(c.get("reason") or ""), str(c.get("message") or ""), str(c.get("field") or ""))
        for c in causes
        if isinstance(c, Mapping)
    )


def error_from_response(
    subject: str, code: int, body: bytes, retry_after: float | None = None
) -> ApiError:
    """Build the typed error for an HTTP error answer of the API server.

    ``body`` is normally a ``Status`` object; anything else (a plain-text error) is kept
    as the message, shortened. HTML pages never get here (:class:`NotKubernetesError`).
    """
    status: Mapping[str, Any] = {}
    try:
        parsed = json.loads(body) if body else {}
        if isinstance(parsed, Mapping) and parsed.get("kind") == "Status":
            status = parsed
    except ValueError:
        pass
    if status:
        message = str(status.get("message") or "")
        reason = str(status.get("reason") or "")
    else:
        message = body.decode("utf-8", "replace").strip()[:500]
        reason = ""
    message = message or f"HTTP {code}"
    causes = _parse_causes(status)
    kwargs: dict[str, Any] = {
        "code": code,
        "reason": reason,
        "message": message,
        "causes": causes,
        "retry_after": retry_after,
    }
    immutable = any(_is_immutable(c) for c in causes) or (
        not causes and "immutable" in message.lower()
    )
    cls: type[ApiError]
    if code == 500 and _TYPED_PATCH_FAILURE in message:
        # Server-side apply reports fields unknown to the schema as a 500, though the
        # request, not the server, is at fault, and sending it again cannot help.
        cls = InvalidError
        kwargs["reason"] = reason or "Invalid"
    elif code in (409, 422) and immutable:
        cls = ImmutableFieldError
    elif code == 409 and reason == "AlreadyExists":
        cls = AlreadyExistsError
    elif code == 409 and any(c.reason == "FieldManagerConflict" for c in causes):
        cls = ApplyConflictError
    else:
        cls = {
            400: BadRequestError,
            401: UnauthorizedError,
            403: ForbiddenError,
            404: NotFoundError,
            409: ConflictError,
            410: GoneError,
            422: InvalidError,
            429: TooManyRequestsError,
        }.get(code, ServerError if code >= 500 else ApiError)
    return cls(subject, **kwargs)
