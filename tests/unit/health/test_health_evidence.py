"""The evidence of a failure: the pods an object selects, their stuck or failed
containers with the image, and the last Warning events about it."""

from __future__ import annotations

from typing import Any

import pytest
from healthlib import obj

from kgit.health import EventNote, Evidence, PodProblem, compute_evidence, pods_of, selector_matches

pytestmark = pytest.mark.unit

DEPLOYMENT = obj("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d-1}
spec:
  selector: {matchLabels: {app: web}}
""")


def pod(name: str, status: str, labels: str = "{app: web}", extra: str = "") -> dict[str, Any]:
    """A pod of the web Deployment (one container, app, running nginx:v3) with ``status``."""
    return obj(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: shop, uid: {name}-uid, labels: {labels}{extra}}}
spec:
  containers: [{{name: app, image: 'nginx:v3'}}]
status:
{status}
""")


IMAGE_PULL = """
  phase: Pending
  conditions: [{type: PodScheduled, status: "True"}]
  containerStatuses:
  - name: app
    image: 'nginx:v3'
    ready: false
    state:
      waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "nginx:v3"'}
"""

CRASH_LOOP = """
  phase: Running
  containerStatuses:
  - name: app
    ready: false
    restartCount: 5
    state: {waiting: {reason: CrashLoopBackOff, message: back-off 2m40s restarting failed container}}
    lastState: {terminated: {exitCode: 137, reason: Error}}
"""

RUNNING = """
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses:
  - {name: app, ready: true, state: {running: {startedAt: '2026-01-01T10:00:00Z'}}}
"""


def event(name: str, kind: str, subject: str, uid: str, when: str, **more: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "shop"},
        "involvedObject": {"kind": kind, "name": subject, "namespace": "shop", "uid": uid},
        "type": more.pop("type", "Warning"),
        "reason": more.pop("reason", "BackOff"),
        "message": more.pop("message", f"{name} happened"),
        "lastTimestamp": when,
        **more,
    }


def test_an_image_pull_failure_names_the_pod_and_the_image() -> None:
    evidence = compute_evidence(DEPLOYMENT, [pod("web-7d9f-a", IMAGE_PULL)], [])
    assert evidence.pods == (
        PodProblem(
            "web-7d9f-a", "app", "ImagePullBackOff", 'Back-off pulling image "nginx:v3"', "nginx:v3"
        ),
    )
    assert evidence.summary() == "pod web-7d9f-a: ImagePullBackOff (nginx:v3)"


def test_a_crash_loop_says_the_last_exit_code() -> None:
    (problem,) = compute_evidence(DEPLOYMENT, [pod("web-7d9f-a", CRASH_LOOP)], []).pods
    assert problem.reason == "CrashLoopBackOff"
    assert problem.message == "back-off 2m40s restarting failed container (last exit code 137)"


def test_a_container_that_exited_with_an_error_is_evidence() -> None:
    failed = """
  phase: Failed
  containerStatuses:
  - name: app
    ready: false
    state: {terminated: {exitCode: 1, reason: Error, message: migration 42 failed}}
"""
    (problem,) = compute_evidence(DEPLOYMENT, [pod("web-a", failed)], []).pods
    assert (problem.reason, problem.message) == ("Error", "exit code 1: migration 42 failed")


def test_a_running_container_never_ready_is_evidence() -> None:
    not_ready = """
  phase: Running
  conditions: [{type: Ready, status: "False", reason: ContainersNotReady}]
  containerStatuses:
  - {name: app, ready: false, started: true, state: {running: {startedAt: '2026-01-01T10:00:00Z'}}}
"""
    (problem,) = compute_evidence(DEPLOYMENT, [pod("web-a", not_ready)], []).pods
    assert (problem.reason, problem.image) == ("NotReady", "nginx:v3")


def test_unschedulable_and_evicted_pods_are_evidence_about_the_pod() -> None:
    unschedulable = """
  phase: Pending
  conditions:
  - {type: PodScheduled, status: "False", reason: Unschedulable, message: '0/3 nodes are available'}
"""
    evicted = (
        "  phase: Failed\n  reason: Evicted\n  message: 'The node was low on resource: memory.'\n"
    )
    evidence = compute_evidence(
        DEPLOYMENT, [pod("web-b", evicted), pod("web-a", unschedulable)], []
    )
    assert evidence.pods == (
        PodProblem("web-a", "", "Unschedulable", "0/3 nodes are available", ""),
        PodProblem("web-b", "", "Evicted", "The node was low on resource: memory.", ""),
    )
    assert evidence.summary() == "pod web-a: Unschedulable; pod web-b: Evicted"


