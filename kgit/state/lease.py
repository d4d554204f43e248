"""The Lease that records a stack's lock: its name, its content, and what it says.

Taking, renewing and releasing the lock is :mod:`kgit.state.lock`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

LEASE_DURATION = 60
ANN_LOCK_ID = "kgit.dev/lock-id"
ANN_WHO = "kgit.dev/lock-who"
ANN_OPERATION = "kgit.dev/lock-operation"
_MICROTIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def lease_name(stack: str) -> str:
    """``kgit-lock-<stack>``: the Lease that locks a stack."""
    return f"kgit-lock-{stack}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _format_time(moment: datetime) -> str:
    return moment.strftime(_MICROTIME)


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    for fmt in (_MICROTIME, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds a stack's lock, since when, and whether the lease has lapsed."""

    stack: str
    namespace: str
    lock_id: str
    who: str
    operation: str
    acquired: str
    renewed: str
    duration: int
    expired: bool

    @property
    def subject(self) -> str:
        """``Lease/<namespace>/kgit-lock-<stack>``, for messages."""
        return f"Lease/{self.namespace}/{lease_name(self.stack)}"

    def describe(self) -> str:
        """One line for a person: holder, since when, lock ID, expiry."""
        doing = f" ({self.operation})" if self.operation else ""
        renewed = self.renewed or "(never)"
        state = "expired" if self.expired else f"lease {self.duration}s, renewed {renewed}"
        return (
            f"held by {self.who or '(unknown)'}{doing} since {self.acquired or '(unknown)'}, "
            f"lock ID {self.lock_id or '(none)'}, {state}"
        )


def info_of(lease: dict[str, Any], stack: str, namespace: str) -> LockInfo:
    """What the Lease says about the lock: holder, since when, whether it lapsed."""
    meta = lease.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    spec = lease.get("spec") or {}
    holder = str(spec.get("holderIdentity") or "")
    duration = int(spec.get("leaseDurationSeconds") or LEASE_DURATION)
    renewed_at = _parse_time(spec.get("renewTime")) or _parse_time(spec.get("acquireTime"))
    expired = not holder or (
        renewed_at is not None and renewed_at + timedelta(seconds=duration) < _utcnow()
    )
    return LockInfo(
        stack=stack,
        namespace=namespace,
        lock_id=str(annotations.get(ANN_LOCK_ID) or ""),
        who=str(annotations.get(ANN_WHO) or holder),
        operation=str(annotations.get(ANN_OPERATION) or ""),
        acquired=str(spec.get("acquireTime") or ""),
        renewed=str(spec.get("renewTime") or ""),
        duration=duration,
        expired=expired,
    )


def renewed(lease: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``lease`` renewed now (``renewTime``), to write back."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": dict(lease.get("metadata") or {}),
        "spec": {**(lease.get("spec") or {}), "renewTime": _format_time(_utcnow())},
    }


def lock_id_of(lease: dict[str, Any]) -> str:
    """The lock ID written in the Lease; "" if none."""
    return str(((lease.get("metadata") or {}).get("annotations") or {}).get(ANN_LOCK_ID) or "")


def lease_body(
    *,
    stack: str,
    namespace: str,
    lock_id: str,
    who: str,
    operation: str,
    duration: int,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """The Lease of a lock taken now, over ``previous`` (the Lease as read) if any.

    With ``previous`` the write carries its ``resourceVersion``: of two runs taking
    over the same lapsed lock, one wins.
    """
    now = _format_time(_utcnow())
    metadata: dict[str, Any] = {
        "name": lease_name(stack),
        "namespace": namespace,
        "labels": {"app.kubernetes.io/managed-by": "kgit", "kgit.dev/lock-stack": stack},
        "annotations": {ANN_LOCK_ID: lock_id, ANN_WHO: who, ANN_OPERATION: operation},
    }
    transitions = 0
    if previous is not None:
        prev_meta = previous.get("metadata") or {}
        metadata["resourceVersion"] = prev_meta.get("resourceVersion")
        transitions = int((previous.get("spec") or {}).get("leaseTransitions") or 0) + 1
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": f"{who} {lock_id}",
            "leaseDurationSeconds": duration,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        },
    }
