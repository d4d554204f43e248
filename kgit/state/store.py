"""The recorded state, kept in the cluster: read, and written without lost updates.

How it is laid out in Secrets is :mod:`kgit.state.chunks`'s business, how it is
encoded :mod:`kgit.state.codec`'s. A write never leaves the head pointing at half-written
chunks: new chunks are created under new names first, then the head is updated with the
``resourceVersion`` it was read at (or created, failing if it exists), and only then are
old chunks deleted. A concurrent writer therefore gets :class:`StateError` ("state
changed since it was read") instead of a lost update. Chunks nobody points at (a writer
that crashed between its chunks and its head) are deleted by a later chunked write, but
only those written for a serial the head has already passed, never the chunks of a
writer still in flight.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kgit.cluster import (
    NAMESPACE,
    SECRET,
    AlreadyExistsError,
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnreachableError,
)
from kgit.errors import ClusterError, StateError
from kgit.state.chunks import (
    ANN_LINEAGE,
    ANN_OBJECTS,
    ANN_SERIAL,
    ANN_UPDATED,
    LABEL_ROLE,
    LABEL_STACK,
    ChunkMissingError,
    collect_garbage,
    delete_quietly,
    head_name,
    head_secret,
    read_index,
    read_payload,
    write_payload,
)
from kgit.state.codec import decode_state, encode_state
from kgit.state.model import (
    HISTORY_LIMIT,
    HistoryEntry,
    StackInfo,
    State,
    check_no_secret_values,
    check_stack_name,
    new_state,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from kgit.cluster import Cluster
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.inputs import RecordedObject

log = logging.getLogger(__name__)

STATE_NAMESPACE = "kgit-system"
_READ_ATTEMPTS = 3
# Head writes sent in all when their answers are lost (each time read back in between).
_WRITE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class StateHandle:
    """A state as read, with what a conditional write of it needs.

    ``resource_version`` is the head Secret's (None: no state was written yet);
    ``serial`` and ``lineage`` are as read, whatever the caller did to ``state`` since;
    ``chunks`` the chunk Secrets the head pointed at.
    """

    state: State
    namespace: str
    resource_version: str | None
    serial: int
    lineage: str
    chunks: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        """Whether the state was found in the cluster (False for a new stack)."""
        return self.resource_version is not None

    @property
    def secret_name(self) -> str:
        """The head Secret's name."""
        return head_name(self.state.stack)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- reading -------------------------------------------------------------------------


def load_state(cluster: Cluster, stack: str, namespace: str = STATE_NAMESPACE) -> StateHandle:
    """Read a stack's recorded state; a new empty state if none was ever written.

    Raises :class:`StateError` naming the Secret when it cannot be read, is not a kgit
    state (other type), is corrupted, or has another format version.
    """
    check_stack_name(stack)
    name = head_name(stack)
    where = f"Secret/{namespace}/{name}"
    for attempt in range(_READ_ATTEMPTS):
        try:
            head = cluster.get(SECRET, namespace, name)
        except ClusterError as err:
            raise StateError(f"{where}: cannot read the state: {err}") from err
        if head is None:
            state = new_state(stack)
            return StateHandle(state, namespace, None, 0, state.lineage)
        index = read_index(head, where)
        try:
            payload = read_payload(cluster, namespace, head, index, where)
        except ChunkMissingError as err:
            # A writer replaced the state between our head and chunk reads: read again.
            if attempt + 1 < _READ_ATTEMPTS:
                log.debug("%s: %s; reading the state again", where, err)
                continue
            raise StateError(f"{where}: {err}") from err
        state = decode_state(payload, where)
        if state.stack != stack or state.serial != index.get("serial"):
            raise StateError(
                f"{where}: the state says stack {state.stack!r} serial {state.serial}, its "
                f"index stack {stack!r} serial {index.get('serial')!r}"
            )
        rv = str((head.get("metadata") or {}).get("resourceVersion") or "")
        chunks = tuple(str(c) for c in index.get("chunks") or ())
        return StateHandle(state, namespace, rv, state.serial, state.lineage, chunks)
    raise AssertionError("unreachable")  # pragma: no cover


