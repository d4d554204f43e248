"""A stack is tied to the repository it was applied from: another checkout is refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from applylib import Stack, actions
from kgitlib import GitRepo, configmap, git, namespace, run_kgit

from kgit.state.store import load_state

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_a_stack_planned_from_another_repository_is_refused(
    stack: Stack, cluster: Cluster, unique: str, kubeconfig: str, tmp_path: Path
) -> None:
    ns = unique
    stack.write("app/ns.yaml", namespace(ns))
    stack.write("app/mine.yaml", configmap(ns, "mine", x="1"))
    commit = stack.repo.commit()
    stack.apply()
    recorded = load_state(cluster, stack.name).state.source
    assert recorded.roots == (commit,)
    assert recorded.url == str(stack.repo.root.resolve())
    assert recorded.paths == (".",)

    # Another repository that happens to give the same stack name.
    other = Stack(stack.name, GitRepo(tmp_path / "other"), kubeconfig)
    # (Outside the stack's Namespace: a plan deleting a Namespace whose objects Git
    # holds is refused.)
    other.write("theirs.yaml", configmap("default", f"{ns}-theirs", x="2"))
    other.repo.commit()
    said = (
        f"stack {stack.name} was last applied from {stack.repo.root.resolve()} at "
        f"{commit[:12]}, which this repository does not contain (another repository: its "
        "first commits differ); use --stack to name another stack, or --allow-source-change"
    )
    for verb in (("plan",), ("apply", "--auto-approve")):
        refused = other.kgit(*verb)
        assert refused.code == 1, refused.output
        assert said in refused.stderr
    assert actions(stack.plan()) == {}

    plan = other.plan("--allow-source-change")
    assert plan["options"]["allow_source_change"] is True
    assert actions(plan) == {
        f"/ConfigMap/default/{ns}-theirs": "create",
        f"/ConfigMap/{ns}/mine": "delete",
        f"/Namespace//{ns}": "delete",
    }

    # A clone that moved on holds the commit: it is the same stack's repository.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(stack.repo.root), str(clone))
    moved = GitRepo(clone)
    moved.write("app/more.yaml", "")
    moved.commit("more")
    done = run_kgit(
        "plan", "--format", "json", "--stack", stack.name, kubeconfig=kubeconfig, cwd=clone
    )
    assert done.code == 0, done.output
    assert actions(done.json()) == {}

    # Reading other paths is said in the plan's header.
    narrowed = stack.plan("--path", "app")
    assert narrowed["source"]["recorded_paths"] == ["."]
    shown = stack.kgit("plan", "--path", "app")
    assert "Paths: app (paths changed since the last apply, which read .)" in shown.stdout
