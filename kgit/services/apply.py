"""``kgit apply`` as a service: lock, check or plan, approve, execute, unlock."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.apply.executor import apply_plan, check_allowed, confirm_pending
from kgit.apply.model import ApplyOptions as ApplySettings
from kgit.apply.takeover import record_take_overs
from kgit.durations import parse_duration
from kgit.errors import ApplyError, ConfigError, SourceError, StalePlanError
from kgit.manifests.normalize import live_content_digest
from kgit.plan.cascade import compute_cascade
from kgit.plan.order import is_removal
from kgit.plan.store import read_plan
from kgit.services.connect import connect_cluster
from kgit.services.destroy import apply_destroy_plan
from kgit.services.gather import Gathered, gather
from kgit.services.origin import origin_of
from kgit.services.plan import make_plan
from kgit.services.signals import stop_on_signals
from kgit.services.source import check_source, open_spec, remote_of
from kgit.services.target import Target, resolve_target
from kgit.source.read import read_source
from kgit.state.lock import acquire, default_who
from kgit.watch.remote import source_of_plan
from kgit.watch.status import load_pending_plan

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from kgit.apply.model import ApplyReport, ObjectResult
    from kgit.cluster.client import Cluster
    from kgit.plan.inputs import LiveObject
    from kgit.plan.model import ObjectChange, Plan
    from kgit.services.options import PlanningOptions
    from kgit.services.verbs import ApplyOptions
    from kgit.source.read import Source, SourceSpec
    from kgit.state.lock import Lock


@dataclass(frozen=True, slots=True)
class ApplyHooks:
    """How the service talks to its caller: progress, per-object results, approval."""

    progress: Callable[[str], None]
    on_result: Callable[[ObjectResult], None]
    approve: Callable[[Plan], bool]
    # Set by SIGINT/SIGTERM during the apply; a caller that passes its own event (the
    # watch loop) learns of a signal that arrived while the apply owned the handlers.
    stop: threading.Event | None = None


def find_stale(plan: Plan, seen: Gathered) -> list[str]:
    """Why a stored plan no longer holds: what moved in the state, cluster or Git."""
    reasons = []
    handle = seen.handle
    if handle.lineage != plan.state_lineage:
        reasons.append(
            f"the state's lineage is {handle.lineage}, the plan was made for {plan.state_lineage}"
        )
    elif handle.serial != plan.state_serial:
        reasons.append(
            f"the state moved from serial {plan.state_serial} to {handle.serial} "
            "(another apply ran since the plan)"
        )
    digests = {d.key: d.digest for d in seen.inputs.desired}
    for change in plan.changes:
        subject = change.key.subject
        # Every change that applies a manifest must carry the digest of the reviewed one:
        # a plan without it (edited by hand) would apply whatever Git holds, unchecked.
        wanted = change.desired_digest or not is_removal(change)
        commit = plan.source.commit[:12]
        if wanted and change.key not in digests:
            reasons.append(f"{subject}: not in Git at commit {commit} (was the plan edited?)")
        elif wanted and digests[change.key] != change.desired_digest:
            reasons.append(
                f"{subject}: the manifest at commit {commit} differs from the reviewed one"
            )
        moved = _live_moved(change, seen.inputs.live.get(change.key))
        if moved:
            reasons.append(f"{subject}: changed in the cluster since the plan ({moved})")
    return reasons + _cascade_moved(plan, seen)


def _live_moved(change: ObjectChange, live: LiveObject | None) -> str:
    """How the live object moved since the plan, or "" when it did not.

    Only its content counts: a controller writing the status (a Deployment's pods coming
    up) moves the resourceVersion but changes nothing the plan was computed from. A plan
    without content digests (older) compares resourceVersions.
    """
    now = live.resource_version if live else ""
    was = change.live_resource_version or "absent"
    moved = f"resourceVersion {was} -> {now or 'absent'}"
    if not change.live_digest or live is None:
        return moved if now != change.live_resource_version else ""
    return moved if live_content_digest(live.obj) != change.live_digest else ""


def _cascade_moved(plan: Plan, seen: Gathered) -> list[str]:
    """What the Namespaces the plan deletes hold now that the plan did not show."""
    options = dataclasses.replace(plan.options, allow_cascade=True)
    now = compute_cascade(seen.inputs, plan.changes, options)
    shown = {c.key for c in plan.cascade}
    return [*now.errors] + [
        f"{c.key.subject}: now inside Namespace/{c.key.namespace}, which the plan deletes; "
        "the plan did not show it"
        for c in now.deletes
        if c.key not in shown
    ]


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """The plan that was applied (or shown), and what happened; no report when nothing
    was to be done."""

    plan: Plan
    report: ApplyReport | None


def run_apply(options: ApplyOptions, hooks: ApplyHooks) -> ApplyOutcome:
    """``kgit apply``: a stored plan (a file, or the one a watcher left) exactly, or plan
    now under the lock and ask ``hooks.approve``.

    Raises :class:`StalePlanError` for a stored plan the world moved away from,
    :class:`ApplyError` when approval is refused, and what planning raises.
    """
    check_source(options.inputs.source)
    if options.pending and options.plan_file is not None:
        raise ConfigError("--pending applies the plan kgit watch left, instead of a PLAN")
    settings = ApplySettings(
        allow_replace=options.allow_replace,
        adopt=options.inputs.planning.adopt,
        wait=options.wait,
        concurrency=max(1, options.concurrency),
        timeout=parse_duration(options.wait_timeout),
        who=default_who(),
    )
    with connect_cluster(options.inputs.cluster) as cluster:
        if options.plan_file is not None or options.pending:
            plan = _stored_plan(cluster, options)
            if plan.options.destroy:
                return ApplyOutcome(
                    plan,
                    apply_destroy_plan(
                        cluster, plan, settings, hooks, lock_timeout=options.lock_timeout
                    ),
                )
            spec = source_of_plan(
                cluster,
                plan,
                repo=options.inputs.source.repo,
                remote=remote_of(options.inputs.source),
            )
            report: ApplyReport | None = apply_stored(
                cluster,
                plan,
                spec,
                options.inputs.planning,
                settings,
                hooks,
                state_namespace=options.inputs.target.state_namespace,
                lock_timeout=options.lock_timeout,
            )
            return ApplyOutcome(plan, report)
        spec, commit = open_spec(cluster, options.inputs.source)
        source = read_source(spec, commit=commit)
        target = resolve_target(options.inputs.target, spec.repo, source.config)
        plan, report = apply_now(
            cluster,
            source,
            target,
            options.inputs.planning,
            settings,
            hooks,
            lock_timeout=options.lock_timeout,
        )
        return ApplyOutcome(plan, report)


def _stored_plan(cluster: Cluster, options: ApplyOptions) -> Plan:
    """The plan file, or the plan the stack's watcher left for approval."""
    if options.plan_file is not None:
        plan = read_plan(options.plan_file)
    else:
        target = resolve_target(options.inputs.target, options.inputs.source.repo)
        plan = load_pending_plan(cluster, target.state_namespace, target.stack)
    if options.inputs.target.stack and options.inputs.target.stack != plan.stack:
        raise ConfigError(
            f"the plan is for stack {plan.stack!r}, not {options.inputs.target.stack!r}: "
            "a stored plan applies to its own stack"
        )
    return plan


