"""Objects kgit must delete and re-create (--allow-replace), or take over (--adopt, and
--take-over-from another stack)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from applylib import Stack, actions, resource
from kgitlib import GitRepo, configmap, deployment, namespace

from kgit.cluster import CONFIGMAP

if TYPE_CHECKING:
    from pathlib import Path

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


def test_another_stacks_object_moves_only_by_take_over_from(
    stack: Stack, cluster: Cluster, unique: str, kubeconfig: str, tmp_path: Path
) -> None:
    ns = unique
    a, b = stack, Stack(f"{unique}-b", GitRepo(tmp_path / "b"), kubeconfig)
    key = f"/ConfigMap/{ns}/shared"
    a.write("ns.yaml", namespace(ns))
    a.write("shared.yaml", configmap(ns, "shared", owner="a"))
    a.repo.commit()
    a.apply()

    # B's Git holds the same object: it is A's, and --adopt does not make it B's.
    b.write("shared.yaml", configmap(ns, "shared", owner="b"))
    b.repo.commit()
    plan = b.plan("--adopt")
    assert actions(plan) == {key: "adopt"}
    assert plan["changes"][0]["reasons"] == [{"reason": "owned", "stack": a.name}]
    shown = b.kgit("plan")
    assert f'(owned by stack "{a.name}": apply refuses it' in shown.stdout
    refused = b.kgit("apply", "--auto-approve", "--adopt")
    assert refused.code == 1, refused.output
    assert f'ConfigMap/{ns}/shared: owned by stack "{a.name}"' in refused.stderr
    assert f"--take-over-from {a.name}" in refused.stderr
    assert labels(cluster, ns)["kgit.dev/stack"] == a.name

    # Named, it moves, and both histories say so.
    done = b.apply("--take-over-from", a.name)
    assert f"ConfigMap/{ns}/shared: adopted" in done.stdout
    assert labels(cluster, ns)["kgit.dev/stack"] == b.name
    last_of_b = b.kgit("history", "--format", "json").json()[-1]
    assert last_of_b["result"] == f"ok; took over 1 object(s) from stack {a.name}"
    last_of_a = a.kgit("history", "--format", "json").json()[-1]
    assert last_of_a["result"] == (
        f"taken over by stack {b.name}: 1 object(s) (ConfigMap/{ns}/shared)"
    )

    # A forgets it, though its Git still holds it: never re-applied, never deleted.
    plan = a.plan()
    assert actions(plan) == {key: "forget"}
    assert plan["changes"][0]["reasons"] == [{"reason": "taken-over", "stack": b.name}]
    assert f'(taken over by stack "{b.name}")' in a.kgit("plan").stdout
    a.apply()
    live = cluster.get(CONFIGMAP, ns, "shared")
    assert live is not None
    assert live["data"] == {"owner": "b"}
    assert live["metadata"]["labels"]["kgit.dev/stack"] == b.name
    # Removed from A's Git, it is nothing to A; B keeps it unchanged.
    a.repo.remove("shared.yaml")
    a.repo.commit("B has it")
    assert actions(a.plan()) == {}
    assert actions(b.plan()) == {}


def labels(cluster: Cluster, ns: str) -> dict[str, str]:
    """The labels of ConfigMap ``shared`` in ``ns``."""
    live = cluster.get(CONFIGMAP, ns, "shared")
    assert live is not None
    found: dict[str, str] = live["metadata"]["labels"]
    return found
