"""Objects kgit must delete and re-create (--allow-replace), or take over (--adopt)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from applylib import actions, resource
from kgitlib import configmap, deployment, namespace

from kgit.cluster import CONFIGMAP

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def test_replace_needs_allow_replace_and_recreates(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    ns = unique
    deployments = resource(cluster, "apps", "Deployment")
    stack.write("app.yaml", namespace(ns), deployment(ns, "web", app="web"))
    stack.repo.commit()
    stack.apply()
    before = cluster.get(deployments, ns, "web")
    assert before is not None

    # A Deployment's selector is immutable: only a delete and a create can change it.
    stack.write("app.yaml", namespace(ns), deployment(ns, "web", app="web-v2"))
    stack.repo.commit("new selector")
    plan = stack.plan()
    key = f"apps/Deployment/{ns}/web"
    assert actions(plan) == {key: "replace"}
    assert any("spec.selector" in r.get("paths", []) for r in plan["changes"][0]["reasons"])

    refused = stack.kgit("apply", "--auto-approve")
    assert refused.code == 1, refused.output
    assert f"Deployment/{ns}/web: must be replaced" in refused.stderr
    assert "--allow-replace" in refused.stderr
    still = cluster.get(deployments, ns, "web")
    assert still is not None
    assert still["metadata"]["uid"] == before["metadata"]["uid"]

    done = stack.apply("--allow-replace")
    assert f"Deployment/{ns}/web: replaced" in done.stdout
    assert "Apply complete! Resources: 1 added, 0 changed, 1 deleted." in done.stdout
    after = cluster.get(deployments, ns, "web")
    assert after is not None
    assert after["metadata"]["uid"] != before["metadata"]["uid"]
    assert after["spec"]["selector"] == {"matchLabels": {"app": "web-v2"}}
    assert actions(stack.plan()) == {}


def test_adopt_takes_over_kubectl_applied_objects(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    ns = unique
    stack.write("ns.yaml", namespace(ns))
    stack.repo.commit()
    stack.apply()

    # Made by `kubectl apply` (client-side): its manager and last-applied annotation.
    legacy = configmap(ns, "legacy", a="1", b="2")
    legacy["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(legacy)}
    cluster.create(CONFIGMAP, legacy, field_manager="kubectl-client-side-apply")

    stack.write("legacy.yaml", configmap(ns, "legacy", a="1", b="2"))
    stack.repo.commit("take over legacy")
    assert actions(stack.plan()) == {f"/ConfigMap/{ns}/legacy": "adopt"}
    refused = stack.kgit("apply", "--auto-approve")
    assert refused.code == 1, refused.output
    assert "--adopt" in refused.stderr

    done = stack.apply("--adopt")
    assert f"ConfigMap/{ns}/legacy: adopted" in done.stdout
    live = cluster.get(CONFIGMAP, ns, "legacy")
    assert live is not None
    managers = {entry["manager"] for entry in live["metadata"]["managedFields"]}
    assert managers == {"kgit"}
    assert LAST_APPLIED not in (live["metadata"].get("annotations") or {})
    assert live["metadata"]["labels"]["kgit.dev/stack"] == stack.name

    # kgit alone owns the fields now: a key removed from Git leaves the cluster too.
    stack.write("legacy.yaml", configmap(ns, "legacy", a="1"))
    stack.repo.commit("drop b")
    stack.apply()
    live = cluster.get(CONFIGMAP, ns, "legacy")
    assert live is not None
    assert live["data"] == {"a": "1"}
    assert actions(stack.plan()) == {}
