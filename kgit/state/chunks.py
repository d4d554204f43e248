"""How a state is kept in Secrets: a head with its index, and chunks when it is big.

Layout in the state namespace (``kgit-system`` by default):

- the **head** Secret ``kgit-state.<stack>``, type ``kgit.dev/state``, label
  ``kgit.dev/state-role=head``. Its ``index.json`` says how the state is stored (serial,
  lineage, sha256 of the gzip payload, chunk names); its annotations repeat serial,
  lineage, object count and time for ``kgit state list``. A state whose gzip-compressed
  JSON fits in ``CHUNK_BYTES`` is kept in the head itself (``state.json.gz``).
- bigger states are cut into **chunk** Secrets ``kgit-state.<stack>.<generation>.<i>``
  (``<generation>`` = the serial written and a random suffix), each at most
  ``CHUNK_BYTES`` (base64 makes that ~683 KiB in etcd, under its 1 MiB object limit).

The order of writes that keeps this consistent is :mod:`kgit.state.store`'s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from kgit.cluster import SECRET
from kgit.errors import ClusterError, StateError
from kgit.state.model import FORMAT_VERSION

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from concurrent.futures import Future

    from kgit.cluster import Cluster
    from kgit.state.model import State

log = logging.getLogger(__name__)

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


def head_name(stack: str) -> str:
    """``kgit-state.<stack>``: the Secret that holds (or points at) a stack's state."""
    return f"kgit-state.{stack}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, where: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as err:
        raise StateError(f"{where}: undecodable data: {err}") from err


# --- reading -------------------------------------------------------------------------


def read_index(head: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The head's ``index.json``.

    Raises :class:`StateError` naming ``where`` if the head is not a kgit state of this
    format.
    """
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


class ChunkMissingError(Exception):
    """A chunk the head points at is gone or of another generation.

    A writer replaced the state between the head's read and the chunks': read again.
    """


def read_payload(
    cluster: Cluster, namespace: str, head: Mapping[str, Any], index: Mapping[str, Any], where: str
) -> bytes:
    """The gzip payload the head holds or points at, checked against the index.

    Raises :class:`ChunkMissingError` (read the head again) or :class:`StateError`.
    """
    chunks = tuple(str(c) for c in index.get("chunks") or ())
    payload = (
        _read_chunks(cluster, namespace, chunks, str(index.get("generation") or ""), where)
        if chunks
        else _unb64((head.get("data") or {}).get(_INLINE_KEY, ""), where)
    )
    if hashlib.sha256(payload).hexdigest() != index.get("sha256"):
        raise StateError(f"{where}: the state's checksum does not match its index")
    return payload


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
            raise ChunkMissingError(f"chunk {name} is missing")
        annotations = (chunk.get("metadata") or {}).get("annotations") or {}
        if chunk.get("type") != SECRET_TYPE or annotations.get(ANN_GENERATION) != generation:
            raise ChunkMissingError(f"chunk {name} is not of generation {generation}")
        parts.append(_unb64((chunk.get("data") or {}).get(_PART_KEY, ""), f"{where} ({name})"))
    return b"".join(parts)


# --- writing -------------------------------------------------------------------------


def head_secret(
    state: State,
    *,
    namespace: str,
    serial: int,
    payload: bytes,
    generation: str,
    chunks: list[str],
    resource_version: str | None,
    updated: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the head Secret, its index) for ``state`` written as ``serial``.

    Without ``chunks`` the payload goes in the head itself. With ``resource_version``,
    writing the head fails if it changed since.
    """
    index = {
        "format_version": FORMAT_VERSION,
        "stack": state.stack,
        "serial": serial,
        "lineage": state.lineage,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "size": len(payload),
        "generation": generation,
        "chunks": chunks,
    }
    data = {_INDEX_KEY: _b64(json.dumps(index).encode("utf-8"))}
    if not chunks:
        data[_INLINE_KEY] = _b64(payload)
    metadata: dict[str, Any] = {
        "name": head_name(state.stack),
        "namespace": namespace,
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
    if resource_version is not None:
        metadata["resourceVersion"] = resource_version
    head = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": metadata,
        "data": data,
    }
    return head, index


def write_payload(
    cluster: Cluster, *, namespace: str, stack: str, serial: int, payload: bytes, where: str
) -> tuple[str, list[str]]:
    """Write a payload too big for the head as new chunks: (generation, chunk names).

    ("", []) for a payload that fits in the head. Raises :class:`StateError` (the chunks
    written are deleted then).
    """
    if len(payload) <= CHUNK_BYTES:
        return "", []
    generation = f"{serial}-{secrets.token_hex(3)}"
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
        delete_quietly(cluster, namespace, names)
        raise StateError(f"{where}: cannot write the state's chunks: {errors[0]}") from errors[0]
    return generation, names


def delete_quietly(cluster: Cluster, namespace: str, names: Iterable[str]) -> None:
    """Delete chunks, best effort: one left behind is garbage a later write collects."""
    for fut in [cluster.submit(cluster.delete, SECRET, namespace, n, uid=None) for n in names]:
        try:
            fut.result()
        except ClusterError as err:
            log.warning("Secret/%s: could not delete a state chunk: %s", namespace, err)


def collect_garbage(
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
    delete_quietly(cluster, namespace, sorted(doomed))
