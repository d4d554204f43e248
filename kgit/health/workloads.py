"""Health of the workload controllers' objects, after kstatus' ``core.go``.

Two deliberate departures from kstatus, both for waiting on a rollout:

- A paused Deployment (``spec.paused``) is Current once its replicas are all updated and
  available. kstatus has no rule for it and keeps it InProgress for ever, since the
  controller then sets ``Progressing`` to ``Unknown/DeploymentPaused``. A paused rollout
  that is not complete stays InProgress (reason ``DeploymentPaused``): it will not move
  until someone resumes it, which the message says.
- A started Job is InProgress until it completes or fails. kstatus calls a running Job
  Current, so a wait would end before the Job could fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgit.health.fields import condition, conditions, get_bool, get_int, get_str
from kgit.health.generic import require_generation
from kgit.health.model import Health, current, failed, in_progress, one_line, plural

if TYPE_CHECKING:
    from collections.abc import Mapping

# The Deployment controller treats this progressDeadlineSeconds as "no deadline" and then
# never sets the Progressing condition.
_NO_DEADLINE = 2**31 - 1


def deployment_health(obj: Mapping[str, Any]) -> Health:
    """A Deployment: Failed once its progress deadline passed, else replica counts."""
    progressing = get_int(obj, "spec.progressDeadlineSeconds", _NO_DEADLINE) == _NO_DEADLINE
    available = False
    for cond in conditions(obj):
        if cond.type == "Progressing" and cond.reason == "ProgressDeadlineExceeded":
            return failed(cond.reason, "rollout failed: ProgressDeadlineExceeded")
        if cond.type == "Progressing" and cond.status == "True":
            progressing = progressing or cond.reason == "NewReplicaSetAvailable"
        if cond.type == "Available" and cond.status == "True":
            available = True
    paused = get_bool(obj, "spec.paused")
    counts = _deployment_counts(obj)
    if counts is not None:
        if paused:
            return in_progress("DeploymentPaused", f"rollout paused: {counts.message}")
        return counts
    replicas = plural(get_int(obj, "status.replicas", 0), "replica")
    if paused:
        return current(f"paused, {replicas} updated and available")
    if not progressing:
        return in_progress(
            "ReplicaSetNotAvailable", "waiting for the new ReplicaSet to be available"
        )
    if not available:
        return in_progress("DeploymentNotAvailable", "waiting for the Available condition")
    return current(f"{replicas} updated and available")


def _deployment_counts(obj: Mapping[str, Any]) -> Health | None:
    """kstatus' replica checks, in its order; None when they all pass.

    The ``Available`` condition alone is not enough: with ``maxUnavailable`` it is True
    while replicas are still missing, so the counts are compared to the spec.
    """
    spec = get_int(obj, "spec.replicas", 1)
    status = get_int(obj, "status.replicas", 0)
    updated = get_int(obj, "status.updatedReplicas", 0)
    ready = get_int(obj, "status.readyReplicas", 0)
    available = get_int(obj, "status.availableReplicas", 0)
    if spec > status:
        return in_progress("LessReplicas", f"{status} of {spec} replicas created")
    if spec > updated:
        return in_progress("LessUpdated", f"{updated} of {spec} replicas updated")
    if status > spec:
        return _extra(status - spec)
    if updated > available:
        return in_progress("LessAvailable", f"{available} of {updated} updated replicas available")
    if spec > ready:
        return in_progress("LessReady", f"{ready} of {spec} replicas ready")
    return None


def replicaset_health(obj: Mapping[str, Any]) -> Health:
    """A ReplicaSet: its ``ReplicaFailure`` condition, then replica counts."""
    failure = condition(obj, "ReplicaFailure", "True")
    if failure is not None:
        detail = one_line(f"{failure.reason}: {failure.message}".strip(": "))
        return in_progress("ReplicaFailure", f"replica failure: {detail}")
    spec = get_int(obj, "spec.replicas", 1)
    status = get_int(obj, "status.replicas", 0)
    ready = get_int(obj, "status.readyReplicas", 0)
    available = get_int(obj, "status.availableReplicas", 0)
    labelled = get_int(obj, "status.fullyLabeledReplicas", 0)
    if spec > labelled:
        return in_progress("LessLabelled", f"{labelled} of {spec} replicas labelled")
    if spec > available:
        return in_progress("LessAvailable", f"{available} of {spec} replicas available")
    if spec > ready:
        return in_progress("LessReady", f"{ready} of {spec} replicas ready")
    if status > spec:
        return _extra(status - spec)
    return current(f"{plural(status, 'replica')} available")


def statefulset_health(obj: Mapping[str, Any]) -> Health:
    """A StatefulSet: replica counts, then the partition or the revisions.

    The controller sets no conditions, so a StatefulSet never reads as Failed. With the
    ``OnDelete`` strategy pods change only when deleted: Current as soon as observed.
    """
    if get_str(obj, "spec.updateStrategy.type") == "OnDelete":
        return current("OnDelete update strategy: pods change when deleted", "OnDelete")
    spec = get_int(obj, "spec.replicas", 1)
    status = get_int(obj, "status.replicas", 0)
    ready = get_int(obj, "status.readyReplicas", 0)
    if spec > status:
        return in_progress("LessReplicas", f"{status} of {spec} replicas created")
    if spec > ready:
        return in_progress("LessReady", f"{ready} of {spec} replicas ready")
    if status > spec:
        return _extra(status - spec)
    return _statefulset_revision(obj, spec)


def _statefulset_revision(obj: Mapping[str, Any], spec: int) -> Health:
    updated = get_int(obj, "status.updatedReplicas", 0)
    partition = get_int(obj, "spec.updateStrategy.rollingUpdate.partition", -1)
    if partition != -1:
        # Only ordinals >= partition are updated: the rollout is done when they are.
        wanted = spec - partition
        if updated < wanted:
            return in_progress(
                "PartitionRollout",
                f"{updated} of {wanted} replicas updated (partition {partition})",
            )
        return current(f"partitioned rollout complete: {plural(updated, 'replica')} updated")
    current_replicas = get_int(obj, "status.currentReplicas", 0)
    if spec > current_replicas:
        return in_progress(
            "LessCurrent", f"{current_replicas} of {spec} replicas at the current revision"
        )
    if get_str(obj, "status.currentRevision") != get_str(obj, "status.updateRevision"):
        return in_progress("RevisionMismatch", "waiting for the update revision to become current")
    return current(f"{plural(spec, 'replica')} ready at the current revision")


def daemonset_health(obj: Mapping[str, Any]) -> Health:
    """A DaemonSet: observed by its controller, then pods scheduled, updated, ready."""
    unobserved = require_generation(obj)
    if unobserved is not None:
        return unobserved
    desired = get_int(obj, "status.desiredNumberScheduled", -1)
    if desired == -1:
        return in_progress("NoDesiredNumber", "desired number of pods not computed yet")
    checks = (
        ("LessCurrent", "status.currentNumberScheduled", "scheduled"),
        ("LessUpdated", "status.updatedNumberScheduled", "updated"),
        ("LessAvailable", "status.numberAvailable", "available"),
        ("LessReady", "status.numberReady", "ready"),
    )
    for reason, path, what in checks:
        count = get_int(obj, path, 0)
        if desired > count:
            return in_progress(reason, f"{count} of {desired} pods {what}")
    return current(f"{plural(desired, 'pod')} updated and available")


def job_health(obj: Mapping[str, Any]) -> Health:
    """A Job: Complete is Current, Failed is Failed, a running Job is InProgress."""
    parallelism = get_int(obj, "spec.parallelism", 1)
    completions = get_int(obj, "spec.completions", parallelism)
    succeeded = get_int(obj, "status.succeeded", 0)
    failures = get_int(obj, "status.failed", 0)
    for cond in conditions(obj):
        if cond.status != "True":
            continue
        if cond.type == "Complete":
            return current(f"complete: {succeeded} of {completions} succeeded")
        if cond.type == "Failed":
            reason = cond.reason or "JobFailed"
            return failed(reason, f"failed: {reason} ({plural(failures, 'pod')} failed)")
        if cond.type == "Suspended" and get_bool(obj, "spec.suspend"):
            return current("suspended", "Suspended")
    if not get_str(obj, "status.startTime"):
        return in_progress("JobNotStarted", "not started yet")
    active = get_int(obj, "status.active", 0)
    return in_progress(
        "JobRunning",
        f"{active} active, {succeeded} of {completions} succeeded, {failures} failed",
    )


def _extra(count: int) -> Health:
    return in_progress("ExtraPods", f"{plural(count, 'replica')} pending termination")