def test_healthy_starting_completed_and_terminating_pods_are_not_evidence() -> None:
    creating = """
  phase: Pending
  containerStatuses: [{name: app, ready: false, state: {waiting: {reason: ContainerCreating}}}]
"""
    pods = [
        pod("web-a", RUNNING),
        pod("web-b", creating),
        pod("web-c", "  phase: Succeeded\n"),
        pod("web-d", IMAGE_PULL, extra=", deletionTimestamp: '2026-01-01T10:00:00Z'"),
    ]
    assert compute_evidence(DEPLOYMENT, pods, []) == Evidence()
    assert Evidence().summary() == ""


def test_only_the_pods_the_object_selects_count() -> None:
    other_app = pod("api-a", IMAGE_PULL, labels="{app: api}")
    other_namespace = pod("web-x", IMAGE_PULL)
    other_namespace["metadata"]["namespace"] = "elsewhere"
    mine = pod("web-a", IMAGE_PULL)
    assert pods_of(DEPLOYMENT, [other_app, other_namespace, mine]) == [mine]
    assert [p.pod for p in compute_evidence(DEPLOYMENT, [other_app, mine], []).pods] == ["web-a"]


def test_a_pod_is_its_own_evidence_and_a_service_selects_by_labels() -> None:
    mine = pod("web-a", IMAGE_PULL)
    assert pods_of(mine, [pod("web-b", IMAGE_PULL)]) == [mine]
    service = obj("kind: Service\nmetadata: {namespace: shop}\nspec: {selector: {app: web}}")
    assert pods_of(service, [mine]) == [mine]
    config = obj("kind: ConfigMap\nmetadata: {namespace: shop}")
    assert pods_of(config, [mine]) == []


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "api"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
        ({"matchExpressions": [{"key": "canary", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]}, False),
        ({}, True),
    ],
)
def test_label_selectors(selector: dict[str, Any], selected: bool) -> None:
    assert selector_matches(selector, {"app": "web", "tier": "front"}) is selected


def test_the_last_warning_events_about_the_object_its_pods_and_children() -> None:
    replicaset = obj("kind: ReplicaSet\nmetadata: {name: web-7d9f, namespace: shop, uid: rs-1}")
    mine = pod("web-7d9f-a", IMAGE_PULL)
    events = [
        event("e1", "Pod", "web-7d9f-a", "web-7d9f-a-uid", "2026-01-01T10:00:03Z", reason="Failed"),
        event(
            "e2", "ReplicaSet", "web-7d9f", "rs-1", "2026-01-01T10:00:01Z", reason="FailedCreate"
        ),
        event("e3", "Deployment", "web", "d-1", "2026-01-01T10:00:02Z", type="Normal"),
        event("e4", "Pod", "api-a", "api-a-uid", "2026-01-01T10:00:09Z"),
        event("e5", "Pod", "web-7d9f-a", "web-7d9f-a-uid", "2026-01-01T10:00:05Z", count=4),
    ]
    evidence = compute_evidence(DEPLOYMENT, [mine], events, children=[replicaset])
    assert [(e.subject, e.reason) for e in evidence.events] == [
        ("ReplicaSet/web-7d9f", "FailedCreate"),
        ("Pod/web-7d9f-a", "Failed"),
        ("Pod/web-7d9f-a", "BackOff"),
    ]
    assert evidence.events[-1] == EventNote(
        "Pod/web-7d9f-a", "BackOff", "e5 happened", 4, "2026-01-01T10:00:05Z"
    )
    assert evidence.events[-1].describe() == "Pod/web-7d9f-a: BackOff: e5 happened (x4)"
    limited = compute_evidence(DEPLOYMENT, [mine], events, children=[replicaset], limit=1)
    assert [e.reason for e in limited.events] == ["BackOff"]
    assert compute_evidence(DEPLOYMENT, [mine], events, limit=0).events == ()


def test_without_pod_problems_the_summary_is_the_last_event() -> None:
    events = [event("e1", "Deployment", "web", "d-1", "2026-01-01T10:00:01Z", reason="Oops")]
    evidence = compute_evidence(DEPLOYMENT, [], events)
    assert evidence.summary() == "Deployment/web: Oops: e1 happened"


def test_events_k8s_io_events_and_their_series_are_read_too() -> None:
    new_style = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e", "creationTimestamp": "2026-01-01T09:00:00Z"},
        "regarding": {"kind": "Deployment", "name": "web"},  # no uid: matched by name
        "type": "Warning",
        "reason": "Stuck",
        "note": "it is stuck",
        "eventTime": "2026-01-01T10:00:00.000000Z",
        "series": {"count": 7, "lastObservedTime": "2026-01-01T10:05:00.123456Z"},
    }
    older = event("old", "Deployment", "web", "d-1", "2026-01-01T10:04:59Z")
    evidence = compute_evidence(DEPLOYMENT, [], [new_style, older])
    assert [e.reason for e in evidence.events] == ["BackOff", "Stuck"]
    assert evidence.events[-1].count == 7
    assert evidence.events[-1].message == "it is stuck"
