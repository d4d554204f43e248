"""kgit prunes only what carries its stack's label, whatever its recorded state says."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest
from applylib import actions
from kgitlib import configmap, namespace

from kgit.cluster import CONFIGMAP
from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import RecordedObject
from kgit.state.store import load_state, save_state

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_objects_of_others_are_never_deleted(stack: Stack, cluster: Cluster, unique: str) -> None:
    ns = unique
    stack.write("app.yaml", namespace(ns), configmap(ns, "mine", level="1"))
    stack.write("theirs.yaml", configmap(ns, "listed", level="1"))
    stack.repo.commit()
    stack.apply()

    # Made by someone else: no stack label, and another stack's label.
    unlabelled = configmap(ns, "unlabelled", owner="a person")
    other = configmap(ns, "other-stack", owner="another stack")
    other["metadata"]["labels"] = {"kgit.dev/stack": f"{unique}-other"}
    for obj in (unlabelled, other):
        cluster.create(CONFIGMAP, obj)
    # An object kgit applied, then taken over by someone who removed kgit's label.
    cluster.merge_patch(CONFIGMAP, ns, "listed", {"metadata": {"labels": {"kgit.dev/stack": None}}})

    # A tampered (or stale) state claims the foreign objects as the stack's own.
    handle = load_state(cluster, stack.name)
    claimed = dict(handle.state.objects)
    for obj in (unlabelled, other):
        key = ObjectKey("", "ConfigMap", ns, obj["metadata"]["name"])
        claimed[key] = RecordedObject(key, obj, uid="forged")
    save_state(cluster, handle, dataclasses.replace(handle.state, objects=claimed))

    # Git no longer lists any of them.
    stack.repo.remove("theirs.yaml")
    stack.repo.commit("only mine")
    plan = stack.plan()
    foreign = {f"/ConfigMap/{ns}/{name}" for name in ("unlabelled", "other-stack", "listed")}
    assert {k: a for k, a in actions(plan).items() if k in foreign} == dict.fromkeys(
        foreign, "forget"
    )
    assert any("no longer labelled" in w for w in plan["warnings"])

    done = stack.apply()
    assert ": deleted" not in done.stdout
    assert "0 added, 0 changed, 0 deleted." in done.stdout
    for name in ("unlabelled", "other-stack", "listed", "mine"):
        assert cluster.get(CONFIGMAP, ns, name) is not None, name
    recorded = load_state(cluster, stack.name).state.objects
    assert {k.name for k in recorded if k.kind == "ConfigMap"} == {"mine"}
    assert actions(stack.plan()) == {}