def list_stacks(cluster: Cluster, namespace: str = STATE_NAMESPACE) -> list[StackInfo]:
    """Every stack with a state in ``namespace``, from the Secrets' metadata only."""
    try:
        heads = cluster.list_kind(
            SECRET, namespace, label_selector=f"{LABEL_ROLE}=head", metadata_only=True
        )
    except ClusterError as err:
        raise StateError(f"Secret/{namespace}: cannot list states: {err}") from err
    found: list[StackInfo] = []
    for head in heads:
        meta = head.get("metadata") or {}
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        try:
            found.append(
                StackInfo(
                    stack=str(labels[LABEL_STACK]),
                    serial=int(annotations.get(ANN_SERIAL, -1)),
                    lineage=str(annotations.get(ANN_LINEAGE, "")),
                    objects=int(annotations.get(ANN_OBJECTS, -1)),
                    updated=str(annotations.get(ANN_UPDATED, "")),
                )
            )
        except (KeyError, ValueError):
            log.warning("Secret/%s/%s: not a readable state head", namespace, meta.get("name"))
    return sorted(found, key=lambda info: info.stack)


# --- writing -------------------------------------------------------------------------


def save_state(
    cluster: Cluster, handle: StateHandle, state: State, *, bump: bool = True
) -> StateHandle:
    """Write ``state`` over the one ``handle`` was read as; bump its serial.

    With ``bump=False`` the serial stays: an apply's journal writes after its first one
    keep the serial it took, so each apply advances the serial by exactly one (a plan
    is stale once any apply ran since, whatever it wrote along the way).

    The write succeeds only if nobody wrote the state since ``handle`` was read;
    otherwise :class:`StateError` "state changed since it was read (serial N)". Creates
    the state namespace if missing. On success ``state.serial`` is the new serial and
    the returned handle is the one to pass to the next write.
    """
    check_stack_name(state.stack)
    where = f"Secret/{handle.namespace}/{head_name(state.stack)}"
    if state.stack != handle.state.stack or state.lineage != handle.lineage:
        raise StateError(
            f"{where}: refusing to write stack {state.stack!r} lineage {state.lineage} over "
            f"stack {handle.state.stack!r} lineage {handle.lineage}"
        )
    check_no_secret_values(state)
    serial = handle.serial + 1 if bump or not handle.exists else handle.serial
    payload = encode_state(state, serial)
    if handle.resource_version is None:
        _ensure_namespace(cluster, handle.namespace, where)

    generation, chunk_names = write_payload(
        cluster,
        namespace=handle.namespace,
        stack=state.stack,
        serial=serial,
        payload=payload,
        where=where,
    )
    head, index = head_secret(
        state,
        namespace=handle.namespace,
        serial=serial,
        payload=payload,
        generation=generation,
        chunks=chunk_names,
        resource_version=handle.resource_version,
        updated=_now(),
    )
    try:
        written = _write_head(cluster, handle, head, index)
    except (ConflictError, NotFoundError) as err:
        # A definite refusal: nobody will ever point at the chunks just written.
        delete_quietly(cluster, handle.namespace, chunk_names)
        raise StateError(
            f"{where}: state changed since it was read (serial {handle.serial}); "
            "read it again (plan again) and retry"
        ) from err
    except ApiError as err:
        if err.code < 500:
            delete_quietly(cluster, handle.namespace, chunk_names)
        raise StateError(f"{where}: cannot write the state: {err}") from err
    except ClusterError as err:
        # The outcome is unknown (the request may have been applied): keep the chunks.
        raise StateError(
            f"{where}: writing the state failed, and may or may not have happened: {err}"
        ) from err

    state.serial = serial
    del state.history[:-HISTORY_LIMIT]
    if handle.chunks or chunk_names:
        collect_garbage(
            cluster,
            namespace=handle.namespace,
            stack=state.stack,
            serial=serial,
            old=handle.chunks,
            current=chunk_names,
        )
    rv = str((written.get("metadata") or {}).get("resourceVersion") or "")
    return StateHandle(state, handle.namespace, rv, serial, state.lineage, tuple(chunk_names))


