"""Every row of DESIGN.md's three-way table, built for real on the API server.

One stack is applied at a first commit (the recorded state), the cluster is changed
behind kgit's back with kubectl and other field managers, and a second commit changes
Git; the plan of that commit must hold one change per row, each with the right cause.
"""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from planlib import (
    assert_clean_failure,
    changes_by_key,
    configmap,
    field,
    plan_json,
    run_kubectl,
)

from kgit.cluster import CONFIGMAP
from kgit.manifests.normalize import STACK_LABEL
from kgit.plan.store import load_plan_schema
from kgit.state.store import STATE_NAMESPACE

if TYPE_CHECKING:
    from pathlib import Path

    from planlib import Leftovers

pytestmark = pytest.mark.integration


def deployment(name: str, namespace: str, app: str, replicas: int = 1) -> str:
    """A Deployment whose selector (immutable) and pod labels are ``app``."""
    return textwrap.dedent(
        f"""\
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: {namespace}
        spec:
          replicas: {replicas}
          selector:
            matchLabels: {{app: {app}}}
          template:
            metadata:
              labels: {{app: {app}}}
            spec:
              containers:
                - name: main
                  image: registry.example/main:1.0
        """
    )


def namespace_doc(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def test_every_row_of_the_three_way_table(
    kubeconfig: str, kubectl: Path, unique: str, tmp_path: Path, leftovers: Leftovers
) -> None:
    ns, stack = leftovers.namespace(f"{unique}-rows"), leftovers.stack(unique)
    repo = GitRepo(tmp_path / "repo")
    cm = {name: f"/ConfigMap/{ns}/{name}" for name in ("git", "drift", "both", "noop", "oob")}
    cm |= {name: f"/ConfigMap/{ns}/{name}" for name in ("prune", "unlabel", "gone", "new")}
    cm |= {name: f"/ConfigMap/{ns}/{name}" for name in ("adopt", "unrecorded")}
    replace, scaled = f"apps/Deployment/{ns}/replace", f"apps/Deployment/{ns}/scaled"

    # Commit A, applied: the recorded state.
    repo.write("ns.yaml", namespace_doc(ns))
    for name in ("git", "drift", "both", "noop", "oob", "prune", "unlabel", "gone"):
        repo.write(f"cm/{name}.yaml", configmap(name, ns, "1"))
    repo.write("deploy/replace.yaml", deployment("replace", ns, "a"))
    repo.write("deploy/scaled.yaml", deployment("scaled", ns, "s", replicas=2))
    repo.commit("A")
    applied = run_kgit("apply", "-C", str(repo.root), "--stack", stack, "--auto-approve",
                       kubeconfig=kubeconfig)  # fmt: skip
    assert applied.code == 0, applied.output

    # The cluster moves behind kgit's back.
    run_kubectl(kubectl, kubeconfig, "apply", "-f", "-", stdin=configmap("drift", ns, "2"))
    with cluster_for(kubeconfig) as cluster:
        cluster.merge_patch(
            CONFIGMAP, ns, "both", {"data": {"v": "3"}}, field_manager="kubectl-edit"
        )
        cluster.delete(CONFIGMAP, ns, "oob", uid=None)
        cluster.delete(CONFIGMAP, ns, "gone", uid=None)
        cluster.server_side_apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "unrecorded", "namespace": ns, "labels": {STACK_LABEL: stack}},
                "data": {"v": "old"},
            },
            field_manager="someone",
        )
    run_kubectl(kubectl, kubeconfig, "-n", ns, "label", "configmap", "unlabel", f"{STACK_LABEL}-")
    run_kubectl(
        kubectl, kubeconfig, "-n", ns, "create", "configmap", "adopt", "--from-literal=v=live"
    )
    run_kubectl(kubectl, kubeconfig, "-n", ns, "scale", "deployment", "scaled", "--replicas=3")

    # Commit B: Git moves too.
    repo.write("cm/git.yaml", configmap("git", ns, "2"))
    repo.write("cm/both.yaml", configmap("both", ns, "4"))
    repo.write("cm/new.yaml", configmap("new", ns, "1"))
    repo.write("cm/adopt.yaml", configmap("adopt", ns, "git"))
    repo.write("cm/unrecorded.yaml", configmap("unrecorded", ns, "new"))
    for name in ("prune", "unlabel", "gone"):
        repo.remove(f"cm/{name}.yaml")
    repo.write("deploy/replace.yaml", deployment("replace", ns, "b"))
    commit = repo.commit("B")

    stored = tmp_path / "plans" / "b.json"
    run = run_kgit("plan", "-C", str(repo.root), "--stack", stack, "--out", str(stored),
                   "--format", "markdown", kubeconfig=kubeconfig)  # fmt: skip
    assert run.code == 0, run.output
    plan = json.loads(stored.read_text())
    # No kgit.yaml and no flags: the rails and namespaces the plan used are kgit's defaults.
    assert plan["options"] == {
        "adopt": False,
        "allow_empty": False,
        "max_delete": 10,
        "default_namespace": "default",
        "state_namespace": STATE_NAMESPACE,
    }
    jsonschema.validate(plan, load_plan_schema())
    assert plan["source"]["commit"] == commit
    changes = changes_by_key(plan)
    actions = {key: c["action"] for key, c in changes.items()}
    assert actions == {
        cm["new"]: "create",
        cm["adopt"]: "adopt",
        cm["oob"]: "create",
        cm["git"]: "update",
        cm["drift"]: "update",
        cm["both"]: "update",
        cm["unrecorded"]: "update",
        scaled: "update",
        cm["prune"]: "delete",
        cm["unlabel"]: "forget",
        cm["gone"]: "forget",
        replace: "replace",
    }
    # The Namespace and the untouched ConfigMap are the no-ops.
    assert plan["unchanged"] == 2
    assert cm["noop"] not in changes

    # Row 1: create. Row 3: create of an object deleted out of band.
    assert not any(r["reason"] == "drift-deleted" for r in changes[cm["new"]]["reasons"])
    assert field(changes[cm["new"]], "data.v")["after"] == "1"
    assert {"reason": "drift-deleted"} in changes[cm["oob"]]["reasons"]

    # Row 2: adopt shows the diff against the live object, and warns about --adopt.
    adopt = field(changes[cm["adopt"]], "data.v")
    assert (adopt["op"], adopt["before"], adopt["after"], adopt["cause"]) == (
        "change", "live", "git", "git",
    )  # fmt: skip
    assert any("--adopt" in w for w in plan["warnings"])

    # Row 4: update, each change with its cause; drift names the field manager.
    def cause(key: str, path: str) -> tuple[Any, ...]:
        f = field(changes[key], path)
        return f["before"], f["after"], f["cause"], f["manager"]

    assert cause(cm["git"], "data.v") == ("1", "2", "git", None)
    assert cause(cm["drift"], "data.v") == ("2", "1", "drift", "kubectl-client-side-apply")
    assert cause(cm["both"], "data.v") == ("3", "4", "both", "kubectl-edit")
    assert cause(scaled, "spec.replicas") == (3, 2, "drift", "kubectl")
    assert field(changes[cm["both"]], "data.v")["managed_at"]
    # Ours by label though not recorded (a lost state): an update, never an adoption.
    assert cause(cm["unrecorded"], "data.v") == ("old", "new", "git", None)
    for key in (cm["git"], cm["drift"], cm["both"], scaled):
        assert len(changes[key]["fields"]) == 1, changes[key]["fields"]

    # Rows 5-7: delete what is labelled ours; forget the rest, with a warning.
    assert changes[cm["prune"]]["live_resource_version"]
    assert any(
        w.startswith(f"ConfigMap/{ns}/unlabel:") and "leaves it in place" in w
        for w in plan["warnings"]
    ), plan["warnings"]
    assert changes[cm["gone"]]["reasons"] == [{"reason": "gone"}]

    # Row 8: an immutable selector change is a replace naming the field.
    assert any(
        r["reason"] == "immutable" and "spec.selector" in r["paths"]
        for r in changes[replace]["reasons"]
    ), changes[replace]["reasons"]
    assert field(changes[replace], "spec.selector.matchLabels.app")["after"] == "b"

    # The stored plan round-trips through kgit show in every format.
    assert run_kgit("show", str(stored), "-f", "json", kubeconfig=kubeconfig).stdout == (
        stored.read_text()
    )
    shown_md = run_kgit("show", str(stored), "-f", "markdown", kubeconfig=kubeconfig)
    assert shown_md.code == 0 and shown_md.stdout in run.stdout, shown_md.output
    again = run_kgit("plan", "-C", str(repo.root), "--stack", stack, kubeconfig=kubeconfig)
    shown = run_kgit("show", str(stored), kubeconfig=kubeconfig)
    assert shown.code == 0 and shown.stdout == again.stdout, shown.output

    # Apply refuses the adoption without --adopt (before changing anything) ...
    refused = run_kgit("apply", "-C", str(repo.root), "--stack", stack, "--auto-approve",
                       "--allow-replace", kubeconfig=kubeconfig)  # fmt: skip
    assert_clean_failure(refused)
    assert f"ConfigMap/{ns}/adopt" in refused.stderr and "--adopt" in refused.stderr
    # ... and with it, the cluster ends equal to Git: the next plan has no changes.
    done = run_kgit("apply", "-C", str(repo.root), "--stack", stack, "--auto-approve",
                    "--allow-replace", "--adopt", kubeconfig=kubeconfig)  # fmt: skip
    assert done.code == 0, done.output
    after = plan_json(repo.root, stack, "--detailed-exitcode", kubeconfig=kubeconfig)
    assert after["changes"] == [], after["changes"]
