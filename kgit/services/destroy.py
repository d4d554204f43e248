"""``kgit destroy`` as a service: plan the deletion of everything a stack owns, ask, delete,
then remove the stack's state, lock and status.

What the stack owns is its recorded state plus every object labelled for it (a lost
state leaves nothing behind). The plan is :func:`kgit.plan.compute.compute_plan` with
nothing desired, so the rails of every plan hold: only objects still labelled for the
stack are deleted, and a Namespace's cascade is refused as for any plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kgit.apply.executor import apply_plan
from kgit.apply.model import ApplyOptions as ApplySettings
from kgit.cluster import CONFIGMAP
from kgit.errors import ApplyError, StalePlanError
from kgit.manifests.normalize import STACK_LABEL
from kgit.plan.compute import compute_plan
from kgit.plan.inputs import LiveObject, PlanInputs, RecordedObject
from kgit.plan.inputs import PlanOptions as PlanSettings
from kgit.plan.model import PlanSource
from kgit.plan.store import write_plan
from kgit.services.connect import connect_cluster
from kgit.services.inventory import list_namespace_contents, scan_labelled
from kgit.services.plan import plan_file_path
from kgit.services.signals import stop_on_signals
from kgit.services.target import Target, resolve_target
from kgit.state.lock import acquire, default_who
from kgit.state.store import STATE_NAMESPACE, delete_state, load_state
from kgit.watch.status import status_name

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.apply.model import ApplyReport
    from kgit.cluster import Cluster
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.model import Plan
    from kgit.services.apply import ApplyHooks
    from kgit.services.verbs import DestroyOptions
    from kgit.state.lock import Lock
    from kgit.state.store import StateHandle

NAMESPACE_KIND = ("", "Namespace")


@dataclass(frozen=True, slots=True)
class DestroyOutcome:
    """What ``kgit destroy`` did: the plan; what happened (None when nothing was applied);
    where the plan was stored (``--out``)."""

    plan: Plan
    report: ApplyReport | None = None
    stored: Path | None = None


def plan_destroy(
    cluster: Cluster, target: Target, *, allow_cascade: bool
) -> tuple[Plan, StateHandle]:
    """The plan deleting every object the stack owns, and the state it was made from.

    Reads the state (never creating it), the objects labelled for the stack (one LIST per
    listable kind), the recorded objects the scan did not find (one GET each), and what
    the Namespaces to delete hold. Raises :class:`PlanError` as any plan does.
    """
    handle = load_state(cluster, target.stack, target.state_namespace)
    recorded = dict(handle.state.objects)
    found = scan_labelled(
        cluster,
        f"{STACK_LABEL}={target.stack}",
        namespaces={k.namespace for k in recorded if k.namespace},
    )
    live = {key: LiveObject(key, obj) for key, obj in found.objects.items()}
    live.update(_read_missing(cluster, [k for k in recorded if k not in live], found.unlisted))
    for key, obj in found.objects.items():
        # Labelled but not recorded (a lost state): owned all the same, so destroyed,
        # unless it is already on its way out (a Namespace still finalizing).
        if key not in recorded and not obj["metadata"].get("deletionTimestamp"):
            recorded[key] = RecordedObject(key, {"apiVersion": obj["apiVersion"]})
    namespaces = {k.name for k in recorded if (k.group, k.kind) == NAMESPACE_KIND}
    contents = list_namespace_contents(cluster, namespaces)
    inputs = PlanInputs(
        stack=target.stack,
        desired=(),
        recorded=recorded,
        live=live,
        unlisted_kinds=frozenset(found.unlisted),
        unlisted_reasons=found.unlisted,
        namespace_contents=contents.contents,
        namespace_unlisted=contents.unlisted,
    )
    plan = compute_plan(
        inputs,
        source=PlanSource(url="", commit=handle.state.commit, paths=()),
        serial=handle.serial,
        lineage=handle.lineage if handle.exists else "",
        options=PlanSettings(
            allow_empty=True,
            # The user asked for every deletion: no limit.
            max_delete=len(recorded),
            state_namespace=target.state_namespace,
            allow_cascade=allow_cascade,
            destroy=True,
        ),
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return plan, handle


def _read_missing(
    cluster: Cluster, keys: list[ObjectKey], unlisted: dict[tuple[str, str], str]
) -> dict[ObjectKey, LiveObject]:
    """Recorded objects the label scan did not find: gone, or no longer labelled."""
    discovery = cluster.resources()
    live: dict[ObjectKey, LiveObject] = {}
    for key in keys:
        resource = discovery.lookup(key.group, key.kind)
        if resource is None or (key.group, key.kind) in unlisted:
            continue
        obj = cluster.get(resource, key.namespace or None, key.name)
        if obj is not None:
            live[key] = LiveObject(key, obj)
    return live


def run_destroy(options: DestroyOptions, hooks: ApplyHooks) -> DestroyOutcome:
    """``kgit destroy``: store the destroy plan (``--out``), or plan under the lock, ask
    ``hooks.approve``, delete, and remove the stack's records.

    Raises :class:`ApplyError` when approval is refused, and what planning raises.
    """
    target = resolve_target(options.target, options.repo)
    with connect_cluster(options.cluster) as cluster:
        if options.out is not None:
            plan, _ = plan_destroy(cluster, target, allow_cascade=options.allow_cascade)
            stored = plan_file_path(options.out, plan.stack)
            write_plan(plan, stored)
            hooks.progress(f"plan stored in {stored}")
            return DestroyOutcome(plan, stored=stored)
        with _lock(cluster, target, options.lock_timeout) as lock:
            plan, handle = plan_destroy(cluster, target, allow_cascade=options.allow_cascade)
            if not plan.has_changes:
                remove_records(cluster, target)
                return DestroyOutcome(plan)
            if not hooks.approve(plan):
                raise ApplyError("Destroy cancelled.")
            report = _execute(cluster, plan, handle, target, _settings(options.wait), hooks, lock)
        return DestroyOutcome(plan, report)


def apply_destroy_plan(
    cluster: Cluster,
    plan: Plan,
    settings: ApplySettings,
    hooks: ApplyHooks,
    *,
    lock_timeout: float,
) -> ApplyReport:
    """``kgit apply PLAN`` of a stored destroy plan: exactly it, or :class:`StalePlanError`.

    Planned again under the lock; stale when the state, an object or a Namespace's
    contents moved since.
    """
    target = Target(plan.stack, plan.options.state_namespace or STATE_NAMESPACE)
    with _lock(cluster, target, lock_timeout) as lock:
        now, handle = plan_destroy(cluster, target, allow_cascade=plan.options.allow_cascade)
        reasons = destroy_moved(plan, now)
        if reasons:
            raise StalePlanError("Saved plan is stale:\n  " + "\n  ".join(reasons))
        return _execute(cluster, plan, handle, target, settings, hooks, lock)


def destroy_moved(stored: Plan, now: Plan) -> list[str]:
    """Why a stored destroy plan no longer holds, comparing it with the plan made now."""
    reasons = []
    if (now.state_lineage, now.state_serial) != (stored.state_lineage, stored.state_serial):
        reasons.append(
            f"the state moved from serial {stored.state_serial} to {now.state_serial} "
            "(another apply ran since the plan)"
        )
    # An object's content, not its resourceVersion: controllers write statuses all along.
    before = {c.key: (c.action, c.live_digest or c.live_resource_version) for c in stored.changes}
    after = {c.key: (c.action, c.live_digest or c.live_resource_version) for c in now.changes}
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            reasons.append(f"{key.subject}: changed in the cluster since the plan")
    if {c.key for c in now.cascade} != {c.key for c in stored.cascade}:
        reasons.append("what the Namespaces to delete hold changed since the plan")
    return reasons


def remove_records(cluster: Cluster, target: Target) -> None:
    """Delete the stack's state Secrets and watch status (the lock goes when released)."""
    delete_state(cluster, target.stack, target.state_namespace)
    cluster.delete(CONFIGMAP, target.state_namespace, status_name(target.stack), uid=None)


def _execute(
    cluster: Cluster,
    plan: Plan,
    handle: StateHandle,
    target: Target,
    settings: ApplySettings,
    hooks: ApplyHooks,
    lock: Lock,
) -> ApplyReport:
    with stop_on_signals(hooks.stop) as stop:
        report = apply_plan(
            cluster, plan, {}, handle, settings, lock=lock, stop=stop, on_result=hooks.on_result
        )
    if not report.failed:
        remove_records(cluster, target)
    return report


def _settings(wait: bool) -> ApplySettings:
    return ApplySettings(wait=wait, who=default_who())


def _lock(cluster: Cluster, target: Target, lock_timeout: float) -> Lock:
    return acquire(cluster, target.stack, target.state_namespace, lock_timeout, operation="destroy")
