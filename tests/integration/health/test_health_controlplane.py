"""Workloads really roll out on the test control plane (kube-scheduler, every controller,
kwok's fake nodes), and kwok's failure stages give pods the state real ones would have:
kgit.health reads it on the live objects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import deployment, wait_for

from kgit.health import Health, Status, compute_evidence, compute_health, pods_of

if TYPE_CHECKING:
    from kgit.cluster import Cluster, Resource

pytestmark = pytest.mark.integration

ROLLOUT_TIMEOUT = 90.0
FAIL = "kwok.kgit.dev/fail"


def resource(cluster: Cluster, group: str, kind: str) -> Resource:
    found = cluster.resources().lookup(group, kind)
    assert found is not None, f"{group}/{kind} is not served"
    return found


def read(cluster: Cluster, group: str, kind: str, ns: str, name: str) -> dict[str, Any] | None:
    return cluster.get(resource(cluster, group, kind), ns, name)


def listed(cluster: Cluster, group: str, kind: str, ns: str) -> list[dict[str, Any]]:
    return cluster.list_kind(resource(cluster, group, kind), ns)


def health_of(cluster: Cluster, group: str, kind: str, ns: str, name: str) -> Health:
    return compute_health(read(cluster, group, kind, ns, name))


def wait_status(
    cluster: Cluster, group: str, kind: str, ns: str, name: str, status: Status
) -> Health:
    """Poll until the object's health has ``status``; the last health if it never does."""
    seen: list[Health] = []

    def reached() -> bool:
        seen.append(health_of(cluster, group, kind, ns, name))
        return seen[-1].status is status

    try:
        wait_for(reached, f"{kind}/{ns}/{name} {status.value}", timeout=ROLLOUT_TIMEOUT)
    except AssertionError as err:
        raise AssertionError(f"{err}; last health: {seen[-1]}") from None
    return seen[-1]


def web(ns: str, image: str, *, replicas: int = 2, fail: str = "") -> dict[str, Any]:
    """The web Deployment at ``image``; ``fail`` annotates its pods for a kwok stage."""
    manifest = deployment(ns, "web", image)
    manifest["spec"]["replicas"] = replicas
    if fail:
        manifest["spec"]["progressDeadlineSeconds"] = 5
        manifest["spec"]["template"]["metadata"]["annotations"] = {FAIL: fail}
    return manifest