def as_planned(
    plan: Plan, planning: PlanningOptions, state_namespace: str | None
) -> tuple[PlanningOptions, str | None]:
    """``planning`` and ``state_namespace`` with the namespaces ``plan`` was computed with.

    Raises :class:`ConfigError` when one given differs from the plan's: a stored plan
    applies with its own settings, as it was reviewed.
    """
    recorded = plan.options
    for what, given, planned in (
        ("default namespace", planning.default_namespace, recorded.default_namespace),
        ("state namespace", state_namespace, recorded.state_namespace),
    ):
        if given and planned and given != planned:
            raise ConfigError(
                f"the plan was made with {what} {planned}, not {given}: "
                "a stored plan applies with its own settings"
            )
    return (
        dataclasses.replace(
            planning,
            default_namespace=recorded.default_namespace or planning.default_namespace,
            # The plan's objects were rendered with (or without) the generators: so are
            # the objects its digests are checked against.
            manifest_generation=recorded.manifest_generation,
        ),
        recorded.state_namespace or state_namespace,
    )


def apply_stored(
    cluster: Cluster,
    plan: Plan,
    spec: SourceSpec,
    planning: PlanningOptions,
    settings: ApplySettings,
    hooks: ApplyHooks,
    *,
    state_namespace: str | None,
    lock_timeout: float,
) -> ApplyReport:
    """Apply exactly ``plan``, or raise :class:`StalePlanError` saying what moved.

    The desired objects are read again from Git at the plan's commit and their digests
    checked, every touched object's resourceVersion compared, and the state's serial
    and lineage; all under the stack's lock, which is held until the apply ends. The
    default and state namespaces are the plan's own (see :func:`as_planned`), else
    ``planning``'s and ``state_namespace``, else kgit.yaml's at the plan's commit.
    """
    if plan.source.dirty:
        raise StalePlanError(
            "the plan was made from uncommitted changes (--dirty) and cannot be applied; "
            "commit them and plan again"
        )
    try:
        source = read_source(spec, commit=plan.source.commit)
    except SourceError as err:
        raise StalePlanError(f"the plan's commit cannot be read: {err}") from err
    check_allowed(plan, settings)
    planning, state_namespace = as_planned(plan, planning, state_namespace)
    target = Target(
        stack=plan.stack,
        state_namespace=state_namespace or source.config.state_namespace,
    )
    with _lock(cluster, target, lock_timeout, settings) as lock:
        seen = gather(cluster, source, target, planning)
        reasons = find_stale(plan, seen)
        if reasons:
            raise StalePlanError("Saved plan is stale:\n  " + "\n  ".join(reasons))
        hooks.progress(f"applying the plan of commit {plan.source.commit[:12]}")
        return _execute(cluster, plan, seen, settings, hooks, lock=lock, timeout=lock_timeout)


