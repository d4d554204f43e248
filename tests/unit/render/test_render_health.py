"""The health views: the end of ``apply --wait`` and ``kgit status``."""

from __future__ import annotations

import json

import pytest

from kgit.health import Health, Status
from kgit.health.wait import HealthReport, ObjectHealth, WaitOutcome
from kgit.manifests.keys import ObjectKey
from kgit.render.apply import render_health
from kgit.render.status import render_status, render_status_json
from kgit.services.status import ObjectStatus, StackStatus
from kgit.state.model import HistoryEntry

pytestmark = pytest.mark.unit

FAILED = Health(
    Status.FAILED, "ProgressDeadlineExceeded", "rollout failed: ProgressDeadlineExceeded"
)
CURRENT = Health(Status.CURRENT, "Current", "Service ready")


def test_the_end_of_a_failed_wait_names_the_object_the_reason_and_the_pod() -> None:
    report = HealthReport(
        WaitOutcome.FAILED,
        (
            ObjectHealth("Service/web/nginx", CURRENT),
            ObjectHealth(
                "Deployment/web/nginx", FAILED, "pod nginx-7d9-x: ImagePullBackOff (nginx:v3)"
            ),
        ),
        12.4,
    )
    assert render_health(report) == (
        "\nHealth: 1 Failed, 1 Current (failed after 12s)\n"
        "  Deployment/web/nginx: rollout failed: ProgressDeadlineExceeded; "
        "pod nginx-7d9-x: ImagePullBackOff (nginx:v3)"
    )


def stack_status() -> StackStatus:
    deployment = ObjectKey("apps", "Deployment", "web", "nginx")
    service = ObjectKey("", "Service", "web", "nginx")
    commit = "0123456789abcdef0123"
    return StackStatus(
        stack="web",
        serial=3,
        commit=commit,
        objects=(
            ObjectStatus(
                deployment,
                ObjectHealth(
                    deployment.subject, FAILED, "pod nginx-7d9-x: ImagePullBackOff (nginx:v3)"
                ),
                exists=True,
                drifted=("spec.replicas",),
                applied_at="2026-01-01T00:00:00Z",
                source=f"web.yaml@{commit}",
                pending=False,
            ),
            ObjectStatus(
                service,
                ObjectHealth(service.subject, Health(Status.NOT_FOUND, "NotFound", "not found")),
                exists=False,
                drifted=(),
                applied_at="2026-01-01T00:00:00Z",
                source="",
                pending=False,
            ),
        ),
        last_apply=HistoryEntry(
            3,
            "d" * 64,
            commit,
            "me@host",
            "2026-01-01T00:00:01Z",
            result="ok",
            health="failed: 1 Failed",
        ),
        watch=None,
    )


def test_status_rows_show_health_drift_and_commit() -> None:
    text = render_status(stack_status())
    lines = text.splitlines()
    assert lines[0] == "Stack web: serial 3, commit 0123456789ab; health: 1 Failed, 1 NotFound"
    assert lines[1] == (
        "Last apply: serial 3 at 2026-01-01T00:00:01Z by me@host, commit 0123456789ab: ok, "
        "health failed: 1 Failed"
    )
    assert lines[2] == "Last watch round: none (no kgit watch has run for this stack)"
    assert lines[4].split()[:3] == ["OBJECT", "HEALTH", "DRIFT"]
    assert lines[5].split()[:5] == [
        "Deployment/web/nginx",
        "Failed",
        "spec.replicas",
        "2026-01-01T00:00:00Z",
        "0123456789ab",
    ]
    assert lines[6].split()[:5] == [
        "Service/web/nginx",
        "NotFound",
        "deleted",
        "2026-01-01T00:00:00Z",
        "-",
    ]


def test_status_json_holds_the_table_and_more() -> None:
    found = json.loads(render_status_json(stack_status()))
    assert found["healthy"] is False
    assert found["summary"] == "1 Failed, 1 NotFound"
    first, second = found["objects"]
    assert (first["health"], first["drifted_fields"], first["commit"]) == (
        "Failed",
        ["spec.replicas"],
        "0123456789abcdef0123",
    )
    assert first["evidence"] == "pod nginx-7d9-x: ImagePullBackOff (nginx:v3)"
    assert (second["exists"], second["drifted"]) == (False, True)