def live_pods(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    return [p for p in listed(cluster, "", "Pod", ns) if not p["metadata"].get("deletionTimestamp")]


def observed(cluster: Cluster, ns: str) -> int:
    """The web Deployment's observed generation."""
    obj = read(cluster, "apps", "Deployment", ns, "web") or {}
    return int(obj.get("status", {}).get("observedGeneration", 0))


def replicasets_by_image(cluster: Cluster, ns: str) -> dict[str, dict[str, Any]]:
    return {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
        for rs in listed(cluster, "apps", "ReplicaSet", ns)
    }


def test_a_deployment_rolls_out_from_v1_to_v2(cluster: Cluster, namespace: str) -> None:
    cluster.server_side_apply(web(namespace, "nginx:v1"))
    done = wait_status(cluster, "apps", "Deployment", namespace, "web", Status.CURRENT)
    assert done.message == "2 replicas updated and available"
    v1 = replicasets_by_image(cluster, namespace)["nginx:v1"]

    cluster.server_side_apply(web(namespace, "nginx:v2"))
    wait_for(lambda: observed(cluster, namespace) == 2, "the new generation to be observed")
    wait_status(cluster, "apps", "Deployment", namespace, "web", Status.CURRENT)

    sets = replicasets_by_image(cluster, namespace)
    old, new = sets["nginx:v1"], sets["nginx:v2"]
    assert old["metadata"]["uid"] == v1["metadata"]["uid"]
    assert old["spec"]["replicas"] == 0
    assert compute_health(new) == Health(Status.CURRENT, "Current", "2 replicas available")
    assert new["status"]["availableReplicas"] == 2

    def only_new_pods() -> list[dict[str, Any]]:
        pods = live_pods(cluster, namespace)
        owners = {p["metadata"]["ownerReferences"][0]["uid"] for p in pods}
        return pods if len(pods) == 2 and owners == {new["metadata"]["uid"]} else []

    pods = wait_for(only_new_pods, "the old pods to be gone", timeout=ROLLOUT_TIMEOUT)
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["spec"]["containers"][0]["image"] == "nginx:v2"
        assert pod["spec"]["nodeName"].startswith("kwok-node-")
        assert compute_health(pod).status is Status.CURRENT
    assert compute_evidence(new, pods, listed(cluster, "", "Event", namespace)).pods == ()


@pytest.mark.parametrize(
    ("fail", "reason", "event", "pod_health"),
    [
        ("image-pull", "ImagePullBackOff", "Failed", (Status.IN_PROGRESS, "PodPending")),
        ("crash-loop", "CrashLoopBackOff", "BackOff", (Status.FAILED, "ContainerCrashLooping")),
        ("not-ready", "NotReady", "Unhealthy", (Status.IN_PROGRESS, "PodRunningNotReady")),
    ],
)
def test_a_failing_pod_stage_gives_the_pod_state_of_a_real_failure(
    cluster: Cluster,
    namespace: str,
    fail: str,
    reason: str,
    event: str,
    pod_health: tuple[Status, str],
) -> None:
    cluster.server_side_apply(web(namespace, "nginx:v3", replicas=1, fail=fail))
    # Its pod never becomes available: the Deployment fails at its 5 s progress deadline.
    failed = wait_status(cluster, "apps", "Deployment", namespace, "web", Status.FAILED)
    assert failed.message == "rollout failed: ProgressDeadlineExceeded"

    obj = read(cluster, "apps", "Deployment", namespace, "web")
    assert obj is not None

    def evidence_with_event() -> Any:
        found = compute_evidence(
            obj,
            listed(cluster, "", "Pod", namespace),
            listed(cluster, "", "Event", namespace),
            children=listed(cluster, "apps", "ReplicaSet", namespace),
        )
        return found if found.pods and found.events else None

    evidence = wait_for(evidence_with_event, f"the {fail} pod's evidence and event")
    (problem,) = evidence.pods
    assert (problem.container, problem.reason, problem.image) == ("app", reason, "nginx:v3")
    assert problem.pod.startswith("web-")
    assert evidence.summary() == f"pod {problem.pod}: {reason} (nginx:v3)"
    assert (evidence.events[-1].subject, evidence.events[-1].reason) == (
        f"Pod/{problem.pod}",
        event,
    )
    found = compute_health(read(cluster, "", "Pod", namespace, problem.pod))
    assert (found.status, found.reason) == pod_health


def job(ns: str, name: str, fail: str = "") -> dict[str, Any]:
    template: dict[str, Any] = {
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": "migrate:v1"}],
        }
    }
    if fail:
        template["metadata"] = {"annotations": {FAIL: fail}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"backoffLimit": 0, "template": template},
    }


def test_a_job_whose_pod_fails_failed_and_one_that_succeeds_is_current(
    cluster: Cluster, namespace: str
) -> None:
    cluster.server_side_apply(job(namespace, "good"))
    cluster.server_side_apply(job(namespace, "bad", fail="error"))
    good = wait_status(cluster, "batch", "Job", namespace, "good", Status.CURRENT)
    assert good.message == "complete: 1 of 1 succeeded"
    bad = wait_status(cluster, "batch", "Job", namespace, "bad", Status.FAILED)
    assert bad.reason == "BackoffLimitExceeded"

    obj = read(cluster, "batch", "Job", namespace, "bad")
    assert obj is not None
    (pod,) = pods_of(obj, listed(cluster, "", "Pod", namespace))
    assert pod["status"]["phase"] == "Failed"
    (problem,) = compute_evidence(obj, [pod], []).pods
    assert (problem.reason, problem.message, problem.image) == (
        "Error",
        "exit code 1",
        "migrate:v1",
    )


def workload(kind: str, ns: str, name: str, **spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": f"{name}:v1"}]},
            },
            **spec,
        },
    }


def test_a_statefulset_and_a_daemonset_become_current(cluster: Cluster, namespace: str) -> None:
    cluster.server_side_apply(
        workload("StatefulSet", namespace, "db", replicas=2, serviceName="db")
    )
    cluster.server_side_apply(workload("DaemonSet", namespace, "agent"))
    sts = wait_status(cluster, "apps", "StatefulSet", namespace, "db", Status.CURRENT)
    # The API server defaults the partition to 0: kstatus' partitioned-rollout rule applies.
    assert sts.message == "partitioned rollout complete: 2 replicas updated"
    ds = wait_status(cluster, "apps", "DaemonSet", namespace, "agent", Status.CURRENT)
    assert ds.message == "3 pods updated and available"  # one per kwok node
