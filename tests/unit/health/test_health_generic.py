"""The rules for every kind (kstatus' generic.go) and custom resources: deletion,
observed generation, Reconciling/Stalled, the Ready condition; NotFound and Unknown."""

from __future__ import annotations

import pytest
from healthlib import assert_health, health

from kgit.health import Health, Status, compute_health

pytestmark = pytest.mark.unit

CURRENT, IN_PROGRESS, FAILED = Status.CURRENT, Status.IN_PROGRESS, Status.FAILED

WIDGET = """
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop, generation: 3}
"""


def widget(status: str) -> str:
    return WIDGET + status


def test_a_missing_object_is_not_found() -> None:
    assert compute_health(None) == Health(Status.NOT_FOUND, "NotFound", "not found")


def test_an_object_being_deleted_is_terminating_whatever_its_kind() -> None:
    deleting = "metadata: {name: web, namespace: shop, deletionTimestamp: '2026-01-01T10:00:00Z'}\n"
    assert_health(
        "apiVersion: apps/v1\nkind: Deployment\n" + deleting, Status.TERMINATING, "Terminating"
    )
    assert_health("apiVersion: v1\nkind: ConfigMap\n" + deleting, Status.TERMINATING, "Terminating")


def test_a_custom_resource_without_status_is_current() -> None:
    assert_health(WIDGET, CURRENT, "Current", "current (no status conditions to wait for)")


def test_a_custom_resource_with_a_stale_observed_generation_is_in_progress() -> None:
    stale = """
status:
  observedGeneration: 2
  conditions: [{type: Ready, status: "True"}]
"""
    assert_health(
        widget(stale),
        IN_PROGRESS,
        "LatestGenerationNotObserved",
        "generation 3 not observed yet (the controller saw 2)",
    )


def test_the_ready_condition_decides_for_a_custom_resource() -> None:
    ready = "status:\n  observedGeneration: 3\n  conditions: [{type: Ready, status: 'True'}]\n"
    assert_health(widget(ready), CURRENT, "Current", "Ready")
    not_ready = (
        "status:\n  observedGeneration: 3\n  conditions:\n"
        "  - {type: Ready, status: 'False', reason: Provisioning, message: waiting for a disk}\n"
    )
    assert_health(widget(not_ready), IN_PROGRESS, "Provisioning", "waiting for a disk")
    unknown = "status:\n  conditions: [{type: Ready, status: Unknown}]\n"
    assert_health(widget(unknown), IN_PROGRESS, "NotReady", "not Ready yet")


def test_reconciling_and_stalled_conditions_come_before_ready() -> None:
    reconciling = """
status:
  conditions:
  - {type: Ready, status: "True"}
  - {type: Reconciling, status: "True", reason: Progressing, message: applying revision 4}
"""
    assert_health(widget(reconciling), IN_PROGRESS, "Progressing", "applying revision 4")
    stalled = """
status:
  conditions:
  - {type: Ready, status: "False"}
  - {type: Stalled, status: "True", reason: InvalidSpec, message: size must be positive}
"""
    assert_health(widget(stalled), FAILED, "InvalidSpec", "size must be positive")


def test_false_reconciling_and_stalled_conditions_are_normal() -> None:
    normal = """
status:
  conditions:
  - {type: Reconciling, status: "False"}
  - {type: Stalled, status: "False"}
"""
    assert health(widget(normal)).status is CURRENT


def test_the_generic_conditions_apply_to_built_in_kinds_too() -> None:
    stalled = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
status:
  conditions: [{type: Stalled, status: "True", reason: Blocked, message: by policy}]
"""
    assert_health(stalled, FAILED, "Blocked", "by policy")


@pytest.mark.parametrize(
    "conditions",
    ["conditions: Ready", "conditions: [Ready]", "conditions: [{type: 1, status: 'True'}]"],
)
def test_malformed_conditions_make_the_status_unknown(conditions: str) -> None:
    found = health(widget(f"status: {{{conditions}}}\n"))
    assert found.status is Status.UNKNOWN
    assert found.message.startswith("status unreadable: ")


def test_mistyped_numbers_read_as_their_defaults_as_in_kstatus() -> None:
    deployment = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: "2"}
status: {replicas: 1, updatedReplicas: 1, readyReplicas: true}
"""
    assert_health(deployment, IN_PROGRESS, "LessAvailable", "0 of 1 updated replicas available")


def test_the_api_version_of_a_kind_does_not_matter_only_its_group() -> None:
    old = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\n"
    assert_health(old, IN_PROGRESS, "LessReplicas")
    # The same kind name in another group is a custom resource: no Deployment rule.
    other = "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: web}\n"
    assert_health(other, CURRENT, "Current")
