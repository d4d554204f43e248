"""Views of an apply: one line per object as it finishes, and the closing summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.apply.model import Result

if TYPE_CHECKING:
    from kgit.apply.model import ApplyReport, ObjectResult
    from kgit.health.wait import HealthReport


def render_result(result: ObjectResult) -> str:
    """``Deployment/web/nginx: created`` (with the server's word on a failure)."""
    line = f"{result.key.subject}: {result.result.value}"
    if result.result is Result.FAILED:
        return f"{line}: {result.message}"
    if result.message:
        return f"{line} ({result.message})"
    return line


def render_apply_summary(report: ApplyReport, *, destroy: bool = False) -> str:
    """Terraform's closing line: complete, failed, or interrupted, with the counts.

    A destroy says ``Destroy complete! Resources: N destroyed.``
    """
    added = report.count(Result.CREATED, Result.REPLACED)
    changed = report.count(Result.UPDATED, Result.ADOPTED)
    deleted = report.count(Result.DELETED, Result.REPLACED)
    failed = report.count(Result.FAILED)
    counts = f"{added} added, {changed} changed, {deleted} deleted"
    if report.interrupted:
        return (
            f"\nApply interrupted after {len(report.results)} objects: {counts}. "
            "The state records what was done; plan again to see what is left."
        )
    if failed:
        return (
            f"\nApply failed: {failed} {'object' if failed == 1 else 'objects'} failed; {counts}."
        )
    health = report.health
    if health is not None and not health.healthy:
        return f"\nApply failed: the wait for health {health.outcome.value}; {counts}."
    if destroy:
        return f"\nDestroy complete! Resources: {deleted} destroyed."
    return f"\nApply complete! Resources: {counts}."


def render_health(health: HealthReport) -> str:
    """How the wait for health ended: the counts, then each object not Current with the
    reason and the evidence (``Deployment/web/nginx: rollout failed: …; pod …``)."""
    head = f"\nHealth: {health.summary()} ({health.outcome.value} after {health.seconds:.0f}s)"
    return "\n".join([head, *(f"  {o.describe()}" for o in health.problems)])
