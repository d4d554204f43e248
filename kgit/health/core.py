"""Health of Pods, claims, Services and the API's own extension points, after kstatus'
``core.go`` (APIService, which kstatus lacks, reads its ``Available`` condition)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from kgit.health.fields import MalformedStatusError, condition, conditions, field, get_str
from kgit.health.model import Health, current, failed, in_progress, one_line

# kstatus gives a Pod this long to be scheduled before its Unschedulable condition counts.
SCHEDULE_WINDOW = timedelta(seconds=15)


def pod_health(obj: Mapping[str, Any], now: datetime) -> Health:
    """A Pod by its phase: a finished Pod, even a failed one, is Current (as in kstatus:
    it is not being reconciled any more); a crash-looping one is Failed."""
    phase = get_str(obj, "status.phase")
    if phase == "Succeeded":
        return current("completed", "PodSucceeded")
    if phase == "Failed":
        return current("completed, but not successfully", "PodFailed")
    if phase == "Running":
        return _running_pod(obj)
    if phase == "Pending":
        return _pending_pod(obj, now)
    if not phase:
        return in_progress("PodNotObserved", "no phase yet")
    raise MalformedStatusError(f"unknown phase {phase}")


def _running_pod(obj: Mapping[str, Any]) -> Health:
    if condition(obj, "Ready", "True") is not None:
        return current("Ready")
    looping = [
        str(status.get("name", ""))
        for status in _container_statuses(obj)
        if field(status, "state.waiting.reason") == "CrashLoopBackOff"
    ]
    if looping:
        return failed(
            "ContainerCrashLooping", f"containers in CrashLoopBackOff: {', '.join(looping)}"
        )
    return in_progress("PodRunningNotReady", "running but not Ready")


def _pending_pod(obj: Mapping[str, Any], now: datetime) -> Health:
    unscheduled = condition(obj, "PodScheduled", "False")
    if unscheduled is not None and unscheduled.reason == "Unschedulable":
        created = _timestamp(get_str(obj, "metadata.creationTimestamp"))
        if created is not None and now - created < SCHEDULE_WINDOW:
            return in_progress("PodNotScheduled", "not scheduled yet")
        detail = f": {one_line(unscheduled.message)}" if unscheduled.message else ""
        return failed("PodUnschedulable", f"cannot be scheduled{detail}")
    return in_progress("PodPending", "Pending")


def _container_statuses(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = field(obj, "status.containerStatuses")
    return [s for s in raw if isinstance(s, Mapping)] if isinstance(raw, list) else []


def pvc_health(obj: Mapping[str, Any]) -> Health:
    """A PersistentVolumeClaim is Current once Bound."""
    phase = get_str(obj, "status.phase", "unknown")
    if phase != "Bound":
        return in_progress("NotBound", f"not Bound (phase {phase})")
    return current("Bound")


def service_health(obj: Mapping[str, Any]) -> Health:
    """A Service is Current once it has a cluster IP (kstatus' only check, for LoadBalancers).

    A LoadBalancer without an external address yet is still Current, as in kstatus (a
    cluster without a load-balancer controller would otherwise never be healthy); the
    message says whether it has one.
    """
    if get_str(obj, "spec.type", "ClusterIP") != "LoadBalancer":
        return current("Service ready")
    if not get_str(obj, "spec.clusterIP"):
        return in_progress("NoIPAssigned", "LoadBalancer without a cluster IP yet")
    addresses = [
        str(entry.get("ip") or entry.get("hostname") or "")
        for entry in field(obj, "status.loadBalancer.ingress") or []
        if isinstance(entry, Mapping)
    ]
    if any(addresses):
        return current(f"LoadBalancer at {', '.join(a for a in addresses if a)}")
    return current("LoadBalancer without an external address yet")


def crd_health(obj: Mapping[str, Any]) -> Health:
    """A CustomResourceDefinition is Current once Established, Failed if its names clash."""
    for cond in conditions(obj):
        if cond.type == "NamesAccepted" and cond.status == "False":
            return failed(
                cond.reason or "NamesNotAccepted", _detail("names not accepted", cond.message)
            )
        if cond.type == "Established":
            if cond.status == "False" and cond.reason != "Installing":
                return failed(
                    cond.reason or "NotEstablished", _detail("not established", cond.message)
                )
            if cond.status == "True":
                return current("Established")
    return in_progress("Installing", "being established")


def apiservice_health(obj: Mapping[str, Any]) -> Health:
    """An APIService is Current once Available; until then InProgress with the reason
    (``MissingEndpoints``, ``FailedDiscoveryCheck``): its backend may still be starting."""
    available = condition(obj, "Available")
    if available is None:
        return in_progress("NotAvailable", "no Available condition yet")
    if available.status == "True":
        return current("Available")
    return in_progress(
        available.reason or "NotAvailable", _detail("not available", available.message)
    )


def always_current(obj: Mapping[str, Any]) -> Health:
    """Kinds that have nothing to reconcile (ConfigMap, Secret, CronJob, PDB)."""
    return current("nothing to wait for", "AlwaysReady")


def _detail(what: str, message: str) -> str:
    return f"{what}: {one_line(message)}" if message else what


def _timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
