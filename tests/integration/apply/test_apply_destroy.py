"""`kgit destroy`: every object the stack owns (recorded, or only labelled) deleted in
reverse order, then its state, lock and status; stored as a plan for `kgit apply PLAN`
(issue 11, finding 8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from kgitlib import configmap, namespace, run_kgit

from kgit.cluster import CONFIGMAP, LEASE, NAMESPACE, SECRET
from kgit.state.chunks import head_name
from kgit.state.store import STATE_NAMESPACE

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def records_left(cluster: Cluster, stack: str) -> list[str]:
    """The stack's state Secret and Lease, if still there."""
    found = [
        cluster.get(SECRET, STATE_NAMESPACE, head_name(stack)),
        cluster.get(LEASE, STATE_NAMESPACE, f"kgit-lock-{stack}"),
    ]
    return [obj["metadata"]["name"] for obj in found if obj is not None]


def test_destroy(stack: Stack, cluster: Cluster) -> None:
    ns = stack.name
    stack.write("app.yaml", namespace(ns), configmap(ns, "a", level="1"))
    stack.write("b.yaml", configmap(ns, "b", level="1"))
    stack.repo.commit()
    stack.apply()

    # A stored destroy plan, reviewed, then applied by `kgit apply PLAN`.
    stored = stack.kgit("destroy", "--out", "plans/destroy.json", "--format", "json")
    assert stored.code == 0, stored.output
    plan = stored.json()
    assert plan["options"]["destroy"] is True
    assert [(c["key"], c["action"]) for c in plan["changes"]] == [
        (f"/ConfigMap/{ns}/a", "delete"),
        (f"/ConfigMap/{ns}/b", "delete"),
        (f"/Namespace//{ns}", "delete"),
    ]
    shown = run_kgit("show", "plans/destroy.json", kubeconfig=stack.kubeconfig, cwd=stack.repo.root)
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in shown.stdout
    done = stack.kgit("apply", "plans/destroy.json", "--wait")
    assert done.code == 0, done.output
    assert done.stdout.index(f"ConfigMap/{ns}/a: deleted") < done.stdout.index(
        f"Namespace/{ns}: deleted"
    )
    assert "Destroy complete! Resources: 3 destroyed." in done.stdout
    assert cluster.get(NAMESPACE, None, ns) is None
    assert records_left(cluster, stack.name) == []

    # Nothing left: said so.
    empty = stack.kgit("destroy", "--auto-approve")
    assert empty.code == 0, empty.output
    assert f"No objects to destroy: stack {stack.name} owns none." in empty.stdout

    # With its state lost, the stack's objects are still found by their label.
    stack.apply()
    cluster.delete(SECRET, STATE_NAMESPACE, head_name(stack.name), uid=None)
    done = stack.kgit("destroy", "--auto-approve")
    assert done.code == 0, done.output
    assert "Plan: 0 to add, 0 to change, 3 to destroy." in done.stdout
    assert "Destroy complete! Resources: 3 destroyed." in done.stdout
    left = cluster.get(NAMESPACE, None, ns)
    assert left is None or left["metadata"].get("deletionTimestamp")
    assert records_left(cluster, stack.name) == []


def test_destroy_keeps_what_the_stack_does_not_own(stack: Stack, cluster: Cluster) -> None:
    ns = stack.name
    stack.write("app.yaml", namespace(ns), configmap(ns, "a", level="1"))
    stack.repo.commit()
    stack.apply()
    cluster.create(CONFIGMAP, configmap(ns, "handmade", owner="a person"))
    refused = stack.kgit("destroy", "--auto-approve")
    assert refused.code == 1, refused.output
    assert (
        f"Namespace/{ns}: deleting it would also delete 1 object not owned by this stack "
        f"(ConfigMap/{ns}/handmade)" in refused.stderr
    )
    assert cluster.get(CONFIGMAP, ns, "a") is not None
    done = stack.kgit("destroy", "--auto-approve", "--allow-cascade")
    assert done.code == 0, done.output
    assert (
        "Plan: 0 to add, 0 to change, 2 to destroy (and 1 object not owned by this stack "
        f"deleted with Namespace/{ns})." in done.stdout
    )
