"""The recorded state, kept in the cluster: one Secret per stack, chunked when big.

Layout in the state namespace (``kgit-system`` by default):

- the **head** Secret ``kgit-state.<stack>``, type ``kgit.dev/state``, label
  ``kgit.dev/state-role=head``. Its ``index.json`` says how the state is stored (serial,
  lineage, sha256 of the gzip payload, chunk names); its annotations repeat serial,
  lineage, object count and time for ``kgit state list``. A state whose gzip-compressed
  JSON fits in ``CHUNK_BYTES`` is kept in the head itself (``state.json.gz``).
- bigger states are cut into **chunk** Secrets ``kgit-state.<stack>.<generation>.<i>``
  (``<generation>`` = the serial written and a random suffix), each at most
  ``CHUNK_BYTES`` (base64 makes that ~683 KiB in etcd, under its 1 MiB object limit).

A write never leaves the head pointing at half-written chunks: new chunks are created
under new names first, then the head is updated with the ``resourceVersion`` it was read
at (or created, failing if it exists), and only then are old chunks deleted. A concurrent
writer therefore gets :class:`StateError` ("state changed since it was read") instead of
a lost update. Chunks nobody points at (a writer that crashed between its chunks and its
head) are deleted by a later chunked write, but only those written for a serial the head
has already passed, never the chunks of a writer still in flight.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import hashlib
import json
import logging
import secrets
import threading
import zlib
from collections.abc import Iterable, Mapping
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
from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import RecordedObject
from kgit.state.model import (
    FORMAT_VERSION,
    HISTORY_LIMIT,
    HistoryEntry,
    StackInfo,
    State,
    check_no_secret_values,
    check_stack_name,
    new_state,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from kgit.cluster import Cluster

log = logging.getLogger(__name__)

STATE_NAMESPACE = "kgit-system"
SECRET_TYPE = "kgit.dev/state"
CHUNK_BYTES = 512 * 1024

LABEL_STACK = "kgit.dev/state-stack"
LABEL_ROLE = "kgit.dev/state-role"
ANN_SERIAL = "kgit.dev/serial"
ANN_LINEAGE = "kgit.dev/lineage"
ANN_OBJECTS = "kgit.dev/objects"
ANN_UPDATED = "kgit.dev/updated"
ANN_GENERATION = "kgit.dev/generation"
ANN_SERIAL_OF_CHUNK = "kgit.dev/chunk-serial"

_INDEX_KEY = "index.json"
_INLINE_KEY = "state.json.gz"
_PART_KEY = "part"
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


def head_name(stack: str) -> str:
    """``kgit-state.<stack>``: the Secret that holds (or points at) a stack's state."""
    return f"kgit-state.{stack}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- encoding ------------------------------------------------------------------------


def _json_default(value: object) -> object:
    # Recorded manifests may be read-only mappings or tuples from the planner.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot record a {type(value).__name__} in the state")


# The apply journal writes the whole state once or twice per batch, while only the
# batch's records change: each record's JSON text is kept, by identity, until the next
# write, so a 10,000-object state is not encoded anew 80 times in one apply. Records are
# frozen and their manifests never edited in place (a change is a new record).
_FRAGMENTS: dict[int, tuple[RecordedObject, ObjectKey, str]] = {}
_FRAGMENTS_LOCK = threading.Lock()


def _key_order(item: tuple[ObjectKey, RecordedObject]) -> tuple[str, str, str, str]:
    # ObjectKey's own ordering, as a plain tuple: compared in C, not through __lt__.
    key = item[0]
    return (key.group, key.kind, key.namespace, key.name)


def _objects_json(objects: Mapping[ObjectKey, RecordedObject]) -> str:
    """The ``objects`` array of the state document, in key order."""
    parts: list[str] = []
    kept: dict[int, tuple[RecordedObject, ObjectKey, str]] = {}
    with _FRAGMENTS_LOCK:
        for key, record in sorted(objects.items(), key=_key_order):
            hit = _FRAGMENTS.get(id(record))
            if hit is None or hit[0] is not record or hit[1] != key:
                entry = {
                    "key": str(key),
                    "obj": record.obj,
                    "uid": record.uid,
                    "applied_at": record.applied_at,
                    "pending": record.pending,
                }
                text = json.dumps(entry, separators=(",", ":"), default=_json_default)
                hit = (record, key, text)
            kept[id(record)] = hit
            parts.append(hit[2])
        _FRAGMENTS.clear()
        _FRAGMENTS.update(kept)
    return "[" + ",".join(parts) + "]"


