"""``kgit apply --wait``: rollouts on the real control plane (kube-scheduler, every
controller, kwok's fake nodes), waited for until Current, and failures reported with the
reason and the pod."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from applylib import resource
from kgitlib import deployment, namespace

if TYPE_CHECKING:
    from applylib import Stack
    from kgitlib import Run

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

FAIL = "kwok.kgit.dev/fail"


def web(
    ns: str, image: str, *, replicas: int = 2, fail: str = "", deadline: int = 0
) -> dict[str, Any]:
    """The web Deployment at ``image``; ``fail`` annotates its pods for a kwok stage."""
    manifest = deployment(ns, "web", image)
    manifest["spec"]["replicas"] = replicas
    if deadline:
        manifest["spec"]["progressDeadlineSeconds"] = deadline
    if fail:
        manifest["spec"]["template"]["metadata"]["annotations"] = {FAIL: fail}
    return manifest


def job(ns: str, name: str, *, fail: str = "") -> dict[str, Any]:
    """A one-pod Job (no retry); ``fail`` annotates its pod for a kwok stage."""
    template: dict[str, Any] = {
        "metadata": {"annotations": {FAIL: fail}} if fail else {},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "task", "image": "busybox:1.36", "command": ["true"]}],
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"backoffLimit": 0, "template": template},
    }


def replicasets_by_image(cluster: Cluster, ns: str) -> dict[str, dict[str, Any]]:
    sets = cluster.list_kind(resource(cluster, "apps", "ReplicaSet"), ns)
    return {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for rs in sets}


def apply_v1(stack: Stack) -> Run:
    """The stack's namespace and web at nginx:v1, applied with --wait."""
    stack.write("web.yaml", namespace(stack.name), web(stack.name, "nginx:v1"))
    stack.repo.commit("v1")
    return stack.apply("--wait", "--wait-timeout", "90s")


def test_wait_returns_once_the_rollout_from_v1_to_v2_is_done(
    stack: Stack, cluster: Cluster
) -> None:
    ns = stack.name
    first = apply_v1(stack)
    assert "Health: 2 Current" in first.stdout, first.output

    stack.write("web.yaml", namespace(ns), web(ns, "nginx:v2"))
    stack.repo.commit("v2")
    done = stack.apply("--wait", "--wait-timeout", "90s")

    # Read right after kgit returned: the rollout is over, not merely accepted.
    sets = replicasets_by_image(cluster, ns)
    old, new = sets["nginx:v1"], sets["nginx:v2"]
    assert old["spec"]["replicas"] == 0
    assert old["status"].get("replicas", 0) == 0
    assert new["status"]["availableReplicas"] == 2
    assert f"Deployment/{ns}/web: updated" in done.stdout
    assert "Health: 1 Current (current after" in done.stdout
    assert "Apply complete! Resources: 0 added, 1 changed, 0 deleted." in done.stdout

    history = stack.kgit("history", "--format", "json").json()
    assert [entry["health"] for entry in history] == ["current: 2 Current", "current: 1 Current"]

    status = stack.kgit("status", "--format", "json")
    assert status.code == 0, status.output
    found = status.json()
    assert found["healthy"] is True
    assert found["summary"] == "2 Current"
    assert found["last_apply"]["health"] == "current: 1 Current"
    assert found["last_watch"] is None
    commit = stack.repo.git("rev-parse", "HEAD")
    objects = {o["object"]: o for o in found["objects"]}
    assert objects[f"Deployment/{ns}/web"]["commit"] == commit
    assert objects[f"Deployment/{ns}/web"]["drifted"] is False
    assert objects[f"Deployment/{ns}/web"]["message"] == "2 replicas updated and available"
    assert objects[f"Namespace/{ns}"]["health"] == "Current"


def test_status_shows_drift_and_exits_1_when_an_object_is_not_current(
    stack: Stack, cluster: Cluster
) -> None:
    ns = stack.name
    apply_v1(stack)
    deployments = resource(cluster, "apps", "Deployment")
    # Someone scales it by hand to a number it cannot reach, and deletes nothing.
    cluster.merge_patch(
        deployments,
        ns,
        "web",
        {"spec": {"replicas": 3, "template": {"metadata": {"annotations": {FAIL: "image-pull"}}}}},
    )
    status = stack.kgit("status", "--format", "json")
    assert status.code == 1, status.output
    web_status = {o["object"]: o for o in status.json()["objects"]}[f"Deployment/{ns}/web"]
    assert web_status["drifted"] is True
    assert web_status["drifted_fields"] == ["spec.replicas"]
    assert web_status["health"] == "InProgress"

    text = stack.kgit("status")
    assert text.code == 1
    row = next(line for line in text.stdout.splitlines() if line.startswith(f"Deployment/{ns}/web"))
    assert row.split()[1:3] == ["InProgress", "spec.replicas"]


