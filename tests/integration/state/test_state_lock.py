"""The stack lock as a real Lease: contention, renewal, expiry takeover, force-unlock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from kgit.cluster import LEASE
from kgit.errors import LockError
from kgit.state import acquire, describe_lock, force_unlock

if TYPE_CHECKING:
    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def dead_holders_lease(
    cluster: Cluster, namespace: str, stack: str, *, renewed_ago: float, duration: int
) -> None:
    """The Lease a holder leaves behind when it crashes: nobody renews it any more."""
    renewed = (datetime.now(UTC) - timedelta(seconds=renewed_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    cluster.create(
        LEASE,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": f"kgit-lock-{stack}",
                "namespace": namespace,
                "annotations": {"kgit.dev/lock-id": "dead-id", "kgit.dev/lock-who": "ghost@gone/1"},
            },
            "spec": {
                "holderIdentity": "ghost@gone/1 dead-id",
                "leaseDurationSeconds": duration,
                "acquireTime": renewed,
                "renewTime": renewed,
                "leaseTransitions": 0,
            },
        },
    )


def test_acquire_describe_release(cluster: Cluster, namespace: str, unique: str) -> None:
    assert describe_lock(cluster, unique, namespace) is None
    with acquire(cluster, unique, namespace, who="alice@laptop/42", operation="apply") as lock:
        info = describe_lock(cluster, unique, namespace)
        assert info is not None
        assert (info.who, info.lock_id, info.operation) == (
            "alice@laptop/42",
            lock.lock_id,
            "apply",
        )
        assert not info.expired and info.duration == 60
        lease = cluster.get(LEASE, namespace, f"kgit-lock-{unique}")
        assert lease is not None
        assert lease["spec"]["holderIdentity"] == f"alice@laptop/42 {lock.lock_id}"
    assert describe_lock(cluster, unique, namespace) is None
    assert cluster.get(LEASE, namespace, f"kgit-lock-{unique}") is None
    lock.release()  # idempotent


def test_the_lease_namespace_is_created_when_missing(cluster: Cluster, unique: str) -> None:
    from kgit.cluster import NAMESPACE

    namespace = f"{unique}-fresh"
    try:
        with acquire(cluster, unique, namespace, who="a@b/1"):
            assert describe_lock(cluster, unique, namespace) is not None
    finally:
        cluster.delete(NAMESPACE, None, namespace, uid=None)


def test_contention_times_out_naming_the_holder(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    with acquire(cluster, unique, namespace, who="alice@laptop/42") as held:
        started = time.monotonic()
        with pytest.raises(LockError) as caught:
            acquire(cluster, unique, namespace, timeout=0.6, who="bob@ci/7")
        assert time.monotonic() - started >= 0.6
        message = str(caught.value)
        assert message.startswith(f"Lease/{namespace}/kgit-lock-{unique}: ")
        assert "alice@laptop/42" in message and f"kgit force-unlock {held.lock_id}" in message
        assert "since 20" in message


def test_a_held_lock_is_renewed_and_not_taken(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    with acquire(cluster, unique, namespace, who="alice@laptop/42", duration=1) as held:
        first = describe_lock(cluster, unique, namespace)
        time.sleep(2.2)  # twice the lease: only renewals keep it
        with pytest.raises(LockError, match="alice@laptop/42"):
            acquire(cluster, unique, namespace, timeout=0, who="bob@ci/7")
        later = describe_lock(cluster, unique, namespace)
        assert first is not None and later is not None
        assert later.renewed > first.renewed and later.lock_id == held.lock_id
        assert not held.lost
        held.check()


def test_an_expired_lease_is_taken_over(cluster: Cluster, namespace: str, unique: str) -> None:
    dead_holders_lease(cluster, namespace, unique, renewed_ago=3600, duration=60)
    with acquire(cluster, unique, namespace, timeout=0, who="bob@ci/7") as lock:
        lease = cluster.get(LEASE, namespace, f"kgit-lock-{unique}")
        assert lease is not None
        assert lease["spec"]["leaseTransitions"] == 1
        assert lease["metadata"]["annotations"]["kgit.dev/lock-id"] == lock.lock_id


def test_a_crashed_holders_lease_lapses_while_waiting(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    dead_holders_lease(cluster, namespace, unique, renewed_ago=0, duration=1)
    started = time.monotonic()
    with acquire(cluster, unique, namespace, timeout=10, who="bob@ci/7"):
        waited = time.monotonic() - started
    assert 0.5 < waited < 5


def test_force_unlock_needs_the_holders_id_and_the_holder_learns_it_lost(
    cluster: Cluster, namespace: str, unique: str
) -> None:
    with pytest.raises(LockError, match="is not locked"):
        force_unlock(cluster, unique, namespace, "anything")
    lock = acquire(cluster, unique, namespace, who="alice@laptop/42", duration=1)
    try:
        with pytest.raises(LockError, match=r"lock ID 'wrong' does not match .*alice@laptop/42"):
            force_unlock(cluster, unique, namespace, "wrong")
        assert describe_lock(cluster, unique, namespace) is not None
        removed = force_unlock(cluster, unique, namespace, lock.lock_id)
        assert removed.who == "alice@laptop/42"
        assert describe_lock(cluster, unique, namespace) is None
        deadline = time.monotonic() + 5
        while not lock.lost and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lock.lost
        with pytest.raises(LockError, match="was lost"):
            lock.check()
    finally:
        lock.release()
    # The lost holder's release left the lock free for the next one.
    with acquire(cluster, unique, namespace, timeout=0, who="bob@ci/7"):
        pass
