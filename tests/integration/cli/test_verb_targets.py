"""Every verb finds the same stack and state namespace, and a stored plan keeps its settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml
from kgitlib import GitRepo, configmap, run_kgit

from kgit.cluster import CONFIGMAP, NAMESPACE
from kgit.state.lock import acquire, describe_lock

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_state_namespace_of_kgit_yaml_is_where_every_verb_looks(
    tmp_path: Path, kubeconfig: str, cluster: Cluster, namespace: str, unique: str
) -> None:
    state_ns = f"{unique}-state"
    repo = GitRepo(tmp_path / "repo")
    repo.write("kgit.yaml", f"stack: {unique}\nstateNamespace: {state_ns}\n")
    repo.write(
        "cm.yaml",
        yaml.safe_dump_all([configmap(namespace, "a", v="1"), configmap(namespace, "b", v="1")]),
    )
    repo.commit()

    def kgit(*args: str) -> str:
        run = run_kgit(*args, kubeconfig=kubeconfig, cwd=repo.root)
        assert run.code == 0, run.output
        return str(run.stdout)

    try:
        kgit("apply", "--auto-approve")
        assert [s["stack"] for s in yaml.safe_load(kgit("state", "list", "-f", "json"))] == [unique]
        history = yaml.safe_load(kgit("history", "--format", "json"))
        assert len(history) == 1 and history[0]["added"] == 2
        shown = yaml.safe_load(kgit("state", "show", "--format", "json"))
        assert shown["stack"] == unique and len(shown["objects"]) == 2
        kgit("state", "rm", f"/ConfigMap/{namespace}/b")
        shown = yaml.safe_load(kgit("state", "show", "--format", "json"))
        assert [o["key"] for o in shown["objects"]] == [f"/ConfigMap/{namespace}/a"]

        with acquire(cluster, unique, state_ns, 0.0, "someone@else/1", operation="apply"):
            info = describe_lock(cluster, unique, state_ns)
            assert info is not None
            out = kgit("force-unlock", info.lock_id, "--force")
            assert "successfully unlocked" in out
            assert describe_lock(cluster, unique, state_ns) is None
    finally:
        cluster.delete(NAMESPACE, None, state_ns, uid=None)


def test_a_stored_plan_applies_with_its_own_default_namespace(
    tmp_path: Path, kubeconfig: str, cluster: Cluster, namespace: str, unique: str
) -> None:
    repo = GitRepo(tmp_path / "repo")
    cm = configmap(namespace, "no-namespace", v="1")
    del cm["metadata"]["namespace"]
    repo.write("cm.yaml", yaml.safe_dump(cm))
    repo.commit()
    plan_file = tmp_path / "plan.json"
    run = run_kgit(
        "plan",
        "--stack",
        unique,
        "--default-namespace",
        namespace,
        "--out",
        str(plan_file),
        kubeconfig=kubeconfig,
        cwd=repo.root,
    )
    assert run.code == 0, run.output
    run = run_kgit("apply", str(plan_file), kubeconfig=kubeconfig, cwd=repo.root)
    assert run.code == 0, run.output
    assert cluster.get(CONFIGMAP, namespace, "no-namespace") is not None
    assert cluster.get(CONFIGMAP, "default", "no-namespace") is None
