"""The watcher's status: a ConfigMap ``kgit-status.<stack>`` beside the stack's state.

It says what the watcher last read and applied, how its last round ended, and which plan
waits for approval (the plan itself, gzip-compressed, so ``kgit apply --pending`` can
apply it from anywhere). ``kgit sync`` asks for a round by setting the annotation
``kgit.dev/sync-requested``; the watcher answers with ``kgit.dev/sync-started`` (and the
revision it read) and ``kgit.dev/sync-done`` (and the result).

Both sides write with server-side apply under their own field managers, so neither ever
overwrites the other's fields: no read-modify-write race between ``kgit sync`` and a
watcher.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kgit.cluster import CONFIGMAP
from kgit.errors import PlanFileError, WatchError
from kgit.plan.store import plan_from_json
from kgit.redact import redact_url

if TYPE_CHECKING:
    from kgit.cluster import Cluster
    from kgit.plan.model import Plan

STATUS_MANAGER = "kgit-watch"
SYNC_MANAGER = "kgit-sync"
LABEL_STACK = "kgit.dev/status-stack"
ANN_SYNC_REQUESTED = "kgit.dev/sync-requested"
ANN_SYNC_STARTED = "kgit.dev/sync-started"
ANN_SYNC_DONE = "kgit.dev/sync-done"
PENDING_PLAN_KEY = "pending-plan.json.gz"
# A ConfigMap holds at most 1 MiB; a pending plan bigger than this stays in plans/ only.
MAX_PENDING_BYTES = 768 * 1024

# WatchStatus field -> ConfigMap data key.
_DATA_KEYS = {
    "url": "url",
    "ref": "ref",
    "mode": "autoApply",
    "revision": "revision",
    "applied": "appliedCommit",
    "result": "lastResult",
    "error": "lastError",
    "time": "lastRoundTime",
    "summary": "lastSummary",
    "pending_commit": "pendingCommit",
    "pending_file": "pendingPlanFile",
    "pending_digest": "pendingPlanDigest",
    "next_round": "nextRoundBy",
    "stopped": "watcherStopped",
    "watcher": "watcher",
    "health": "lastHealth",
}
_ANNOTATIONS = {
    "sync_started": ANN_SYNC_STARTED,
    "sync_done": ANN_SYNC_DONE,
}


@dataclass(frozen=True, slots=True)
class WatchStatus:
    """What a stack's watcher last did; timestamps are RFC 3339 UTC with microseconds.

    ``revision`` is the commit the last round read, ``applied`` the last commit the
    cluster was brought to (applied, or found already equal), ``result`` a
    :class:`~kgit.watch.loop.RoundResult` value. ``pending_*`` describe the plan that
    waits for approval, if any. ``next_round`` is when a running watcher starts its next
    round at the latest; ``stopped`` when the watcher stopped (both "" if unknown).
    """

    stack: str
    namespace: str
    url: str = ""
    ref: str = ""
    mode: str = ""
    revision: str = ""
    applied: str = ""
    result: str = ""
    error: str = ""
    time: str = ""
    summary: str = ""
    pending_commit: str = ""
    pending_file: str = ""
    pending_digest: str = ""
    pending_plan: bytes = b""
    watcher: str = ""
    sync_requested: str = ""
    sync_started: str = ""
    sync_done: str = ""
    next_round: str = ""
    stopped: str = ""
    health: str = ""  # how the round's wait for health ended ("current: 3 Current")

    @property
    def name(self) -> str:
        """The ConfigMap's name."""
        return status_name(self.stack)

    @property
    def subject(self) -> str:
        """``ConfigMap/<namespace>/kgit-status.<stack>``, for messages."""
        return f"ConfigMap/{self.namespace}/{self.name}"

    @property
    def sync_pending(self) -> bool:
        """Whether a sync was requested that no round has answered yet."""
        return self.sync_requested > self.sync_done

    def without_pending(self) -> WatchStatus:
        """This status with no plan waiting for approval."""
        return dataclasses.replace(
            self, pending_commit="", pending_file="", pending_digest="", pending_plan=b""
        )


def with_liveness(status: WatchStatus, next_round_in: float | None) -> WatchStatus:
    """``status`` saying that its watcher goes on and starts its next round within
    ``next_round_in`` seconds, or (None) that it stopped now."""
    if next_round_in is None:
        return dataclasses.replace(status, next_round="", stopped=now_stamp())
    return dataclasses.replace(status, next_round=now_stamp(next_round_in), stopped="")


def status_name(stack: str) -> str:
    """``kgit-status.<stack>``: the ConfigMap holding a stack's watch status."""
    return f"kgit-status.{stack}"


