"""An apply SIGKILLed at random points leaves a true record: the next plan is consistent."""

from __future__ import annotations

import random
import signal
import subprocess
from typing import TYPE_CHECKING, Any

import pytest
from applylib import actions, resource
from kgitlib import configmap, deployment, namespace, wait_for

from kgit.cluster import CONFIGMAP, NAMESPACE
from kgit.manifests.keys import key_of
from kgit.state.lock import describe_lock
from kgit.state.store import load_state

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

NAMESPACES = 4
CONFIGMAPS = 60
# ConfigMaps per namespace kept by round 3, which prunes the others.
KEPT = 45


def data(number: int, i: int) -> dict[str, str]:
    """ConfigMap ``i``'s data at round ``number``: round 2 drops a key from every one, and
    changes nothing else in every other one (only a dropped field to plan and apply)."""
    if number == 1:
        return {"round": "1", "dropped-in-round-2": "yes"}
    return {"round": "1" if number == 2 and i % 2 == 0 else str(number)}


def generation(unique: str, number: int) -> dict[str, list[dict[str, Any]]]:
    """The stack's files in Git at round ``number``: 1 creates, 2 updates, 3 prunes too."""
    files: dict[str, list[dict[str, Any]]] = {}
    for n in range(NAMESPACES):
        ns = f"{unique}-{n}"
        kept = KEPT if number == 3 else CONFIGMAPS
        added = 10 if number == 3 else 0
        image = "nginx:v1" if number == 1 else "nginx:v2"
        files[f"{ns}.yaml"] = [
            namespace(ns),
            *(configmap(ns, f"cm-{i:03d}", **data(number, i)) for i in range(kept)),
            *(configmap(ns, f"new-{i:03d}", **data(number, i)) for i in range(added)),
            *(deployment(ns, f"web-{i}", image) for i in range(2)),
        ]
    return files


def keys(files: dict[str, list[dict[str, Any]]]) -> set[str]:
    """The object keys of ``files``' manifests."""
    return {
        str(key_of(obj, namespaced=obj["kind"] != "Namespace"))
        for objects in files.values()
        for obj in objects
    }


def changed(cluster: Cluster, ns: str, number: int) -> int:
    """How many of round ``number``'s ConfigMap changes in ``ns`` the cluster shows."""
    live = {
        item["metadata"]["name"]: item.get("data") or {}
        for item in cluster.list_kind(CONFIGMAP, ns)
    }
    if number == 3:
        return sum(f"cm-{i:03d}" not in live for i in range(KEPT, CONFIGMAPS))
    if number == 2:
        return sum("dropped-in-round-2" not in values for values in live.values())
    return len(live)


def kill_midway(stack: Stack, cluster: Cluster, ns: str, number: int, at: int) -> bool:
    """Start ``kgit apply --auto-approve``, SIGKILL it once the cluster shows ``at`` of round
    ``number``'s changes in ``ns``; True if it was still running then."""
    process = subprocess.Popen(
        stack.command("apply", "--auto-approve"),
        cwd=stack.repo.root,
        env=stack.environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(
        lambda: process.poll() is not None or changed(cluster, ns, number) >= at,
        timeout=60,
        what="the kill point",
    )
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return running


def labelled(stack: Stack, cluster: Cluster) -> set[str]:
    """Keys of every object in the cluster that carries the stack's label."""
    found: set[str] = set()
    for kind in (NAMESPACE, CONFIGMAP, resource(cluster, "apps", "Deployment")):
        for obj in cluster.list_kind(kind, label_selector=f"kgit.dev/stack={stack.name}"):
            if not obj["metadata"].get("deletionTimestamp"):
                found.add(str(key_of(obj, namespaced=kind.namespaced)))
    return found


def check_consistent(
    stack: Stack, cluster: Cluster, wanted: set[str], dropped: set[str], context: str
) -> None:
    """The plan after a kill: prunes only what Git dropped, and tracks all it created."""
    plan = actions(stack.plan())
    recorded = {str(key) for key in load_state(cluster, stack.name).state.objects}
    assert "adopt" not in plan.values(), context
    deletes = {key for key, action in plan.items() if action == "delete"}
    assert deletes <= dropped, f"{context}: plans to delete {sorted(deletes - dropped)[:5]}"
    lost = {
        key
        for key in labelled(stack, cluster)
        if key not in recorded and plan.get(key) not in ("create", "update")
    }
    assert not lost, f"{context}: created but not tracked: {sorted(lost)[:5]}"
    missing = {key for key in wanted - recorded if plan.get(key) != "create"}
    assert not missing, f"{context}: in Git, not recorded, not planned: {sorted(missing)[:5]}"


def test_killed_applies_leave_a_true_record(stack: Stack, cluster: Cluster, unique: str) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    stack.repo.commit("empty")
    assert stack.kgit("plan").code == 0  # creates the stack's state, as `terraform init`
    landed = []
    previous: set[str] = set()
    for number in (1, 2, 3):
        files = generation(unique, number)
        for path, objects in files.items():
            stack.write(path, *objects)
        stack.repo.commit(f"round {number}")
        wanted = keys(files)
        assert len(wanted) >= 200

        # Kill at a random point of the round's biggest step: once the cluster shows a
        # random number of its changes in a random namespace (ConfigMaps are applied in
        # key order, namespace by namespace, so any point of the step can be hit).
        ns = f"{unique}-{rng.randrange(NAMESPACES)}"
        at = rng.randrange(1, CONFIGMAPS - KEPT if number == 3 else CONFIGMAPS)
        landed.append(kill_midway(stack, cluster, ns, number, at))
        context = f"round {number}, killed after {at} changes in {ns} (seed {seed})"

        # The dead apply's lock stays until its lease expires; a person frees it.
        holder = describe_lock(cluster, stack.name)
        if holder is not None:
            freed = stack.kgit("force-unlock", holder.lock_id, "--force")
            assert freed.code == 0, freed.output

        check_consistent(stack, cluster, wanted, previous - wanted, context)
        stack.apply()
        assert actions(stack.plan()) == {}, context
        assert labelled(stack, cluster) == wanted, context
        ours = f"kgit.dev/stack={stack.name}"
        for path, objects in files.items():
            in_ns = cluster.list_kind(CONFIGMAP, path.removesuffix(".yaml"), label_selector=ours)
            live = {item["metadata"]["name"]: item["data"] for item in in_ns}
            git = {
                obj["metadata"]["name"]: obj["data"]
                for obj in objects
                if obj["kind"] == "ConfigMap"
            }
            assert live == git, f"{context}: the cluster differs from Git after 'No changes'"
        previous = wanted

    # Most kills must land while the apply ran, or this tested nothing.
    assert sum(landed) >= 2, f"kills landed mid-apply: {landed} (seed {seed})"
