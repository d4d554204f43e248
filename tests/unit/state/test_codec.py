"""The state's encoding: deterministic, and right when the journal re-encodes it batch by batch."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest

from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import RecordedObject
from kgit.state.codec import decode_state, encode_state
from kgit.state.model import SourceRecord, new_state

pytestmark = pytest.mark.unit


def record(name: str, value: str, namespace: str = "web") -> RecordedObject:
    key = ObjectKey("", "ConfigMap", namespace, name)
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": value},
    }
    return RecordedObject(key, obj, uid=f"uid-{name}")


def test_repeated_writes_with_changed_records_read_back_exactly() -> None:
    state = new_state("web")
    state.objects = {r.key: r for r in (record(f"c{i}", "one") for i in range(50))}
    first = encode_state(state, 1)
    assert encode_state(state, 1) == first  # the same state, the same bytes

    # As the apply journal does: a few records replaced, one added, one dropped.
    objects = dict(state.objects)
    changed = objects[ObjectKey("", "ConfigMap", "web", "c7")]
    objects[changed.key] = dataclasses.replace(changed, pending=True, obj={"data": "two"})
    added = record("new", "three", namespace="api")
    objects[added.key] = added
    del objects[ObjectKey("", "ConfigMap", "web", "c9")]
    state.objects = objects

    decoded = decode_state(encode_state(state, 2), "test")
    assert decoded.objects == objects
    assert decoded.serial == 2
    assert list(decoded.objects) == sorted(objects)


def test_the_source_record_round_trips_and_an_older_state_reads_without_it() -> None:
    state = new_state("web")
    state.source = SourceRecord(url="https://git.example/r.git", roots=("a" * 40,), paths=("k",))
    assert decode_state(encode_state(state, 1), "test").source == state.source

    doc = json.loads(gzip.decompress(encode_state(state, 1)))
    del doc["source"]
    older = gzip.compress(json.dumps(doc).encode())
    assert decode_state(older, "test").source == SourceRecord()
