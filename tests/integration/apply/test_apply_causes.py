"""The cause of each field change is the true one: Git setting a field the server had
defaulted is Git's change, and a field removed in the cluster names no manager."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from applylib import actions
from kgitlib import configmap, deployment, namespace
from planlib import run_kubectl

if TYPE_CHECKING:
    from pathlib import Path

    from applylib import Stack

pytestmark = pytest.mark.integration


def fields(plan: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Field path -> (cause, manager) of the plan's only change."""
    (change,) = plan["changes"]
    return {f["path"]: (f["cause"], f["manager"]) for f in change["fields"]}


def test_setting_server_defaulted_fields_in_git_is_caused_by_git(stack: Stack, unique: str) -> None:
    ns = unique
    web = deployment(ns, "web")
    del web["spec"]["replicas"]  # the server defaults it (1), and revisionHistoryLimit (10)
    stack.write("app.yaml", namespace(ns), web)
    stack.repo.commit()
    stack.apply()

    web["spec"].update(replicas=3, revisionHistoryLimit=5)
    stack.write("app.yaml", namespace(ns), web)
    stack.repo.commit("scale in Git")
    plan = stack.plan()
    assert fields(plan) == {
        "spec.replicas": ("git", None),
        "spec.revisionHistoryLimit": ("git", None),
    }
    markdown = stack.kgit("plan", "--format", "markdown").stdout
    assert "Objects changed outside of Git" not in markdown
    text = stack.kgit("plan").stdout
    assert "spec.replicas: 1 -> 3   (git)" in text


def test_a_label_removed_with_kubectl_names_no_manager(
    stack: Stack, unique: str, kubectl: Path, kubeconfig: str
) -> None:
    ns = unique
    labelled = configmap(ns, "web", a="1")
    labelled["metadata"]["labels"] = {"app": "web"}
    stack.write("app.yaml", namespace(ns), labelled)
    stack.repo.commit()
    stack.apply()

    # Another manager touches the object, then a person removes the label.
    run_kubectl(kubectl, kubeconfig, "-n", ns, "annotate", "configmap", "web", "note=seen")
    run_kubectl(kubectl, kubeconfig, "-n", ns, "label", "configmap", "web", "app-")
    plan = stack.plan()
    assert actions(plan) == {f"/ConfigMap/{ns}/web": "update"}
    assert fields(plan) == {"metadata.labels.app": ("drift", None)}
    text = stack.kgit("plan").stdout
    assert 'metadata.labels.app: "web"   (drift: removed in the cluster)' in text
    assert "kubectl-annotate" not in text
