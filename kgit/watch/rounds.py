"""How a watch round ended, as data: its result, its exit code, and the outcome of
planning, applying and waiting for health before the round is timed and logged."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.apply.model import Result
from kgit.health.wait import WaitOutcome

if TYPE_CHECKING:
    from kgit.apply.model import ApplyReport, ObjectResult
    from kgit.health.wait import HealthReport
    from kgit.watch.status import WatchStatus

_MAX_ERROR = 2000


class RoundResult(enum.Enum):
    """How a round ended."""

    UNCHANGED = "unchanged"
    APPLIED = "applied"
    PENDING = "pending"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


# `kgit watch --once` exit codes, for cron: 0 the cluster equals Git, 1 the round failed
# (or was cut short), 2 changes wait for approval.
_EXIT_CODES = {
    RoundResult.UNCHANGED: 0,
    RoundResult.APPLIED: 0,
    RoundResult.PENDING: 2,
    RoundResult.FAILED: 1,
    RoundResult.INTERRUPTED: 1,
}


def exit_code_of(result: RoundResult) -> int:
    """The exit code for a round that ended with ``result`` (``--once``, ``kgit sync``)."""
    return _EXIT_CODES[result]


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """What planning and applying gave, before the round is timed and logged."""

    result: RoundResult
    status: WatchStatus | None  # None: the round failed before the status was read
    counts: tuple[int, int, int] = (0, 0, 0)  # added, changed, deleted
    error: str = ""
    plan_file: str = ""
    health: str = ""


def applied_outcome(
    report: ApplyReport, status: WatchStatus, commit: str, failures: list[ObjectResult]
) -> RoundOutcome:
    counts = (
        report.count(Result.CREATED, Result.REPLACED),
        report.count(Result.UPDATED, Result.ADOPTED),
        report.count(Result.DELETED, Result.REPLACED),
    )
    if report.interrupted:
        return RoundOutcome(
            RoundResult.INTERRUPTED,
            status,
            counts,
            error=f"stopped after {len(report.results)} objects; the state records them",
        )
    if failures:
        detail = "; ".join(f"{r.key.subject}: {r.message}" for r in failures)
        return RoundOutcome(
            RoundResult.FAILED,
            status,
            counts,
            error=clip(f"{len(failures)} objects failed: {detail}"),
        )
    return RoundOutcome(
        RoundResult.APPLIED, dataclasses.replace(status.without_pending(), applied=commit), counts
    )


def clip(text: str) -> str:
    """``text`` on one line, cut to what a status ConfigMap and a log line keep."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _MAX_ERROR else one_line[: _MAX_ERROR - 1] + "…"


def judge_health(outcome: RoundOutcome, health: HealthReport) -> RoundOutcome:
    """``outcome`` with how the wait for health ended: kept when every object is Current
    or the wait timed out (a rollout may take longer than a round; the next one looks
    again), else failed (or interrupted) naming the objects that are not Current."""
    record = health.record()
    status = dataclasses.replace(outcome.status, health=record) if outcome.status else None
    if health.outcome in (WaitOutcome.CURRENT, WaitOutcome.TIMED_OUT):
        return dataclasses.replace(outcome, status=status, health=record)
    result = (
        RoundResult.INTERRUPTED if health.outcome is WaitOutcome.INTERRUPTED else RoundResult.FAILED
    )
    problems = "; ".join(o.describe() for o in health.problems)
    error = clip(f"health {health.outcome.value}: {problems}")
    return RoundOutcome(result, status, outcome.counts, error=error, health=record)
