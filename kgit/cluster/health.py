"""Waiting for objects to be healthy: poll them, and gather the evidence of a failure.

The decisions are :mod:`kgit.health`'s (pure); this module only reads. Each poll GETs
the objects not yet Current, concurrently on the Cluster's pool; at the end, for those
still not Current, one LIST of Pods, ReplicaSets and Events per namespace gives the
evidence (``pod web-7d9…: ImagePullBackOff (nginx:v3)``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kgit.cluster.errors import UnknownKindError
from kgit.errors import ClusterError
from kgit.health import Health, Status, compute_evidence, compute_health
from kgit.health.wait import (
    HealthReport,
    ObjectHealth,
    WaitOutcome,
    await_first_status,
    decide_wait,
)

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable, Mapping

    from kgit.cluster.client import Cluster
    from kgit.manifests.keys import ObjectKey

POLL_INTERVAL = 1.0
# Owners whose children's events explain their pods (a ReplicaSet that cannot create pods).
_CHILD_KINDS = (("apps", "ReplicaSet"),)


def read_health(
    cluster: Cluster, keys: Iterable[ObjectKey]
) -> dict[ObjectKey, tuple[Health, dict[str, Any] | None]]:
    """Each object's health now, with the object as read (None when it does not exist).

    A kind the server does not serve, or a read that fails, is Unknown (saying why).
    """
    futures = {key: cluster.submit(_read, cluster, key) for key in dict.fromkeys(keys)}
    found: dict[ObjectKey, tuple[Health, dict[str, Any] | None]] = {}
    for key, future in futures.items():
        try:
            obj = future.result()
        except ClusterError as err:
            found[key] = (Health(Status.UNKNOWN, "ReadFailed", f"cannot be read: {err}"), None)
        else:
            found[key] = (compute_health(obj), obj)
    return found


def _read(cluster: Cluster, key: ObjectKey) -> dict[str, Any] | None:
    resource = cluster.resources().lookup(key.group, key.kind)
    if resource is None:
        raise UnknownKindError(
            f"{key.kind}: the cluster does not serve this kind", group=key.group, kind=key.kind
        )
    return cluster.get(resource, key.namespace or None, key.name, quick=True)


def observe_health(
    cluster: Cluster, keys: Iterable[ObjectKey]
) -> list[tuple[ObjectHealth, dict[str, Any] | None]]:
    """Each object's health now (no waiting), with the evidence for those not Current,
    and the object as read (None when it does not exist), in the order of ``keys``."""
    wanted = list(dict.fromkeys(keys))
    seen = read_health(cluster, wanted)
    objects = _with_evidence(cluster, [(k, *seen[k]) for k in wanted])
    return [(health, seen[key][1]) for key, health in zip(wanted, objects, strict=True)]


def wait_healthy(
    cluster: Cluster,
    keys: Iterable[ObjectKey],
    timeout: float,
    *,
    progress: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    poll: float = POLL_INTERVAL,
) -> HealthReport:
    """Poll ``keys`` until every one is Current, one is Failed, ``timeout`` seconds pass
    or ``stop`` is set; the report names each object's health and, for those not
    Current, the evidence of their pods and events.

    ``progress`` receives a line each time an object's health message changes while it
    is not Current (``Deployment/web/nginx: 1 of 2 updated replicas available``).
    Never raises for an object: what cannot be read is Unknown.
    """
    wanted = list(dict.fromkeys(keys))
    started = time.monotonic()
    deadline = started + timeout
    seen: dict[ObjectKey, tuple[Health, dict[str, Any] | None]] = {}
    told: dict[ObjectKey, str] = {}
    while True:
        waited = time.monotonic() - started
        read = read_health(cluster, [k for k in wanted if _not_current(seen.get(k))])
        seen |= {k: (await_first_status(obj, h, waited), obj) for k, (h, obj) in read.items()}
        for key in wanted:
            health = seen[key][0]
            if progress is not None and health.status is not Status.CURRENT:
                if told.get(key) != health.message:
                    progress(f"{key.subject}: {health.message}")
                told[key] = health.message
        outcome = decide_wait(seen[k][0] for k in wanted)
        if outcome is None and stop is not None and stop.is_set():
            outcome = WaitOutcome.INTERRUPTED
        if outcome is None and time.monotonic() >= deadline:
            outcome = WaitOutcome.TIMED_OUT
        if outcome is not None:
            objects = _with_evidence(cluster, [(k, *seen[k]) for k in wanted])
            return HealthReport(outcome, objects, time.monotonic() - started)
        pause = min(poll, max(0.0, deadline - time.monotonic()))
        if stop is not None:
            stop.wait(pause)
        else:
            time.sleep(pause)


def _not_current(seen: tuple[Health, dict[str, Any] | None] | None) -> bool:
    return seen is None or seen[0].status is not Status.CURRENT


def _with_evidence(
    cluster: Cluster, seen: list[tuple[ObjectKey, Health, dict[str, Any] | None]]
) -> tuple[ObjectHealth, ...]:
    """Each object's health, with its pods' and events' evidence when it is not Current."""
    troubled = {key.namespace for key, health, obj in seen if obj and _needs_evidence(health)}
    around = {ns: _namespace_evidence(cluster, ns) for ns in sorted(troubled) if ns}
    healths = []
    for key, health, obj in seen:
        evidence = ""
        if obj is not None and key.namespace in around and _needs_evidence(health):
            pods, events, children = around[key.namespace]
            owned = [c for c in children if _owned_by(c, obj)]
            evidence = compute_evidence(obj, pods, events, children=owned).summary()
        healths.append(ObjectHealth(key.subject, health, evidence))
    return tuple(healths)


def _needs_evidence(health: Health) -> bool:
    return health.status in (Status.FAILED, Status.IN_PROGRESS, Status.UNKNOWN)


def _namespace_evidence(
    cluster: Cluster, namespace: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Pods, Events and child ReplicaSets of one namespace; empty lists if unreadable
    (the evidence is a help, never a reason to fail the wait's report)."""
    lists = []
    for group, kind in (("", "Pod"), ("", "Event"), *_CHILD_KINDS):
        resource = cluster.resources().lookup(group, kind)
        try:
            lists.append(cluster.list_kind(resource, namespace) if resource else [])
        except ClusterError:
            lists.append([])
    pods, events, children = lists
    return pods, events, children


def _owned_by(child: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    refs = (child.get("metadata") or {}).get("ownerReferences") or []
    return bool(uid) and any(ref.get("uid") == uid for ref in refs)