def encode_state(state: State, serial: int) -> bytes:
    """The state as gzip-compressed JSON, written as ``serial``."""
    doc = {
        "format_version": FORMAT_VERSION,
        "stack": state.stack,
        "lineage": state.lineage,
        "serial": serial,
        "commit": state.commit,
        "hmac_key": base64.b64encode(state.hmac_key).decode("ascii"),
        "history": [dataclasses.asdict(h) for h in state.history[-HISTORY_LIMIT:]],
    }
    head = json.dumps(doc, separators=(",", ":"), default=_json_default)
    text = f'{head[:-1]},"objects":{_objects_json(state.objects)}}}'
    # mtime=0: the same state always compresses to the same bytes. Level 3 is about as
    # small as 6 on manifests (~5%) at under half the time, and large states are
    # written often (the apply journal).
    return gzip.compress(text.encode("utf-8"), compresslevel=3, mtime=0)


def decode_state(payload: bytes, where: str) -> State:
    """Read :func:`encode_state`'s output; :class:`StateError` naming ``where`` if bad."""
    try:
        text = gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as err:
        raise StateError(f"{where}: the state is not valid gzip data: {err}") from err
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise StateError(f"{where}: the state is not valid JSON: {err}") from err
    if not isinstance(doc, dict):
        raise StateError(f"{where}: the state is not a JSON object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise StateError(
            f"{where}: state format version {version!r}; this kgit reads version "
            f"{FORMAT_VERSION} (upgrade kgit, or this is not a kgit state)"
        )
    try:
        objects: dict[ObjectKey, RecordedObject] = {}
        for entry in doc["objects"]:
            key = ObjectKey.parse(str(entry["key"]))
            if not isinstance(entry["obj"], dict):
                raise TypeError(f"{key}: obj is not an object")
            objects[key] = RecordedObject(
                key=key,
                obj=entry["obj"],
                uid=str(entry.get("uid") or ""),
                applied_at=str(entry.get("applied_at") or ""),
                pending=bool(entry.get("pending")),
            )
        fields = {f.name for f in dataclasses.fields(HistoryEntry)}
        history = [
            HistoryEntry(**{k: v for k, v in h.items() if k in fields}) for h in doc["history"]
        ]
        return State(
            format_version=FORMAT_VERSION,
            stack=str(doc["stack"]),
            lineage=str(doc["lineage"]),
            serial=int(doc["serial"]),
            commit=str(doc.get("commit") or ""),
            hmac_key=base64.b64decode(doc["hmac_key"], validate=True),
            objects=objects,
            history=history,
        )
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as err:
        raise StateError(f"{where}: the state is malformed: {err!r}") from err


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, where: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as err:
        raise StateError(f"{where}: undecodable data: {err}") from err


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
        index = _read_index(head, where)
        chunks = tuple(str(c) for c in index.get("chunks") or ())
        try:
            payload = (
                _read_chunks(cluster, namespace, chunks, str(index.get("generation") or ""), where)
                if chunks
                else _unb64((head.get("data") or {}).get(_INLINE_KEY, ""), where)
            )
        except _ChunkMissingError as err:
            # A writer replaced the state between our head and chunk reads: read again.
            if attempt + 1 < _READ_ATTEMPTS:
                log.debug("%s: %s; reading the state again", where, err)
                continue
            raise StateError(f"{where}: {err}") from err
        if hashlib.sha256(payload).hexdigest() != index.get("sha256"):
            raise StateError(f"{where}: the state's checksum does not match its index")
        state = decode_state(payload, where)
        if state.stack != stack or state.serial != index.get("serial"):
            raise StateError(
                f"{where}: the state says stack {state.stack!r} serial {state.serial}, its "
                f"index stack {stack!r} serial {index.get('serial')!r}"
            )
        rv = str((head.get("metadata") or {}).get("resourceVersion") or "")
        return StateHandle(state, namespace, rv, state.serial, state.lineage, chunks)
    raise AssertionError("unreachable")  # pragma: no cover


