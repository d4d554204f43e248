"""A Namespace delete shows what it takes along, and never takes what Git still holds or
what the stack does not own without --allow-cascade (issue 11, finding 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from applylib import actions
from kgitlib import configmap, deployment, namespace

from kgit.cluster import CONFIGMAP, NAMESPACE

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_namespace_cascade(stack: Stack, cluster: Cluster, unique: str) -> None:
    ns = unique
    stack.write("namespaces/web-ns.yaml", namespace(ns))
    stack.write("workloads/nginx.yaml", deployment(ns, "nginx"))
    stack.repo.commit()
    stack.apply()
    handmade = configmap(ns, "handmade", owner="a person")
    theirs = configmap(ns, "theirs", owner="another stack")
    theirs["metadata"]["labels"] = {"kgit.dev/stack": f"{unique}-other"}
    for obj in (handmade, theirs):
        cluster.create(CONFIGMAP, obj)

    # The Namespace leaves Git, the Deployment inside it stays: refused.
    stack.repo.remove("namespaces/web-ns.yaml")
    stack.repo.commit("drop the namespace")
    done = stack.kgit("plan", "--format", "json")
    assert done.code == 1, done.output
    assert (
        f"Namespace/{ns} is removed from Git but Deployment/{ns}/nginx is still in Git"
        in done.stderr
    )

    # Both leave Git: the stack's own Deployment goes too, but two objects it does not own
    # would go with the Namespace: refused, naming them.
    stack.repo.remove("workloads/nginx.yaml")
    stack.repo.commit("drop everything")
    done = stack.kgit("plan", "--format", "json", "--allow-empty")
    assert done.code == 1, done.output
    assert (
        f"Namespace/{ns}: deleting it would also delete 2 objects not owned by this stack "
        f"(ConfigMap/{ns}/handmade, ConfigMap/{ns}/theirs)" in done.stderr
    )

    # With --allow-cascade the plan lists and counts them, in every view.
    plan = stack.plan("--allow-empty", "--allow-cascade")
    assert actions(plan) == {f"/Namespace//{ns}": "delete", f"apps/Deployment/{ns}/nginx": "delete"}
    assert plan["cascade"] == [
        {"key": f"/ConfigMap/{ns}/handmade", "stack": ""},
        {"key": f"/ConfigMap/{ns}/theirs", "stack": f"{unique}-other"},
    ]
    assert plan["options"]["allow_cascade"] is True
    text = stack.kgit("plan", "--allow-empty", "--allow-cascade")
    assert text.code == 0, text.output
    assert (
        "Plan: 0 to add, 0 to change, 2 to delete (and 2 objects not owned by this stack "
        f"deleted with Namespace/{ns})." in text.stdout
    )
    assert f"  - ConfigMap/{ns}/handmade (not created by kgit)" in text.stdout
    markdown = stack.kgit("plan", "--allow-empty", "--allow-cascade", "--format", "markdown")
    assert (
        f"> - `ConfigMap/{ns}/theirs` will be deleted with `Namespace/{ns}` "
        f'(owned by stack "{unique}-other")' in markdown.stdout
    )

    # A stored plan is stale once the Namespace holds something it did not show.
    stored = stack.kgit("plan", "--allow-empty", "--allow-cascade", "--out", "plans/cascade.json")
    assert stored.code == 0, stored.output
    cluster.create(CONFIGMAP, configmap(ns, "late", owner="a person"))
    stale = stack.kgit("apply", "plans/cascade.json")
    assert stale.code == 1, stale.output
    assert f"ConfigMap/{ns}/late: now inside Namespace/{ns}, which the plan deletes" in stale.stderr
    assert cluster.get(NAMESPACE, None, ns) is not None

    done = stack.apply("--allow-empty", "--allow-cascade")
    assert f"Namespace/{ns}: deleted" in done.stdout
