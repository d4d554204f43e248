"""Refusals of desired objects that could never be applied, or must never be.

Pure checks run by :func:`kgit.plan.compute.compute_plan` before any action is planned:
kgit's own records named in Git, an apiVersion the cluster does not serve, a namespaced
object whose Namespace neither exists nor is created by the plan. Each returns messages
starting with the manifest's ``file:line``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.manifests.keys import group_of

if TYPE_CHECKING:
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.inputs import DesiredObject, PlanInputs

# (group, kind, name prefix) of the objects kgit keeps in the state namespace for every
# stack: state Secrets (and their chunks), lock Leases, watch status ConfigMaps.
RESERVED = (
    ("", "Secret", "kgit-state."),
    ("coordination.k8s.io", "Lease", "kgit-lock-"),
    ("", "ConfigMap", "kgit-status."),
)
NAMESPACE_KIND = ("", "Namespace")


def reserved_record(key: ObjectKey, state_namespace: str) -> bool:
    """True when ``key`` names one of kgit's own records in ``state_namespace``."""
    return key.namespace == state_namespace and any(
        (key.group, key.kind) == (group, kind) and key.name.startswith(prefix)
        for group, kind, prefix in RESERVED
    )


def _where(desired: DesiredObject) -> str:
    return f"{desired.source}: " if desired.source else ""


def check_desired(inputs: PlanInputs, state_namespace: str | None) -> dict[ObjectKey, str]:
    """Why desired objects cannot be planned: reserved, unserved, or without a namespace."""
    created = {d.key.name for d in inputs.desired if (d.key.group, d.key.kind) == NAMESPACE_KIND}
    existing = inputs.existing_namespaces
    errors: dict[ObjectKey, str] = {}
    for desired in inputs.desired:
        key = desired.key
        if state_namespace and reserved_record(key, state_namespace):
            errors[key] = (
                f"{_where(desired)}{key.subject}: the name is reserved for kgit's own records "
                f"in its state namespace {state_namespace} (states, locks, watch status); "
                "Git cannot write them"
            )
            continue
        unserved = _unserved(desired, inputs.served_versions.get((key.group, key.kind)))
        if unserved:
            errors[key] = f"{_where(desired)}{unserved}"
            continue
        if (
            key.namespace
            and existing is not None
            and key.namespace not in existing
            and key.namespace not in created
        ):
            errors[key] = (
                f"{_where(desired)}{key.subject}: namespace {key.namespace} does not exist "
                "and this plan does not create it"
            )
    return errors


def _unserved(desired: DesiredObject, served: tuple[str, ...] | None) -> str:
    """Why the object's apiVersion cannot be applied; "" when the cluster serves it."""
    if not served:
        # Unknown to discovery: a kind whose CRD this plan creates, or an unlisted one.
        return ""
    api_version = str(desired.obj.get("apiVersion") or "")
    group = group_of(api_version)
    version = api_version.rpartition("/")[2]
    if version in served:
        return ""
    serves = ", ".join(f"{group}/{v}" if group else v for v in sorted(served))
    return f"{api_version} {desired.key.kind} is not served by this cluster (it serves {serves})"
