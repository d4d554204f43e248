"""How a watch round ends: exit codes."""

from __future__ import annotations

import pytest

from kgit.health import Health, Status
from kgit.health.wait import HealthReport, ObjectHealth, WaitOutcome
from kgit.watch.rounds import RoundOutcome, RoundResult, exit_code_of, judge_health
from kgit.watch.status import WatchStatus

pytestmark = pytest.mark.unit


def test_once_exit_codes_suit_cron() -> None:
    assert {r: exit_code_of(r) for r in RoundResult} == {
        RoundResult.UNCHANGED: 0,
        RoundResult.APPLIED: 0,
        RoundResult.PENDING: 2,
        RoundResult.FAILED: 1,
        RoundResult.INTERRUPTED: 1,
    }


def _report(outcome: WaitOutcome, *objects: ObjectHealth) -> HealthReport:
    return HealthReport(outcome, objects, 1.0)


FAILED = ObjectHealth(
    "Deployment/web/nginx",
    Health(Status.FAILED, "ProgressDeadlineExceeded", "rollout failed: ProgressDeadlineExceeded"),
    "pod nginx-1: ImagePullBackOff (nginx:v3)",
)
WAITING = ObjectHealth(
    "Deployment/web/nginx",
    Health(Status.IN_PROGRESS, "LessAvailable", "0 of 1 updated replicas available"),
)


def test_a_failed_object_fails_the_round_naming_it() -> None:
    status = WatchStatus("web", "kgit-system")
    judged = judge_health(
        RoundOutcome(RoundResult.APPLIED, status, (0, 1, 0)), _report(WaitOutcome.FAILED, FAILED)
    )
    assert (judged.result, judged.counts, judged.health) == (
        RoundResult.FAILED,
        (0, 1, 0),
        "failed: 1 Failed",
    )
    assert judged.error == (
        "health failed: Deployment/web/nginx: rollout failed: ProgressDeadlineExceeded; "
        "pod nginx-1: ImagePullBackOff (nginx:v3)"
    )
    assert judged.status is not None and judged.status.health == "failed: 1 Failed"


def test_a_rollout_still_in_progress_leaves_the_round_as_it_was() -> None:
    outcome = RoundOutcome(RoundResult.UNCHANGED, None)
    judged = judge_health(outcome, _report(WaitOutcome.TIMED_OUT, WAITING))
    assert (judged.result, judged.error, judged.health) == (
        RoundResult.UNCHANGED,
        "",
        "timed out: 1 InProgress",
    )
    stopped = judge_health(outcome, _report(WaitOutcome.INTERRUPTED, WAITING))
    assert stopped.result is RoundResult.INTERRUPTED
