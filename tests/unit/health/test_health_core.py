"""Health of Pods, PersistentVolumeClaims, Services, CRDs, APIServices and the kinds
with nothing to reconcile (kstatus' core.go, plus APIService)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from healthlib import assert_health, health, obj

from kgit.health import Status, compute_health

pytestmark = pytest.mark.unit

CURRENT, IN_PROGRESS, FAILED = Status.CURRENT, Status.IN_PROGRESS, Status.FAILED

POD = """
apiVersion: v1
kind: Pod
metadata: {name: web-7d9f-x2x9q, namespace: shop, creationTimestamp: '2026-01-01T10:00:00Z'}
spec:
  containers: [{name: app, image: 'nginx:v1'}]
"""


# --- Pod --------------------------------------------------------------------------------


def test_a_pod_without_a_phase_is_not_observed_yet() -> None:
    assert_health(POD, IN_PROGRESS, "PodNotObserved")


def test_a_ready_pod_is_current() -> None:
    status = """
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
"""
    assert_health(POD + status, CURRENT, "Current", "Ready")


def test_finished_pods_are_current_even_when_they_failed() -> None:
    assert_health(POD + "status: {phase: Succeeded}\n", CURRENT, "PodSucceeded")
    assert_health(POD + "status: {phase: Failed}\n", CURRENT, "PodFailed")


def test_a_running_pod_not_ready_is_in_progress() -> None:
    status = """
status:
  phase: Running
  conditions: [{type: Ready, status: "False", reason: ContainersNotReady}]
  containerStatuses:
  - {name: app, ready: false, state: {running: {startedAt: '2026-01-01T10:00:01Z'}}}
"""
    assert_health(POD + status, IN_PROGRESS, "PodRunningNotReady")


def test_a_crash_looping_pod_failed() -> None:
    status = """
status:
  phase: Running
  conditions: [{type: Ready, status: "False"}]
  containerStatuses:
  - name: app
    ready: false
    restartCount: 4
    state: {waiting: {reason: CrashLoopBackOff, message: back-off 40s restarting failed container}}
    lastState: {terminated: {exitCode: 1, reason: Error}}
"""
    assert_health(
        POD + status, FAILED, "ContainerCrashLooping", "containers in CrashLoopBackOff: app"
    )


def test_a_pod_that_cannot_pull_its_image_is_pending() -> None:
    # kstatus leaves this to the owner's progress deadline; the evidence names the image.
    status = """
status:
  phase: Pending
  containerStatuses:
  - {name: app, ready: false, state: {waiting: {reason: ImagePullBackOff}}}
"""
    assert_health(POD + status, IN_PROGRESS, "PodPending")


UNSCHEDULABLE = """
status:
  phase: Pending
  conditions:
  - type: PodScheduled
    status: "False"
    reason: Unschedulable
    message: '0/3 nodes are available: 3 Insufficient cpu.'
"""


def test_an_unschedulable_pod_gets_fifteen_seconds_before_it_failed() -> None:
    pod = obj(POD + UNSCHEDULABLE)
    early = compute_health(pod, now=datetime(2026, 1, 1, 10, 0, 10, tzinfo=UTC))
    assert (early.status, early.reason) == (IN_PROGRESS, "PodNotScheduled")
    late = compute_health(pod, now=datetime(2026, 1, 1, 10, 0, 16, tzinfo=UTC))
    assert (late.status, late.reason) == (FAILED, "PodUnschedulable")
    assert late.message == "cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu."


def test_a_pod_pending_for_another_reason_is_in_progress() -> None:
    assert_health(POD + "status: {phase: Pending}\n", IN_PROGRESS, "PodPending")


def test_a_pod_phase_kstatus_does_not_know_is_unknown() -> None:
    found = health(POD + "status: {phase: Lost}\n")
    assert found.status is Status.UNKNOWN
    assert found.message == "status unreadable: unknown phase Lost"


# --- PersistentVolumeClaim --------------------------------------------------------------

PVC = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
"""