def _read_index(head: Mapping[str, Any], where: str) -> dict[str, Any]:
    if head.get("type") != SECRET_TYPE:
        raise StateError(
            f"{where}: not a kgit state (type {head.get('type')!r}, expected {SECRET_TYPE!r}); "
            "refusing to read or overwrite it"
        )
    raw = (head.get("data") or {}).get(_INDEX_KEY)
    if raw is None:
        raise StateError(f"{where}: no {_INDEX_KEY} in the state Secret")
    try:
        index = json.loads(_unb64(raw, where))
    except ValueError as err:
        raise StateError(f"{where}: {_INDEX_KEY} is not valid JSON: {err}") from err
    if not isinstance(index, dict):
        raise StateError(f"{where}: {_INDEX_KEY} is not a JSON object")
    if index.get("format_version") != FORMAT_VERSION:
        raise StateError(
            f"{where}: state format version {index.get('format_version')!r}; this kgit "
            f"reads version {FORMAT_VERSION}"
        )
    return index


class _ChunkMissingError(Exception):
    pass


def _read_chunks(
    cluster: Cluster, namespace: str, names: tuple[str, ...], generation: str, where: str
) -> bytes:
    futures = [cluster.submit(cluster.get, SECRET, namespace, n) for n in names]
    parts: list[bytes] = []
    for name, fut in zip(names, futures, strict=True):
        try:
            chunk = fut.result()
        except ClusterError as err:
            raise StateError(f"{where}: cannot read chunk {name}: {err}") from err
        if chunk is None:
            raise _ChunkMissingError(f"chunk {name} is missing")
        annotations = (chunk.get("metadata") or {}).get("annotations") or {}
        if chunk.get("type") != SECRET_TYPE or annotations.get(ANN_GENERATION) != generation:
            raise _ChunkMissingError(f"chunk {name} is not of generation {generation}")
        parts.append(_unb64((chunk.get("data") or {}).get(_PART_KEY, ""), f"{where} ({name})"))
    return b"".join(parts)


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

    generation = ""
    chunk_names: list[str] = []
    if len(payload) > CHUNK_BYTES:
        generation = f"{serial}-{secrets.token_hex(3)}"
        chunk_names = _write_chunks(
            cluster,
            namespace=handle.namespace,
            stack=state.stack,
            generation=generation,
            serial=serial,
            payload=payload,
            where=where,
        )

    updated = _now()
    index = {
        "format_version": FORMAT_VERSION,
        "stack": state.stack,
        "serial": serial,
        "lineage": state.lineage,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "generation": generation,
        "chunks": chunk_names,
    }
    data = {_INDEX_KEY: _b64(json.dumps(index).encode("utf-8"))}
    if not chunk_names:
        data[_INLINE_KEY] = _b64(payload)
    metadata: dict[str, Any] = {
        "name": head_name(state.stack),
        "namespace": handle.namespace,
        "labels": {
            LABEL_STACK: state.stack,
            LABEL_ROLE: "head",
            "app.kubernetes.io/managed-by": "kgit",
        },
        "annotations": {
            ANN_SERIAL: str(serial),
            ANN_LINEAGE: state.lineage,
            ANN_OBJECTS: str(len(state.objects)),
            ANN_UPDATED: updated,
        },
    }
    if handle.resource_version is not None:
        metadata["resourceVersion"] = handle.resource_version
    head = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": metadata,
        "data": data,
    }
    try:
        written = _write_head(cluster, handle, head, index)
    except (ConflictError, NotFoundError) as err:
        # A definite refusal: nobody will ever point at the chunks just written.
        _delete_quietly(cluster, handle.namespace, chunk_names)
        raise StateError(
            f"{where}: state changed since it was read (serial {handle.serial}); "
            "read it again (plan again) and retry"
        ) from err
    except ApiError as err:
        if err.code < 500:
            _delete_quietly(cluster, handle.namespace, chunk_names)
        raise StateError(f"{where}: cannot write the state: {err}") from err
    except ClusterError as err:
        # The outcome is unknown (the request may have been applied): keep the chunks.
        raise StateError(
            f"{where}: writing the state failed, and may or may not have happened: {err}"
        ) from err

    state.serial = serial
    del state.history[:-HISTORY_LIMIT]
    if handle.chunks or chunk_names:
        _collect_garbage(
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
                seen = _read_index(current, f"Secret/{handle.namespace}/{handle.secret_name}")
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


def _write_chunks(
    cluster: Cluster,
    *,
    namespace: str,
    stack: str,
    generation: str,
    serial: int,
    payload: bytes,
    where: str,
) -> list[str]:
    pieces = [payload[i : i + CHUNK_BYTES] for i in range(0, len(payload), CHUNK_BYTES)]
    names = [f"{head_name(stack)}.{generation}.{i}" for i in range(1, len(pieces) + 1)]
    futures: list[Future[dict[str, Any]]] = []
    for i, (name, piece) in enumerate(zip(names, pieces, strict=True), start=1):
        chunk = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": SECRET_TYPE,
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    LABEL_STACK: stack,
                    LABEL_ROLE: "chunk",
                    "app.kubernetes.io/managed-by": "kgit",
                },
                "annotations": {
                    ANN_GENERATION: generation,
                    ANN_SERIAL_OF_CHUNK: str(serial),
                    "kgit.dev/chunk": f"{i}/{len(pieces)}",
                },
            },
            "data": {_PART_KEY: _b64(piece)},
        }
        futures.append(cluster.submit(cluster.create, SECRET, chunk))
    errors = []
    for fut in futures:
        try:
            fut.result()
        except ClusterError as err:
            errors.append(err)
    if errors:
        _delete_quietly(cluster, namespace, names)
        raise StateError(f"{where}: cannot write the state's chunks: {errors[0]}") from errors[0]
    return names


