"""A CRD and its custom resources in one commit: planned as "CRD pending", applied in one run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from applylib import actions, crd, resource
from kgitlib import namespace, wait_for

from kgit.cluster import CRD

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def widget(group: str, ns: str, name: str, size: int) -> dict[str, Any]:
    """A ``Widget`` custom resource."""
    return {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"size": size},
    }


def test_crd_and_its_resources_apply_in_one_run(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    ns, group = unique, f"{unique}.kgit.dev"
    stack.write("crd.yaml", crd(group))
    stack.write(
        "app.yaml", namespace(ns), widget(group, ns, "small", 1), widget(group, ns, "big", 9)
    )
    stack.repo.commit("a kind and its objects")

    plan = stack.plan()
    widgets = [c for c in plan["changes"] if c["key"].startswith(f"{group}/Widget/")]
    assert [c["action"] for c in widgets] == ["create", "create"]
    for change in widgets:
        assert {"reason": "crd-pending"} in change["reasons"], change
    text = stack.kgit("plan")
    assert "CRD pending" in text.stdout

    done = stack.apply()
    assert "Apply complete! Resources: 4 added, 0 changed, 0 deleted." in done.stdout
    lines = [line for line in done.stdout.splitlines() if ": created" in line]
    assert lines[0] == f"Namespace/{ns}: created"
    assert lines[1] == f"CustomResourceDefinition/widgets.{group}: created"
    live = cluster.get(resource(cluster, group, "Widget"), ns, "big")
    assert live is not None
    assert live["spec"] == {"size": 9}
    assert actions(stack.plan()) == {}

    # Removed together: the custom resources go first, then their CRD.
    stack.repo.remove("crd.yaml")
    stack.write("app.yaml", namespace(ns))
    stack.repo.commit("no more widgets")
    done = stack.apply()
    deleted = [line for line in done.stdout.splitlines() if ": deleted" in line]
    assert deleted[-1] == f"CustomResourceDefinition/widgets.{group}: deleted"
    assert len(deleted) == 3
    # The CRD's finalizer removes its custom resources first; then it is gone.
    wait_for(lambda: cluster.get(CRD, None, f"widgets.{group}") is None, what="the CRD to go")


def test_a_crd_that_fails_after_its_creation_stays_tracked(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    group = f"{unique}.kgit.dev"
    # Same group and kind as the first: created, then never Established.
    clash = crd(group)
    clash["metadata"]["name"] = f"gadgets.{group}"
    clash["spec"]["names"].update(plural="gadgets", singular="gadget")
    stack.write("crd.yaml", crd(group))
    stack.repo.commit("widgets")
    stack.apply()
    stack.write("clash.yaml", clash)
    stack.repo.commit("a clashing kind")
    done = stack.kgit("apply", "--auto-approve")
    assert done.code == 1, done.output
    assert f"CustomResourceDefinition/gadgets.{group}: failed:" in done.stdout
    assert "names not accepted" in done.stdout
    assert cluster.get(CRD, None, f"gadgets.{group}") is not None

    # It exists, so kgit must still know it is the stack's: removed from Git, it is pruned.
    stack.repo.remove("clash.yaml")
    stack.repo.remove("crd.yaml")
    stack.repo.commit("no kinds")
    done = stack.apply("--allow-empty")
    assert f"CustomResourceDefinition/gadgets.{group}: deleted" in done.stdout
    assert f"CustomResourceDefinition/widgets.{group}: deleted" in done.stdout
