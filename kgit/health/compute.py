"""kstatus' ``Compute``: the health of one live object, from the object alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kgit.health import core, workloads
from kgit.health.fields import MalformedStatusError, group_kind
from kgit.health.generic import check_generic, check_ready_condition
from kgit.health.model import Health, Status, unknown

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_RULES: dict[str, Callable[[Mapping[str, Any]], Health]] = {
    "apps/Deployment": workloads.deployment_health,
    "extensions/Deployment": workloads.deployment_health,
    "apps/ReplicaSet": workloads.replicaset_health,
    "extensions/ReplicaSet": workloads.replicaset_health,
    "apps/StatefulSet": workloads.statefulset_health,
    "apps/DaemonSet": workloads.daemonset_health,
    "extensions/DaemonSet": workloads.daemonset_health,
    "batch/Job": workloads.job_health,
    "PersistentVolumeClaim": core.pvc_health,
    "Service": core.service_health,
    "apiextensions.k8s.io/CustomResourceDefinition": core.crd_health,
    "apiregistration.k8s.io/APIService": core.apiservice_health,
    "ConfigMap": core.always_current,
    "Secret": core.always_current,
    "batch/CronJob": core.always_current,
    "policy/PodDisruptionBudget": core.always_current,
}


def compute_health(obj: Mapping[str, Any] | None, *, now: datetime | None = None) -> Health:
    """The health of a live object as read from the API server (None: it does not exist).

    The generic rules come first (being deleted, a generation its controller has not
    observed, ``Reconciling``/``Stalled`` conditions), then the kind's own rule, and for
    kinds without one (custom resources) the ``Ready`` condition. ``now`` is only read
    for a Pod's 15 s scheduling grace; it defaults to the current time. Never raises: a
    status that cannot be read is Unknown.
    """
    if obj is None:
        return Health(Status.NOT_FOUND, "NotFound", "not found")
    try:
        decided = check_generic(obj)
        if decided is not None:
            return decided
        key = group_kind(obj)
        if key == "Pod":
            return core.pod_health(obj, now or datetime.now(UTC))
        rule = _RULES.get(key)
        return rule(obj) if rule is not None else check_ready_condition(obj)
    except MalformedStatusError as err:
        return unknown(f"status unreadable: {err}")
