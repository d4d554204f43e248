"""When a wait for health is over, and how its end reads."""

from __future__ import annotations

import pytest

from kgit.health import Health, Status
from kgit.health.wait import (
    STATUS_GRACE,
    HealthReport,
    ObjectHealth,
    WaitOutcome,
    await_first_status,
    decide_wait,
    summarize_statuses,
)

pytestmark = pytest.mark.unit

CURRENT = Health(Status.CURRENT, "Current", "2 replicas updated and available")
WAITING = Health(Status.IN_PROGRESS, "LessAvailable", "1 of 2 updated replicas available")
FAILED = Health(
    Status.FAILED, "ProgressDeadlineExceeded", "rollout failed: ProgressDeadlineExceeded"
)


@pytest.mark.parametrize(
    ("healths", "outcome"),
    [
        ([CURRENT, CURRENT], WaitOutcome.CURRENT),
        ([], WaitOutcome.CURRENT),
        ([CURRENT, WAITING], None),
        ([WAITING, FAILED], WaitOutcome.FAILED),
        ([Health(Status.NOT_FOUND, "NotFound", "not found")], None),
        ([Health(Status.TERMINATING, "Terminating", "being deleted")], None),
    ],
)
def test_a_wait_ends_when_all_are_current_or_one_failed(
    healths: list[Health], outcome: WaitOutcome | None
) -> None:
    assert decide_wait(healths) is outcome


def test_the_summary_counts_worst_first() -> None:
    statuses = [Status.CURRENT, Status.FAILED, Status.CURRENT, Status.IN_PROGRESS]
    assert summarize_statuses(statuses) == "1 Failed, 1 InProgress, 2 Current"
    assert summarize_statuses([]) == "no objects"


def test_a_report_names_the_failed_object_first_with_its_evidence() -> None:
    report = HealthReport(
        WaitOutcome.FAILED,
        (
            ObjectHealth("Namespace/web", CURRENT),
            ObjectHealth("Deployment/web/api", WAITING),
            ObjectHealth(
                "Deployment/web/nginx", FAILED, "pod nginx-7d9-x: ImagePullBackOff (nginx:v3)"
            ),
        ),
        31.0,
    )
    assert not report.healthy
    assert [o.subject for o in report.problems] == ["Deployment/web/nginx", "Deployment/web/api"]
    assert report.problems[0].describe() == (
        "Deployment/web/nginx: rollout failed: ProgressDeadlineExceeded; "
        "pod nginx-7d9-x: ImagePullBackOff (nginx:v3)"
    )
    assert report.record() == "failed: 1 Failed, 1 InProgress, 1 Current"


def widget(**status: object) -> dict[str, object]:
    obj: dict[str, object] = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}}
    if status:
        obj["status"] = status
    return obj


def test_a_custom_resource_without_status_waits_for_its_controller_a_little() -> None:
    seen = Health(Status.CURRENT, "Current", "current (no status conditions to wait for)")
    waiting = await_first_status(widget(), seen, 0.5)
    assert (waiting.status, waiting.reason) == (Status.IN_PROGRESS, "NoStatusYet")
    # After the grace, kstatus' answer stands; and once the controller wrote, at once.
    assert await_first_status(widget(), seen, STATUS_GRACE) is seen
    assert await_first_status(widget(observedGeneration=1), seen, 0.5) is seen


@pytest.mark.parametrize(
    "api_version", ["v1", "apps/v1", "rbac.authorization.k8s.io/v1", "gateway.networking.k8s.io/v1"]
)
def test_built_in_kinds_have_no_grace(api_version: str) -> None:
    obj = {"apiVersion": api_version, "kind": "Thing", "metadata": {}}
    assert await_first_status(obj, CURRENT, 0.0) is CURRENT
    assert await_first_status(None, WAITING, 0.0) is WAITING
