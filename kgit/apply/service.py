"""``kgit apply`` as a service: lock, check or plan, approve, execute, unlock."""

from __future__ import annotations

import dataclasses
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.apply.executor import apply_plan, check_allowed
from kgit.errors import ApplyError, SourceError, StalePlanError
from kgit.plan.order import is_removal
from kgit.planner import Gathered, default_stack_name, gather, make_plan, read_source
from kgit.state.lock import acquire, default_who

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kgit.apply.model import ApplyOptions, ApplyReport, ObjectResult
    from kgit.cluster.client import Cluster
    from kgit.plan.model import Plan
    from kgit.planner import PlanRequestOptions, SourceOptions


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
        live = seen.inputs.live.get(change.key)
        now = live.resource_version if live else ""
        if now != change.live_resource_version:
            was = change.live_resource_version or "absent"
            reasons.append(
                f"{subject}: changed in the cluster since the plan "
                f"(resourceVersion {was} -> {now or 'absent'})"
            )
    return reasons


@contextmanager
def stop_on_signals(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """SIGINT/SIGTERM stop the apply between batches instead of mid-record.

    Yields ``stop`` (a new event if None), set by either signal until the block ends.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def apply_stored(
    cluster: Cluster,
    plan: Plan,
    source_options: SourceOptions,
    plan_options: PlanRequestOptions,
    options: ApplyOptions,
    hooks: ApplyHooks,
    *,
    lock_timeout: float,
) -> ApplyReport:
    """Apply exactly ``plan``, or raise :class:`StalePlanError` saying what moved.

    The desired objects are read again from Git at the plan's commit and their digests
    checked, every touched object's resourceVersion compared, and the state's serial
    and lineage; all under the stack's lock, which is held until the apply ends.
    """
    if plan.source.dirty:
        raise StalePlanError(
            "the plan was made from uncommitted changes (--dirty) and cannot be applied; "
            "commit them and plan again"
        )
    try:
        source = read_source(source_options, commit=plan.source.commit)
    except SourceError as err:
        raise StalePlanError(f"the plan's commit cannot be read: {err}") from err
    check_allowed(plan, options)
    with acquire(
        cluster,
        plan.stack,
        _state_namespace(plan_options, source.config.state_namespace),
        lock_timeout,
        options.who or default_who(),
        operation="apply",
    ) as lock:
        seen = gather(
            cluster, source, _for_stack(plan_options, plan.stack), repo=source_options.repo
        )
        reasons = find_stale(plan, seen)
        if reasons:
            raise StalePlanError("Saved plan is stale:\n  " + "\n  ".join(reasons))
        hooks.progress(f"applying the plan of commit {plan.source.commit[:12]}")
        with stop_on_signals(hooks.stop) as stop:
            return apply_plan(
                cluster,
                plan,
                seen.desired,
                seen.handle,
                options,
                rules=seen.rules,
                sensitive=seen.sensitive,
                lock=lock,
                stop=stop,
                on_result=hooks.on_result,
            )


def apply_now(
    cluster: Cluster,
    source_options: SourceOptions,
    plan_options: PlanRequestOptions,
    options: ApplyOptions,
    hooks: ApplyHooks,
    *,
    lock_timeout: float,
) -> tuple[Plan, ApplyReport | None]:
    """Plan under the lock, ask for approval, apply. ``None`` when there is nothing to do
    or approval was refused (the plan is returned either way)."""
    source = read_source(source_options)
    repo = source_options.repo
    stack = plan_options.stack or source.config.stack or default_stack_name(repo)
    with acquire(
        cluster,
        stack,
        _state_namespace(plan_options, source.config.state_namespace),
        lock_timeout,
        options.who or default_who(),
        operation="apply",
    ) as lock:
        run = make_plan(
            cluster, source, _for_stack(plan_options, stack), repo=repo, progress=hooks.progress
        )
        plan = run.plan
        if not plan.has_changes:
            return plan, None
        check_allowed(plan, options)
        if not hooks.approve(plan):
            raise ApplyError("Apply cancelled.")
        with stop_on_signals(hooks.stop) as stop:
            report = apply_plan(
                cluster,
                plan,
                run.gathered.desired,
                run.gathered.handle,
                options,
                rules=run.gathered.rules,
                sensitive=run.gathered.sensitive,
                lock=lock,
                stop=stop,
                on_result=hooks.on_result,
            )
        return plan, report


def _state_namespace(options: PlanRequestOptions, configured: str) -> str:
    return options.state_namespace or configured


def _for_stack(options: PlanRequestOptions, stack: str) -> PlanRequestOptions:
    return dataclasses.replace(options, stack=stack)