@pytest.mark.parametrize(
    ("fail", "reason"),
    [
        ("image-pull", "ImagePullBackOff (nginx:v3)"),
        ("crash-loop", "CrashLoopBackOff (nginx:v3)"),
        ("not-ready", "NotReady (nginx:v3)"),
    ],
)
def test_a_rollout_whose_pods_fail_exits_1_with_the_reason_and_the_pod(
    stack: Stack, fail: str, reason: str
) -> None:
    ns = stack.name
    stack.write("web.yaml", namespace(ns), web(ns, "nginx:v3", replicas=1, fail=fail, deadline=5))
    stack.repo.commit("v3")
    started = time.monotonic()
    done = stack.kgit("apply", "--auto-approve", "--wait", "--wait-timeout", "60s")
    assert done.code == 1, done.output
    assert time.monotonic() - started < 60
    # The Deployment fails at its progress deadline; the evidence names the pod.
    lines = [line for line in done.stdout.splitlines() if line.startswith("  Deployment/")]
    assert len(lines) == 1, done.stdout
    assert lines[0].startswith(f"  Deployment/{ns}/web: rollout failed: ProgressDeadlineExceeded")
    assert "; pod web-" in lines[0]
    assert lines[0].endswith(reason)
    assert "Apply failed: the wait for health failed" in done.stdout


def test_a_rollout_not_done_by_the_timeout_exits_1_naming_what_it_waits_for(
    stack: Stack,
) -> None:
    ns = stack.name
    stack.write("web.yaml", namespace(ns), web(ns, "nginx:v3", replicas=1, fail="image-pull"))
    stack.repo.commit("v3")
    started = time.monotonic()
    done = stack.kgit("apply", "--auto-approve", "--wait", "--wait-timeout", "8s")
    assert done.code == 1, done.output
    assert time.monotonic() - started < 30
    assert "Health: 1 InProgress, 1 Current (timed out after 8s)" in done.stdout
    assert f"Deployment/{ns}/web: 0 of 1 updated replicas available; pod web-" in done.stdout
    assert "ImagePullBackOff (nginx:v3)" in done.stdout
    assert "Apply failed: the wait for health timed out" in done.stdout
    history = stack.kgit("history", "--format", "json").json()
    assert history[-1]["health"] == "timed out: 1 InProgress, 1 Current"


def test_a_failing_job_exits_1_with_the_reason_and_the_pod(stack: Stack) -> None:
    ns = stack.name
    stack.write("job.yaml", namespace(ns), job(ns, "migrate", fail="error"))
    stack.repo.commit("job")
    done = stack.kgit("apply", "--auto-approve", "--wait", "--wait-timeout", "60s")
    assert done.code == 1, done.output
    line = next(x for x in done.stdout.splitlines() if x.startswith("  Job/"))
    assert line.startswith(f"  Job/{ns}/migrate: ")
    assert "BackoffLimitExceeded" in line or "backoff limit" in line, line
    assert "; pod migrate-" in line
    assert line.endswith("Error (busybox:1.36)")


def test_a_statefulset_a_daemonset_and_a_job_that_complete_are_current(stack: Stack) -> None:
    ns = stack.name
    labels = {"app": "db"}
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": ns},
        "spec": {
            "serviceName": "db",
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
            },
        },
    }
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "fluent-bit:3"}]},
            },
        },
    }
    stack.write("all.yaml", namespace(ns), statefulset, daemonset, job(ns, "seed"))
    stack.repo.commit("three kinds")
    done = stack.apply("--wait", "--wait-timeout", "90s")
    assert "Health: 4 Current (current after" in done.stdout, done.output
    objects = {o["object"]: o for o in stack.kgit("status", "--format", "json").json()["objects"]}
    for subject in (f"StatefulSet/{ns}/db", f"DaemonSet/{ns}/agent", f"Job/{ns}/seed"):
        assert objects[subject]["health"] == "Current", objects[subject]
