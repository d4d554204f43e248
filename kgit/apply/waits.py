"""What ``kgit apply --wait`` waits for: the objects ``kgit.dev/depends-on`` names before
a step, and every object the apply wrote at its end (polling in :mod:`kgit.cluster.health`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgit.apply.model import ObjectResult, Result
from kgit.cluster.health import wait_healthy
from kgit.plan.depends import compute_dependencies
from kgit.plan.order import is_removal

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Mapping

    from kgit.apply.model import ApplyOptions, ApplyReport
    from kgit.cluster.client import Cluster
    from kgit.health.wait import HealthReport
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.model import ObjectChange

# What --wait waits for: the objects this apply wrote.
_WAITED = (Result.CREATED, Result.UPDATED, Result.ADOPTED, Result.REPLACED)


def dependencies_of(
    cluster: Cluster, desired: Mapping[ObjectKey, dict[str, Any]]
) -> dict[ObjectKey, tuple[ObjectKey, ...]]:
    """The ``kgit.dev/depends-on`` of the desired objects, kinds' groups from discovery."""

    def group_of(kind: str) -> str | None:
        groups = [r.group for r in cluster.resources() if r.kind == kind]
        # A kind served by several groups (Event) means its core one, as kubectl does.
        return "" if "" in groups else (groups[0] if groups else None)

    return compute_dependencies(desired, group_of)


def blocked_by_dependencies(
    cluster: Cluster,
    batch: list[ObjectChange],
    depends: Mapping[ObjectKey, tuple[ObjectKey, ...]],
    options: ApplyOptions,
    progress: Callable[[str], None] | None,
    stop: threading.Event | None,
) -> dict[ObjectKey, ObjectResult]:
    """Wait until what the batch's objects depend on is Current; a failed result for each
    object whose dependencies are not (it is not applied)."""
    waits = {c.key: depends.get(c.key, ()) for c in batch if not is_removal(c)}
    needed = [dep for deps in waits.values() for dep in deps]
    if not needed:
        return {}
    health = wait_healthy(cluster, needed, options.timeout, progress=progress, stop=stop)
    troubled = {o.subject: o for o in health.problems}
    blocked = {}
    for key, deps in waits.items():
        reasons = [troubled[d.subject].describe() for d in deps if d.subject in troubled]
        if reasons:
            message = f"not applied: waits for {'; '.join(reasons)} ({health.outcome.value})"
            blocked[key] = ObjectResult(key, Result.FAILED, message)
    return blocked


def wait_for_applied(
    cluster: Cluster,
    report: ApplyReport,
    options: ApplyOptions,
    progress: Callable[[str], None] | None,
    stop: threading.Event | None,
) -> HealthReport | None:
    """Wait until every created, updated, adopted or replaced object is Current."""
    keys = [r.key for r in report.results if r.result in _WAITED]
    if not keys:
        return None
    return wait_healthy(cluster, keys, options.timeout, progress=progress, stop=stop)
