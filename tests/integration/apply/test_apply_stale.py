"""A stored plan is applied exactly, or refused saying what moved: state, cluster or Git."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest
from kgitlib import configmap, deployment, namespace

from kgit.cluster import CONFIGMAP

if TYPE_CHECKING:
    from pathlib import Path

    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_stale_plans_are_refused_and_change_nothing(
    stack: Stack, cluster: Cluster, unique: str, tmp_path: Path
) -> None:
    ns = unique

    def commit(level: str, *, extra: bool = False) -> str:
        stack.write("ns.yaml", namespace(ns))
        stack.write("settings.yaml", configmap(ns, "settings", level=level))
        if extra:
            stack.write("extra.yaml", configmap(ns, "extra", level="x"))
        return stack.repo.commit(f"level {level}")

    def settings() -> dict[str, str]:
        live = cluster.get(CONFIGMAP, ns, "settings")
        assert live is not None
        return dict(live["data"])

    def store_plan(name: str) -> Path:
        out = tmp_path / f"{name}.json"
        done = stack.kgit("plan", "--out", str(out))
        assert done.code == 0, done.output
        return out

    def refused(plan_file: Path, *why: str) -> None:
        serial, before = stack.serial(cluster), settings()
        done = stack.kgit("apply", str(plan_file))
        assert done.code == 1, done.output
        assert "Saved plan is stale" in done.stderr or "cannot be read" in done.stderr
        for text in why:
            assert text in done.stderr, done.stderr
        assert (stack.serial(cluster), settings()) == (serial, before)

    commit("1")
    stack.apply()

    # 1. The state moved: another apply ran since the plan (it touched another object).
    commit("2")
    moved_state = store_plan("state")
    serial = stack.serial(cluster)
    commit("1", extra=True)
    stack.apply()
    refused(moved_state, f"the state moved from serial {serial} to {serial + 1}")

    # 2. An object the plan touches changed in the cluster.
    commit("2", extra=True)
    moved_object = store_plan("object")
    cluster.merge_patch(
        CONFIGMAP, ns, "settings", {"metadata": {"annotations": {"edited-by": "someone"}}}
    )
    refused(moved_object, f"ConfigMap/{ns}/settings: changed in the cluster since the plan")

    # 3a. The plan's commit is gone from the repository (history rewritten).
    commit("3", extra=True)
    lost_commit = store_plan("commit")
    stack.repo.git("reset", "-q", "--hard", "HEAD~1")
    stack.repo.git("reflog", "expire", "--expire=now", "--all")
    stack.repo.git("gc", "-q", "--prune=now")
    refused(lost_commit, "the plan's commit cannot be read")

    # 3b. Git at the plan's commit does not give the reviewed manifest.
    tampered = store_plan("digest")
    plan = json.loads(tampered.read_text())
    for change in plan["changes"]:
        change["desired_digest"] = "sha256:" + "0" * 64
    tampered.write_text(json.dumps(plan))
    refused(tampered, f"ConfigMap/{ns}/settings: the manifest at commit")

    # A plan nothing moved under applies exactly.
    fresh = store_plan("fresh")
    done = stack.kgit("apply", str(fresh))
    assert done.code == 0, done.output
    assert f"ConfigMap/{ns}/settings: updated" in done.stdout
    assert settings() == {"level": "2"}


def test_a_status_written_by_a_controller_does_not_make_a_plan_stale(
    stack: Stack, cluster: Cluster, unique: str, tmp_path: Path, kubectl: Path, kubeconfig: str
) -> None:
    ns = unique
    stack.write("ns.yaml", namespace(ns))
    stack.write("web.yaml", deployment(ns, "web", "nginx:v1"))
    stack.repo.commit("v1")
    stack.apply()

    stack.write("web.yaml", deployment(ns, "web", "nginx:v2"))
    stack.repo.commit("v2")
    plan_file = tmp_path / "v2.json"
    done = stack.kgit("plan", "--out", str(plan_file))
    assert done.code == 0, done.output
    planned = json.loads(plan_file.read_text())["changes"]
    assert [c["key"] for c in planned] == [f"apps/Deployment/{ns}/web"]
    deployments = cluster.resources().lookup("apps", "Deployment")
    assert deployments is not None
    before = cluster.get(deployments, ns, "web")
    assert before is not None

    # What the Deployment controller does all the time: write the status subresource.
    subprocess.run(
        [str(kubectl), "--kubeconfig", kubeconfig, "-n", ns, "patch", "deployment", "web",
         "--subresource=status", "--type=merge",
         "-p", json.dumps({"status": {"observedGeneration": 41, "replicas": 7}})],
        check=True, capture_output=True,
    )  # fmt: skip
    after = cluster.get(deployments, ns, "web")
    assert after is not None
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]

    done = stack.kgit("apply", str(plan_file))
    assert done.code == 0, done.output
    assert f"Deployment/{ns}/web: updated" in done.stdout