def apply_now(
    cluster: Cluster,
    source: Source,
    target: Target,
    planning: PlanningOptions,
    settings: ApplySettings,
    hooks: ApplyHooks,
    *,
    lock_timeout: float,
) -> tuple[Plan, ApplyReport | None]:
    """Plan under the lock, ask for approval, apply. ``None`` when there is nothing to do
    (the plan is returned either way); :class:`ApplyError` when approval is refused."""
    with _lock(cluster, target, lock_timeout, settings) as lock:
        run = make_plan(cluster, source, target, planning, progress=hooks.progress)
        plan = run.plan
        seen = run.gathered
        if not plan.has_changes:
            confirm_pending(cluster, plan, seen.desired, seen.handle, seen.sensitive)
            return plan, None
        check_allowed(plan, settings)
        if not hooks.approve(plan):
            raise ApplyError("Apply cancelled.")
        return plan, _execute(cluster, plan, seen, settings, hooks, lock=lock, timeout=lock_timeout)


def _execute(
    cluster: Cluster,
    plan: Plan,
    seen: Gathered,
    settings: ApplySettings,
    hooks: ApplyHooks,
    *,
    lock: Lock,
    timeout: float,
) -> ApplyReport:
    """Apply ``plan`` (approved, checked) under ``lock``: take-overs recorded in the other
    stacks' histories first, then the ordered steps; signals stop it between batches."""
    record_take_overs(cluster, plan, lock.namespace, lock.who, timeout)
    with stop_on_signals(hooks.stop) as stop:
        return apply_plan(
            cluster,
            plan,
            seen.desired,
            seen.handle,
            settings,
            rules=seen.rules,
            sensitive=seen.sensitive,
            lock=lock,
            stop=stop,
            on_result=hooks.on_result,
            origin=origin_of(seen.source.repo, plan.source),
            progress=hooks.progress,
        )


def _lock(
    cluster: Cluster, target: Target, lock_timeout: float, settings: ApplySettings
) -> AbstractContextManager[Lock]:
    """The stack's lock for an apply, held until it ends."""
    who = settings.who or default_who()
    return acquire(
        cluster, target.stack, target.state_namespace, lock_timeout, who, operation="apply"
    )