def _delete_quietly(cluster: Cluster, namespace: str, names: Iterable[str]) -> None:
    # Best effort: a chunk left behind is only garbage, collected by a later write.
    for fut in [cluster.submit(cluster.delete, SECRET, namespace, n, uid=None) for n in names]:
        try:
            fut.result()
        except ClusterError as err:
            log.warning("Secret/%s: could not delete a state chunk: %s", namespace, err)


def _collect_garbage(
    cluster: Cluster,
    *,
    namespace: str,
    stack: str,
    serial: int,
    old: Iterable[str],
    current: Iterable[str],
) -> None:
    """Delete chunks the head no longer points at, written for serials up to ``serial``.

    Chunks of a later serial belong to a writer that read this head and is still
    writing: they are left alone (its head write decides whether they live).
    """
    keep = set(current)
    doomed = set(old) - keep
    try:
        chunks = cluster.list_kind(
            SECRET,
            namespace,
            label_selector=f"{LABEL_STACK}={stack},{LABEL_ROLE}=chunk",
            metadata_only=True,
        )
    except ClusterError as err:
        log.warning("Secret/%s: cannot list state chunks: %s", namespace, err)
        chunks = []
    for chunk in chunks:
        meta = chunk.get("metadata") or {}
        name = str(meta.get("name") or "")
        try:
            written_for = int((meta.get("annotations") or {}).get(ANN_SERIAL_OF_CHUNK, ""))
        except ValueError:
            continue
        if name not in keep and written_for <= serial:
            doomed.add(name)
    _delete_quietly(cluster, namespace, sorted(doomed))


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
    entry = HistoryEntry(
        serial=handle.serial + 1,
        plan_digest="",
        commit=state.commit,
        who=who,
        when=_now(),
        result=f"state rm: {len(wanted)} object(s) forgotten",
    )
    # A copy: if the write is refused, the caller's state is as it was read.
    state = dataclasses.replace(
        state,
        objects={k: v for k, v in state.objects.items() if k not in removed},
        history=[*state.history, entry],
    )
    return save_state(cluster, handle, state)