def test_a_claim_is_current_once_bound() -> None:
    assert_health(PVC, IN_PROGRESS, "NotBound", "not Bound (phase unknown)")
    assert_health(
        PVC + "status: {phase: Pending}\n", IN_PROGRESS, "NotBound", "not Bound (phase Pending)"
    )
    assert_health(PVC + "status: {phase: Bound}\n", CURRENT, "Current", "Bound")


# --- Service ----------------------------------------------------------------------------

SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
"""


def test_a_cluster_ip_service_is_current() -> None:
    assert_health(SERVICE + "spec: {clusterIP: 10.0.0.10}\n", CURRENT, "Current", "Service ready")
    assert_health(SERVICE + "spec: {type: NodePort}\n", CURRENT, "Current")


def test_a_load_balancer_waits_for_its_cluster_ip_only() -> None:
    assert_health(SERVICE + "spec: {type: LoadBalancer}\n", IN_PROGRESS, "NoIPAssigned")
    assert_health(
        SERVICE + "spec: {type: LoadBalancer, clusterIP: 10.0.0.10}\n",
        CURRENT,
        "Current",
        "LoadBalancer without an external address yet",
    )
    with_address = """
spec: {type: LoadBalancer, clusterIP: 10.0.0.10}
status: {loadBalancer: {ingress: [{ip: 203.0.113.7}, {hostname: lb.example.com}]}}
"""
    assert_health(
        SERVICE + with_address, CURRENT, "Current", "LoadBalancer at 203.0.113.7, lb.example.com"
    )


# --- CustomResourceDefinition -----------------------------------------------------------

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, generation: 1}
"""


def crd(conditions: str) -> str:
    return CRD + f"status:\n  conditions:\n{conditions}"


def test_a_crd_without_conditions_is_installing() -> None:
    assert_health(CRD, IN_PROGRESS, "Installing")
    assert_health(
        crd("  - {type: Established, status: 'False', reason: Installing}\n"),
        IN_PROGRESS,
        "Installing",
    )


def test_an_established_crd_is_current() -> None:
    conditions = (
        "  - {type: NamesAccepted, status: 'True', reason: NoConflicts}\n"
        "  - {type: Established, status: 'True', reason: InitialNamesAccepted}\n"
    )
    assert_health(crd(conditions), CURRENT, "Current", "Established")


def test_a_crd_whose_names_clash_failed() -> None:
    conditions = (
        "  - {type: NamesAccepted, status: 'False', reason: KindConflict,\n"
        "     message: '\"Widget\" is already in use'}\n"
    )
    assert_health(
        crd(conditions), FAILED, "KindConflict", 'names not accepted: "Widget" is already in use'
    )


def test_a_crd_not_established_for_another_reason_failed() -> None:
    conditions = "  - {type: Established, status: 'False', reason: NotAccepted}\n"
    assert_health(crd(conditions), FAILED, "NotAccepted", "not established")


# --- APIService -------------------------------------------------------------------------

APISERVICE = """
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
"""


def test_an_apiservice_is_current_once_available() -> None:
    assert_health(APISERVICE, IN_PROGRESS, "NotAvailable")
    missing = """
status:
  conditions:
  - {type: Available, status: "False", reason: MissingEndpoints,
     message: endpoints for service/metrics-server in "kube-system" have no addresses}
"""
    assert_health(
        APISERVICE + missing,
        IN_PROGRESS,
        "MissingEndpoints",
        'not available: endpoints for service/metrics-server in "kube-system" have no addresses',
    )
    available = "status:\n  conditions: [{type: Available, status: 'True', reason: Passed}]\n"
    assert_health(APISERVICE + available, CURRENT, "Current", "Available")


# --- nothing to reconcile ---------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        "apiVersion: v1\nkind: ConfigMap",
        "apiVersion: v1\nkind: Secret",
        "apiVersion: batch/v1\nkind: CronJob",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget",
    ],
)
def test_kinds_with_nothing_to_reconcile_are_current(head: str) -> None:
    assert_health(head + "\nmetadata: {name: x, namespace: shop}\n", CURRENT, "AlwaysReady")
