"""The rules kstatus applies to every object before its kind's own (``generic.go``) and
after them for kinds it has no rule for (``checkReadyCondition``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgit.health.fields import conditions, field, get_str
from kgit.health.model import Health, Status, current, failed, in_progress

if TYPE_CHECKING:
    from collections.abc import Mapping


def check_generic(obj: Mapping[str, Any]) -> Health | None:
    """Terminating, a generation not yet observed, ``Reconciling``/``Stalled`` conditions.

    None when none of them decides, and the kind's own rule (or the Ready condition)
    should. Raises :class:`~kgit.health.fields.MalformedStatusError`.
    """
    if get_str(obj, "metadata.deletionTimestamp"):
        return Health(Status.TERMINATING, "Terminating", "being deleted")
    stale = check_generation(obj)
    if stale is not None:
        return stale
    for cond in conditions(obj):
        if cond.type == "Reconciling" and cond.status == "True":
            return in_progress(cond.reason or "Reconciling", cond.message or "reconciling")
        if cond.type == "Stalled" and cond.status == "True":
            return failed(cond.reason or "Stalled", cond.message or "stalled")
    return None


def check_generation(obj: Mapping[str, Any]) -> Health | None:
    """InProgress when the controller has not yet observed the latest spec.

    As in kstatus, an object without ``status.observedGeneration`` passes: not every
    controller publishes it.
    """
    generation = field(obj, "metadata.generation")
    observed = field(obj, "status.observedGeneration")
    if not _is_int(generation) or not _is_int(observed) or generation == observed:
        return None
    return in_progress(
        "LatestGenerationNotObserved",
        f"generation {generation} not observed yet (the controller saw {observed})",
    )


def require_generation(obj: Mapping[str, Any]) -> Health | None:
    """InProgress while ``metadata.generation`` or ``status.observedGeneration`` is missing.

    For kinds whose controller always sets both once it has acted (DaemonSet).
    """
    if not _is_int(field(obj, "metadata.generation")):
        return in_progress("NoGeneration", "metadata.generation not set yet")
    if not _is_int(field(obj, "status.observedGeneration")):
        return in_progress("NoObservedGeneration", "not observed by its controller yet")
    return None


def check_ready_condition(obj: Mapping[str, Any]) -> Health:
    """A kind without a rule of its own: its ``Ready`` condition if any, else Current.

    kstatus' caveat holds: a resource that sets Ready only once it is True, or that is
    read before its controller first wrote it, looks Current.
    """
    for cond in conditions(obj):
        if cond.type != "Ready":
            continue
        if cond.status == "True":
            return current("Ready")
        if cond.status in ("False", "Unknown"):
            return in_progress(cond.reason or "NotReady", cond.message or "not Ready yet")
    return current("current (no status conditions to wait for)")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