def now_stamp(later: float = 0.0) -> str:
    """The current time (plus ``later`` seconds) as the status writes it (sortable as text)."""
    return (datetime.now(UTC) + timedelta(seconds=later)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_status(
    cluster: Cluster, namespace: str, stack: str, *, quick: bool = False
) -> WatchStatus | None:
    """The stack's status, or None when no watcher wrote one.

    ``quick`` sends one attempt with a short timeout (for polling). Raises
    :class:`ClusterError` when the API server fails.
    """
    obj = cluster.get(CONFIGMAP, namespace, status_name(stack), quick=quick)
    return None if obj is None else _status_of(obj, namespace, stack)


def _status_of(obj: dict[str, Any], namespace: str, stack: str) -> WatchStatus:
    meta = obj.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    data = obj.get("data") or {}
    fields: dict[str, Any] = {f: str(data.get(key) or "") for f, key in _DATA_KEYS.items()}
    fields |= {f: str(annotations.get(key) or "") for f, key in _ANNOTATIONS.items()}
    fields["sync_requested"] = str(annotations.get(ANN_SYNC_REQUESTED) or "")
    raw = (obj.get("binaryData") or {}).get(PENDING_PLAN_KEY)
    try:
        fields["pending_plan"] = base64.b64decode(raw) if raw else b""
    except binascii.Error:
        fields["pending_plan"] = b""
    return WatchStatus(stack=stack, namespace=namespace, **fields)


def write_status(cluster: Cluster, status: WatchStatus) -> None:
    """Write everything the watcher owns in the status (server-side apply, ``kgit-watch``).

    Fields left empty are removed. Never touches ``kgit sync``'s request. Raises
    :class:`ClusterError`.
    """
    annotations = {key: getattr(status, f) for f, key in _ANNOTATIONS.items() if getattr(status, f)}
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": status.name,
            "namespace": status.namespace,
            "labels": {LABEL_STACK: status.stack, "app.kubernetes.io/managed-by": "kgit"},
            "annotations": annotations,
        },
        # The URL, and errors quoting it, never record a URL's credentials.
        "data": {
            key: redact_url(getattr(status, f))
            for f, key in _DATA_KEYS.items()
            if getattr(status, f)
        },
    }
    if status.pending_plan:
        body["binaryData"] = {PENDING_PLAN_KEY: base64.b64encode(status.pending_plan).decode()}
    cluster.server_side_apply(body, field_manager=STATUS_MANAGER)


def request_sync(cluster: Cluster, namespace: str, stack: str) -> str:
    """Ask the stack's watcher for a round now; the request's time stamp.

    Raises :class:`WatchError` when no watcher has written a status for the stack.
    """
    if read_status(cluster, namespace, stack) is None:
        raise WatchError(
            f"ConfigMap/{namespace}/{status_name(stack)}: not found: no kgit watch has run "
            f"for stack {stack} (is it running, with --state-namespace {namespace}?)"
        )
    stamp = now_stamp()
    cluster.server_side_apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": status_name(stack),
                "namespace": namespace,
                "annotations": {ANN_SYNC_REQUESTED: stamp},
            },
        },
        field_manager=SYNC_MANAGER,
    )
    return stamp


def watched_stacks(cluster: Cluster, namespace: str) -> list[str]:
    """The stacks that have a watch status in ``namespace``, sorted."""
    items = cluster.list_kind(CONFIGMAP, namespace, label_selector=LABEL_STACK)
    return sorted(
        str(((item.get("metadata") or {}).get("labels") or {}).get(LABEL_STACK)) for item in items
    )


def pending_plan(status: WatchStatus) -> Plan | None:
    """The plan waiting for approval, as the watcher stored it, or None.

    Raises :class:`PlanFileError` when the stored plan is unreadable.
    """
    if not status.pending_plan:
        return None
    try:
        text = gzip.decompress(status.pending_plan).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise PlanFileError(f"{status.subject}: the pending plan is unreadable: {err}") from err
    return plan_from_json(text, name=f"{status.subject} ({PENDING_PLAN_KEY})")


def pack_plan(text: str) -> bytes:
    """A plan file's text as the status keeps it; empty when too big for a ConfigMap."""
    packed = gzip.compress(text.encode("utf-8"), mtime=0)
    return packed if len(packed) <= MAX_PENDING_BYTES else b""


def load_pending_plan(cluster: Cluster, namespace: str, stack: str) -> Plan:
    """The plan the stack's watcher left for approval.

    Raises :class:`WatchError` when there is none (or it was too big for the status:
    then it is only in the watcher's plans/ folder), :class:`PlanFileError` when it is
    unreadable.
    """
    status = read_status(cluster, namespace, stack)
    subject = f"ConfigMap/{namespace}/{status_name(stack)}"
    if status is None:
        raise WatchError(f"{subject}: not found: no kgit watch has run for stack {stack}")
    plan = pending_plan(status)
    if plan is None:
        if status.pending_file:
            raise WatchError(
                f"{subject}: the pending plan was too big to keep here; it is "
                f"{status.pending_file} on the watcher"
            )
        raise WatchError(f"{subject}: no plan waits for approval for stack {stack}")
    return plan