def _write_head(
    cluster: Cluster, handle: StateHandle, head: dict[str, Any], index: dict[str, Any]
) -> dict[str, Any]:
    """Create or conditionally replace the head Secret, surviving a lost answer.

    When a write fails without saying whether it happened (5xx, no answer), the head is
    read back: carrying this write's serial and checksum, it was written; unchanged
    since ``handle`` was read, the write is sent again; anything else raises the error.
    """
    for attempt in range(_WRITE_ATTEMPTS):
        try:
            if handle.resource_version is None:
                return cluster.create(SECRET, head)
            return cluster.update(SECRET, head)
        except ClusterError as err:
            unknown = isinstance(err, UnreachableError) or (
                isinstance(err, ApiError) and err.code >= 500
            )
            if not unknown or attempt + 1 == _WRITE_ATTEMPTS:
                raise
            current = cluster.get(SECRET, handle.namespace, handle.secret_name)
            if current is not None:
                seen = read_index(current, f"Secret/{handle.namespace}/{handle.secret_name}")
                if (seen.get("serial"), seen.get("sha256")) == (index["serial"], index["sha256"]):
                    return current
            rv = (current or {}).get("metadata", {}).get("resourceVersion")
            if rv != handle.resource_version:
                raise
            log.debug("%s: not written (%s); writing it again", handle.secret_name, err)
    raise AssertionError("unreachable")  # pragma: no cover


def _ensure_namespace(cluster: Cluster, namespace: str, where: str) -> None:
    try:
        cluster.create(
            NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )
    except (AlreadyExistsError, ForbiddenError):
        # Forbidden: kgit confined to its namespace by a Role may not create namespaces.
        # Then the write that follows succeeds if the namespace exists, and says so if not.
        pass
    except ClusterError as err:
        raise StateError(f"{where}: cannot create namespace {namespace}: {err}") from err


def remove_objects(
    cluster: Cluster,
    handle: StateHandle,
    keys: Iterable[ObjectKey],
    *,
    who: str = "",
) -> StateHandle:
    """``kgit state rm``: stop tracking objects (they stay in the cluster), and save.

    Raises :class:`StateError` naming the keys that are not in the state (nothing is
    removed then), or when the state changed since ``handle`` was read.
    """
    state = handle.state
    wanted = list(dict.fromkeys(keys))
    unknown = [k for k in wanted if k not in state.objects]
    if unknown:
        raise StateError(
            f"{head_name(state.stack)}: not in the state: {', '.join(str(k) for k in unknown)}"
        )
    removed = set(wanted)
    return _save_repair(
        cluster,
        handle,
        {k: v for k, v in state.objects.items() if k not in removed},
        who=who,
        result=f"state rm: {len(wanted)} object(s) forgotten",
    )


def _save_repair(
    cluster: Cluster,
    handle: StateHandle,
    objects: dict[ObjectKey, RecordedObject],
    *,
    who: str,
    result: str,
) -> StateHandle:
    """Save the state with ``objects`` and a history entry saying what repaired it."""
    state = handle.state
    entry = HistoryEntry(
        serial=handle.serial + 1,
        plan_digest="",
        commit=state.commit,
        who=who,
        when=_now(),
        result=result,
    )
    # A copy: if the write is refused, the caller's state is as it was read.
    state = dataclasses.replace(state, objects=objects, history=[*state.history, entry])
    return save_state(cluster, handle, state)


def add_records(
    cluster: Cluster,
    handle: StateHandle,
    records: Iterable[RecordedObject],
    *,
    who: str = "",
) -> StateHandle:
    """``kgit state recover``: record objects found in the cluster, and save.

    Records the state already holds are kept as they are. Raises :class:`StateError` when
    the state changed since ``handle`` was read.
    """
    objects = handle.state.objects
    added = {r.key: r for r in records if r.key not in objects}
    return _save_repair(
        cluster,
        handle,
        {**objects, **added},
        who=who,
        result=f"state recover: {len(added)} object(s) recorded from the cluster",
    )


def delete_state(cluster: Cluster, stack: str, namespace: str = STATE_NAMESPACE) -> None:
    """Delete the stack's state: its head Secret and every chunk (``kgit destroy``).

    Raises :class:`StateError` when they cannot be listed or deleted.
    """
    check_stack_name(stack)
    where = f"Secret/{namespace}/{head_name(stack)}"
    try:
        secrets = cluster.list_kind(
            SECRET, namespace, label_selector=f"{LABEL_STACK}={stack}", metadata_only=True
        )
        for name in sorted({head_name(stack), *(s["metadata"]["name"] for s in secrets)}):
            cluster.delete(SECRET, namespace, name, uid=None)
    except ClusterError as err:
        raise StateError(f"{where}: cannot delete the state: {err}") from err
