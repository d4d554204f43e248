"""The recorded state in real Secrets: round trip, conditional writes, chunking, corruption."""

from __future__ import annotations

import base64
import gzip
import json
import random
import string
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from kgit.cluster import SECRET
from kgit.errors import StateError
from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import RecordedObject
from kgit.state import (
    HistoryEntry,
    list_stacks,
    load_state,
    remove_objects,
    save_state,
)
from kgit.state.chunks import CHUNK_BYTES, LABEL_ROLE, LABEL_STACK

if TYPE_CHECKING:
    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def record(obj: dict[str, Any]) -> RecordedObject:
    meta = obj["metadata"]
    group = obj["apiVersion"].rpartition("/")[0]
    key = ObjectKey(group, obj["kind"], meta.get("namespace", ""), meta["name"])
    return RecordedObject(key, obj, uid=str(uuid.uuid4()), applied_at="2026-01-02T03:04:05Z")


def deployment(rnd: random.Random, i: int) -> dict[str, Any]:
    """A realistic Deployment manifest of about 1.5 KB, with strings gzip cannot fold away."""

    def word(n: int) -> str:
        return "".join(rnd.choices(string.ascii_lowercase + string.digits, k=n))

    name = f"svc-{word(6)}-{i}"
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": f"team-{i % 40}",
            "labels": {"app": name, "kgit.dev/stack": "big", "team": word(8)},
            "annotations": {
                "kgit.dev/source": f"apps/{word(10)}.yaml@{word(40)}",
                "owner": f"{word(8)}@example.com",
            },
        },
        "spec": {
            "replicas": rnd.randint(1, 5),
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "version": word(7)}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": f"registry.example.com/{word(12)}:{word(10)}",
                            "args": [f"--token-file=/var/run/{word(16)}", f"--config={word(24)}"],
                            "env": [
                                {"name": f"VAR_{word(5).upper()}", "value": word(24)}
                                for _ in range(8)
                            ],
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def configmap(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
    }


def test_missing_state_is_new_and_round_trips(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    handle = load_state(cluster, unique, namespace)
    assert not handle.exists and handle.serial == 0 and handle.state.serial == 0
    state = handle.state
    assert len(state.hmac_key) == 32 and uuid.UUID(state.lineage).version == 4
    assert "hmac_key" not in repr(state)
    cm = record(configmap("apps", "settings"))
    state.objects[cm.key] = cm
    state.commit = "a" * 40
    state.history.append(
        HistoryEntry(
            1, "sha256:plan", "a" * 40, "ci@runner/1", "2026-01-02T03:04:05Z", 1, 0, 0, "applied"
        )
    )
    written = save_state(cluster, handle, state)
    assert written.serial == 1 and state.serial == 1 and written.exists

    again = load_state(cluster, unique, namespace)
    assert again.serial == 1 and again.resource_version == written.resource_version
    assert again.state.lineage == state.lineage and again.state.hmac_key == state.hmac_key
    assert again.state.objects == {cm.key: cm}
    assert again.state.history == state.history and again.state.commit == "a" * 40

    third = save_state(cluster, again, again.state)
    assert third.serial == 2
    [info] = [s for s in list_stacks(cluster, namespace) if s.stack == unique]
    assert (info.serial, info.lineage, info.objects) == (2, state.lineage, 1)


def test_a_concurrent_writer_gets_state_changed(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    # Two writers of a brand-new stack: the second create must fail, not overwrite.
    first, second = load_state(cluster, unique, namespace), load_state(cluster, unique, namespace)
    save_state(cluster, first, first.state)
    with pytest.raises(StateError, match=r"state changed since it was read \(serial 0\)"):
        save_state(cluster, second, second.state)
    # Two writers of an existing one: the second update must fail.
    one, two = load_state(cluster, unique, namespace), load_state(cluster, unique, namespace)
    cm = record(configmap("apps", "one"))
    one.state.objects[cm.key] = cm
    save_state(cluster, one, one.state)
    with pytest.raises(StateError, match=r"state changed since it was read \(serial 1\)") as caught:
        save_state(cluster, two, two.state)
    assert str(caught.value).startswith(f"Secret/{namespace}/kgit-state.{unique}: ")
    assert two.state.serial == 1  # untouched by the refused write
    assert load_state(cluster, unique, namespace).state.objects == {cm.key: cm}


def test_ten_thousand_objects_are_chunked_and_round_trip(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    rnd = random.Random(1)
    handle = load_state(cluster, unique, namespace)
    for i in range(10_000):
        rec = record(deployment(rnd, i))
        handle.state.objects[rec.key] = rec
    size = sum(len(json.dumps(r.obj)) for r in handle.state.objects.values()) / 10_000
    assert 1300 < size < 1800

    started = time.monotonic()
    big = save_state(cluster, handle, handle.state)
    saved_in = time.monotonic() - started
    assert len(big.chunks) >= 2
    for name in big.chunks:
        chunk = cluster.get(SECRET, namespace, name)
        assert chunk is not None
        assert len(base64.b64decode(chunk["data"]["part"])) <= CHUNK_BYTES

    started = time.monotonic()
    loaded = load_state(cluster, unique, namespace)
    loaded_in = time.monotonic() - started
    assert loaded.state.objects == handle.state.objects
    assert loaded.chunks == big.chunks and loaded.serial == 1
    assert saved_in < 10 and loaded_in < 10, (saved_in, loaded_in)

    # Leftovers of a writer that crashed between its chunks and its head: one written
    # for a serial the head has passed (garbage), one for a later serial (in flight).
    for serial, name in (
        (1, f"kgit-state.{unique}.1-dead00.1"),
        (9, f"kgit-state.{unique}.9-live00.1"),
    ):
        cluster.create(
            SECRET,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kgit.dev/state",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {LABEL_STACK: unique, LABEL_ROLE: "chunk"},
                    "annotations": {"kgit.dev/chunk-serial": str(serial)},
                },
            },
        )
    # Shrinking back to one Secret deletes the old chunks and the garbage only.
    keep = sorted(loaded.state.objects)[:10]
    loaded.state.objects = {k: loaded.state.objects[k] for k in keep}
    small = save_state(cluster, loaded, loaded.state)
    assert small.chunks == ()
    for name in big.chunks:
        assert cluster.get(SECRET, namespace, name) is None
    assert cluster.get(SECRET, namespace, f"kgit-state.{unique}.1-dead00.1") is None
    assert cluster.get(SECRET, namespace, f"kgit-state.{unique}.9-live00.1") is not None
    assert list(load_state(cluster, unique, namespace).state.objects) == keep


def put_head(
    cluster: Cluster, namespace: str, stack: str, data: dict[str, bytes], type_: str
) -> None:
    cluster.create(
        SECRET,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": type_,
            "metadata": {"name": f"kgit-state.{stack}", "namespace": namespace},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
        },
    )


