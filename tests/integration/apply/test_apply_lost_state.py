"""A lost state never orphans objects: a new state is refused while objects carry the
stack's label, `kgit state recover` records them again, `kgit state list --orphans` finds
them (issue 11, finding 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from applylib import actions
from kgitlib import configmap, namespace, run_kgit

from kgit.cluster import CONFIGMAP, SECRET
from kgit.state.chunks import head_name
from kgit.state.store import STATE_NAMESPACE, load_state

if TYPE_CHECKING:
    from applylib import Stack
    from kgitlib import Run

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def list_orphans(stack: Stack) -> Run:
    """``kgit state list --orphans --format json`` (every stack's orphans)."""
    done = run_kgit(
        "state",
        "list",
        "--orphans",
        "--format",
        "json",
        kubeconfig=stack.kubeconfig,
        cwd=stack.repo.root,
    )
    assert done.code == 0, done.output
    return done


def test_a_lost_state_is_refused_then_recovered(stack: Stack, cluster: Cluster) -> None:
    ns = stack.name
    stack.write("ns.yaml", namespace(ns))
    stack.write("a.yaml", configmap(ns, "a", level="1"))
    stack.write("b.yaml", configmap(ns, "b", level="1"))
    stack.repo.commit()
    stack.apply()
    cluster.delete(SECRET, STATE_NAMESPACE, head_name(stack.name), uid=None)

    refused = stack.kgit("plan")
    assert refused.code == 1, refused.output
    assert (
        f"stack {stack.name} has 3 labelled objects but no recorded state (lost or in another "
        "namespace?): run `kgit state recover`"
    ) in refused.stderr
    # Refused before anything was written: still no state.
    assert not load_state(cluster, stack.name).exists

    orphans = list_orphans(stack)
    mine = [o for o in orphans.json() if o["stack"] == stack.name]
    assert mine == [
        {
            "stack": stack.name,
            "objects": [f"/ConfigMap/{ns}/a", f"/ConfigMap/{ns}/b", f"/Namespace//{ns}"],
        }
    ]

    recovered = stack.kgit("state", "recover")
    assert recovered.code == 0, recovered.output
    assert f"Recovered 3 object(s) into the state of stack {stack.name}" in recovered.stdout
    state = load_state(cluster, stack.name).state
    live = cluster.get(CONFIGMAP, ns, "a")
    assert live is not None
    assert (
        state.objects[next(k for k in state.objects if k.name == "a")].uid
        == live["metadata"]["uid"]
    )
    assert [o for o in list_orphans(stack).json() if o["stack"] == stack.name] == []

    # Nothing changed since: no changes. Then one ConfigMap leaves Git: it is pruned.
    assert stack.kgit("plan", "--detailed-exitcode").code == 0
    stack.repo.remove("b.yaml")
    stack.repo.commit("drop b")
    assert actions(stack.plan()) == {f"/ConfigMap/{ns}/b": "delete"}
    stack.apply()
    assert cluster.get(CONFIGMAP, ns, "b") is None


def test_a_new_stack_is_not_mistaken_for_a_lost_one(stack: Stack) -> None:
    stack.write("ns.yaml", namespace(stack.name))
    stack.repo.commit()
    assert actions(stack.plan()) == {f"/Namespace//{stack.name}": "create"}
