"""Smaller holes of kgit's promise: a stored plan's stack and approval, pending records a
no-op apply confirms, plans from clones and subdirectories, and --out's rule."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import pytest
from applylib import actions
from kgitlib import configmap, git, namespace, run_kgit

from kgit.cluster import CONFIGMAP
from kgit.state.store import load_state, save_state

if TYPE_CHECKING:
    from pathlib import Path

    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_a_stored_plan_is_its_own_stack_and_its_own_approval(
    stack: Stack, cluster: Cluster, unique: str, kubeconfig: str
) -> None:
    ns = unique
    stack.write("ns.yaml", namespace(ns))
    stack.repo.commit()
    stack.apply()
    cluster.create(CONFIGMAP, configmap(ns, "made-by-hand", a="1"))
    stack.write("cm.yaml", configmap(ns, "made-by-hand", a="1"))
    stack.repo.commit("take it over")
    stored = stack.kgit("plan", "--adopt", "--out", "adopt.json")
    assert stored.code == 0, stored.output
    plan_file = str(stack.repo.root / "adopt.json")

    other = run_kgit("apply", plan_file, "--stack", f"{unique}-x", kubeconfig=kubeconfig)
    assert other.code == 1, other.output
    assert f"the plan is for stack '{stack.name}', not '{unique}-x'" in other.stderr

    # Reviewed with --adopt, the plan is the approval: no flag asked for again.
    done = stack.kgit("apply", plan_file)
    assert done.code == 0, done.output
    assert f"ConfigMap/{ns}/made-by-hand: adopted" in done.stdout


def test_a_no_op_apply_confirms_pending_records(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    ns = unique
    stack.write("app.yaml", namespace(ns), configmap(ns, "a", x="1"), configmap(ns, "b", x="2"))
    stack.repo.commit()
    stack.apply()
    # An apply killed at its very end: the objects are there, their records still pending.
    handle = load_state(cluster, stack.name)
    pending = {k: dataclasses.replace(r, pending=True) for k, r in handle.state.objects.items()}
    save_state(cluster, handle, dataclasses.replace(handle.state, objects=pending))

    assert actions(stack.plan()) == {}
    stack.apply()
    records = load_state(cluster, stack.name).state.objects.values()
    assert [r.key.name for r in records if r.pending] == []


def test_plans_from_a_clone_of_a_local_origin_and_from_a_subdirectory(
    stack: Stack, unique: str, kubeconfig: str, tmp_path: Path
) -> None:
    ns = unique
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    stack.write("app/ns.yaml", namespace(ns))
    stack.repo.commit()
    stack.repo.git("remote", "add", "origin", str(origin))
    stack.repo.git("push", "-q", "origin", "main")
    # A commit of the clone, never pushed to its (local) origin.
    stack.write("app/cm.yaml", configmap(ns, "local", x="1"))
    stack.repo.commit("not pushed")

    sub = stack.repo.root / "app"
    planned = run_kgit(
        "plan", "--stack", stack.name, "--out", "../p.json", kubeconfig=kubeconfig, cwd=sub
    )
    assert planned.code == 0, planned.output
    plan = json.loads((stack.repo.root / "p.json").read_text())
    assert plan["source"]["paths"] == ["."]
    assert set(actions(plan)) == {f"/Namespace//{ns}", f"/ConfigMap/{ns}/local"}

    done = stack.kgit("apply", "p.json", "-C", ".")
    assert done.code == 0, done.output
    assert "Apply complete! Resources: 2 added" in done.stdout


def test_out_is_a_file_or_a_directory_by_a_clear_rule(stack: Stack, unique: str) -> None:
    stack.write("ns.yaml", namespace(unique))
    stack.repo.commit()
    first = stack.kgit("plan", "--out", "plans")
    assert first.code == 0, first.output
    assert (stack.repo.root / "plans").is_file()
    refused = stack.kgit("plan", "--out", "plans/")
    assert refused.code == 1
    assert "--out plans/: plans is a file, not a directory" in refused.stderr
    into = stack.kgit("plan", "--out", "saved/")
    assert into.code == 0, into.output
    (stored,) = (stack.repo.root / "saved").iterdir()
    assert stored.name.startswith(f"{stack.name}-")