def index(payload: bytes, version: int = 1) -> bytes:
    import hashlib

    return json.dumps(
        {
            "format_version": version,
            "serial": 1,
            "sha256": hashlib.sha256(payload).hexdigest(),
            "chunks": [],
        }
    ).encode()


def test_corrupted_or_foreign_secrets_are_named_errors(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    cases: dict[str, tuple[dict[str, bytes], str, str]] = {
        f"{unique}-foreign": ({"index.json": b"{}"}, "Opaque", "not a kgit state"),
        f"{unique}-gzip": (
            {"index.json": index(b"junk"), "state.json.gz": b"junk"},
            "kgit.dev/state",
            "not valid gzip",
        ),
        f"{unique}-json": (
            {
                "index.json": index(gzip.compress(b"{nope")),
                "state.json.gz": gzip.compress(b"{nope"),
            },
            "kgit.dev/state",
            "not valid JSON",
        ),
        f"{unique}-version": (
            {"index.json": index(b"", version=99)},
            "kgit.dev/state",
            "format version 99",
        ),
        f"{unique}-index": (
            {"index.json": b"[not json"},
            "kgit.dev/state",
            "index.json is not valid JSON",
        ),
    }
    for stack, (data, type_, _) in cases.items():
        put_head(cluster, namespace, stack, data, type_)
    for stack, (_, _, message) in cases.items():
        with pytest.raises(StateError, match=message) as caught:
            load_state(cluster, stack, namespace)
        assert str(caught.value).startswith(f"Secret/{namespace}/kgit-state.{stack}: ")
    # Never overwritten: the foreign Secret is as it was.
    foreign = cluster.get(SECRET, namespace, f"kgit-state.{unique}-foreign")
    assert foreign is not None and foreign["type"] == "Opaque"


def test_secret_values_are_refused_digests_accepted(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    handle = load_state(cluster, unique, namespace)
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "apps"},
        "data": {"password": base64.b64encode(b"hunter2").decode()},
    }
    rec = record(secret)
    handle.state.objects[rec.key] = rec
    with pytest.raises(StateError, match=r"^Secret/apps/db: refusing to record a Secret value"):
        save_state(cluster, handle, handle.state)
    assert cluster.get(SECRET, namespace, f"kgit-state.{unique}") is None
    secret["data"] = {"password": handle.state.digest(b"hunter2")}
    handle.state.objects[rec.key] = record(secret)
    save_state(cluster, handle, handle.state)
    stored = load_state(cluster, unique, namespace).state
    assert stored.objects[rec.key].obj["data"]["password"].startswith("hmac-sha256:")
    assert stored.digest(b"hunter2") == secret["data"]["password"]


def test_remove_objects_forgets_only_known_keys(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    handle = load_state(cluster, unique, namespace)
    records = [record(configmap("apps", f"cm{i}")) for i in range(3)]
    handle.state.objects.update({r.key: r for r in records})
    handle = save_state(cluster, handle, handle.state)
    missing = ObjectKey("", "ConfigMap", "apps", "absent")
    with pytest.raises(StateError, match="not in the state: /ConfigMap/apps/absent"):
        remove_objects(cluster, handle, [records[0].key, missing])
    after = remove_objects(cluster, handle, [records[0].key], who="me@host/1")
    assert after.serial == 2 and set(after.state.objects) == {records[1].key, records[2].key}
    assert set(handle.state.objects) == {r.key for r in records}  # the read copy is untouched
    loaded = load_state(cluster, unique, namespace)
    assert set(loaded.state.objects) == {records[1].key, records[2].key}
    assert loaded.state.history[-1].who == "me@host/1"
    assert loaded.state.history[-1].serial == 2


def test_invalid_stack_names_are_refused(cluster: Cluster, namespace: str) -> None:
    for bad in ("Upper", "has.dot", "-dash", "x" * 64, ""):
        with pytest.raises(StateError, match="not a valid stack name"):
            load_state(cluster, bad, namespace)
