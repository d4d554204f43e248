"""The state document: a :class:`State` as gzip-compressed JSON, and back.

How the bytes are kept in the cluster (one Secret, or a head and chunks) is
:mod:`kgit.state.chunks`'s business.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import json
import threading
import zlib
from collections.abc import Mapping

from kgit.errors import StateError
from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import RecordedObject
from kgit.state.model import FORMAT_VERSION, HISTORY_LIMIT, HistoryEntry, SourceRecord, State


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
        "source": dataclasses.asdict(state.source),
    }
    head = json.dumps(doc, separators=(",", ":"), default=_json_default)
    text = f'{head[:-1]},"objects":{_objects_json(state.objects)}}}'
    # mtime=0: the same state always compresses to the same bytes. Level 3 is about as
    # small as 6 on manifests (~5%) at under half the time, and large states are
    # written often (the apply journal).
    return gzip.compress(text.encode("utf-8"), compresslevel=3, mtime=0)


def _source_record(doc: dict[str, object]) -> SourceRecord:
    """The ``source`` of a state document; empty in a state older than it."""
    roots, paths = doc.get("roots") or [], doc.get("paths") or []
    if not isinstance(roots, list) or not isinstance(paths, list):
        raise TypeError("source.roots and source.paths must be arrays")
    return SourceRecord(
        url=str(doc.get("url") or ""),
        roots=tuple(str(r) for r in roots),
        paths=tuple(str(p) for p in paths),
    )


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
            source=_source_record(doc.get("source") or {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as err:
        raise StateError(f"{where}: the state is malformed: {err!r}") from err
