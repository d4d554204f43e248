"""The three-way plan: a pure, total function of Git, the recorded state and the cluster.

Planning is two pure steps around the I/O the caller does in between:
:func:`compute_candidates` says which objects a server-side dry-run must confirm (those
the local comparison cannot clear), then :func:`compute_plan` turns everything into a
:class:`~kgit.plan.model.Plan`, sorted in apply order.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from kgit.errors import PlanError
from kgit.manifests.normalize import live_content_digest, stack_of, strip_server_fields
from kgit.plan.cascade import compute_cascade
from kgit.plan.checks import check_desired
from kgit.plan.diff import compute_field_changes, create_fields
from kgit.plan.model import (
    Action,
    ChangeReason,
    FieldChange,
    ObjectChange,
    Plan,
    PlanSource,
    Reason,
)
from kgit.plan.order import sort_changes
from kgit.plan.paths import covers, same

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kgit.manifests.keys import ObjectKey
    from kgit.plan.inputs import DesiredObject, LiveObject, PlanInputs, PlanOptions, RecordedObject
    from kgit.plan.rules import IgnoreRule

# A stack this small may lose a few objects without --max-delete: 30% of three objects is
# less than one, and removing one Service from a small stack is an everyday change.
MIN_MAX_DELETE = 10
MAX_DELETE_SHARE = 0.3


def ignored_fields(key: ObjectKey, rules: tuple[IgnoreRule, ...]) -> tuple[str, ...]:
    """The field paths the rules in force ignore for ``key``."""
    return tuple(f for rule in rules if rule.matches(key) for f in rule.fields)


def _ours(live: LiveObject, stack: str) -> bool:
    return stack_of(dict(live.obj)) == stack


def _other_stack(live: LiveObject, stack: str) -> str:
    """The other stack whose label ``live`` carries ("" if none, or if it is ``stack``'s)."""
    owner = stack_of(dict(live.obj)) or ""
    return owner if owner != stack else ""


def compute_candidates(inputs: PlanInputs, rules: tuple[IgnoreRule, ...] = ()) -> set[ObjectKey]:
    """Desired objects that exist and may change: only these need a server-side dry-run.

    An object is cleared locally when Git did not move from the record and the live
    object still has every recorded value (defaults the server added do not count).
    """
    candidates = set()
    for desired in inputs.desired:
        live = inputs.live.get(desired.key)
        if live is None:
            continue
        recorded = inputs.recorded.get(desired.key)
        if (
            recorded is None
            or recorded.pending
            or ignored_fields(desired.key, rules)
            or not same(dict(desired.obj), dict(recorded.obj))
            or not covers(strip_server_fields(dict(live.obj)), dict(recorded.obj))
        ):
            candidates.add(desired.key)
    return candidates


def compute_plan(
    inputs: PlanInputs,
    *,
    source: PlanSource,
    serial: int,
    lineage: str,
    options: PlanOptions,
    rules: tuple[IgnoreRule, ...] = (),
    created_at: str = "",
) -> Plan:
    """The plan for one stack.

    Implements every row of DESIGN.md's three-way table and its safety rails. Raises
    :class:`PlanError` when the plan cannot be trusted: an empty desired set that would
    prune everything, more deletions than allowed, or objects the dry-run refused.
    """
    changes: list[ObjectChange] = []
    warnings: list[str] = []
    errors: list[str] = []
    unchanged = 0
    desired_keys = {d.key for d in inputs.desired}
    refused = check_desired(inputs, options.state_namespace)
    errors += refused.values()

    for desired in inputs.desired:
        if desired.key in refused:
            continue
        kind = (desired.key.group, desired.key.kind)
        if kind in inputs.unlisted_kinds:
            reason = inputs.unlisted_reasons.get(kind)
            errors.append(
                f"{desired.key.subject}: the cluster could not list {desired.key.kind}; "
                "cannot tell whether it exists" + (f": {reason}" if reason else "")
            )
            continue
        change = _plan_desired(desired, inputs, options, rules, errors)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)

    for key, recorded in sorted(inputs.recorded.items()):
        if key in desired_keys:
            continue
        change = _plan_removed(key, recorded, inputs, warnings)
        if change is not None:
            changes.append(change)

    cascade = compute_cascade(inputs, changes, options)
    errors += cascade.errors
    if errors:
        raise PlanError("the plan cannot be computed:\n  " + "\n  ".join(errors))
    _check_rails(inputs, changes, options)
    if any(c.has_reason(Reason.ADOPT) for c in changes) and not options.adopt:
        warnings.append(
            "objects that exist but were not created by kgit are planned for adoption; "
            "apply refuses them unless --adopt is given"
        )
    warnings += [
        f'{c.key.subject}: owned by stack "{why.stack}"; apply refuses it (--adopt does not '
        f"cover it): plan with --take-over-from {why.stack} to take it over"
        for c in changes
        for why in c.reasons
        if why.reason is Reason.OWNED
    ]
    return Plan(
        stack=inputs.stack,
        source=source,
        state_serial=serial,
        state_lineage=lineage,
        changes=sort_changes(_with_live_digests(changes, inputs.live)),
        unchanged=unchanged,
        warnings=tuple(warnings),
        ignored=tuple(rule.describe() for rule in rules),
        created_at=created_at,
        # Recorded so a reviewer sees the rails the plan was computed under (the delete
        # limit resolved), and so applying it reads Git and the state as planning did.
        options=dataclasses.replace(options, max_delete=max_delete(len(inputs.recorded), options)),
        cascade=cascade.deletes,
    )


def _plan_desired(
    desired: DesiredObject,
    inputs: PlanInputs,
    options: PlanOptions,
    rules: tuple[IgnoreRule, ...],
    errors: list[str],
) -> ObjectChange | None:
    key = desired.key
    recorded = inputs.recorded.get(key)
    live = inputs.live.get(key)
    dry_run = inputs.dry_runs.get(key)
    if dry_run is not None and dry_run.error:
        # The file and line to fix come first, then the object and the server's word.
        errors.append(f"{desired.source}: {dry_run.error}" if desired.source else dry_run.error)
        return None

    if live is None:
        reasons: list[ChangeReason] = []
        if (key.group, key.kind) in inputs.pending_kinds:
            reasons.append(ChangeReason(Reason.CRD_PENDING))
        if recorded is not None and recorded.pending:
            # Recorded ahead by an apply that did not confirm it: not drift.
            reasons.append(ChangeReason(Reason.PENDING))
        elif recorded is not None:
            reasons.append(ChangeReason(Reason.DRIFT_DELETED))
        return _desired_change(desired, Action.CREATE, create_fields(desired.obj), reasons)

    rv = live.resource_version
    ours = _ours(live, inputs.stack)
    if not ours and recorded is not None and recorded.pending and not recorded.uid:
        # Written ahead by an apply that never confirmed it: no proof that kgit made the
        # object that stands there now, so it is adopted like any other.
        recorded = None
    other = _other_stack(live, inputs.stack)
    if other and recorded is not None:
        # Taken over by another stack since kgit applied it: never re-applied, never
        # deleted; the record goes (two stacks must not take an object from each other).
        return _taken_over(key, str(desired.obj.get("apiVersion")), live, other)
    ignored = ignored_fields(key, rules)
    live_obj = dict(live.obj)
    if dry_run is not None and dry_run.immutable:
        fields = compute_field_changes(
            desired.obj,
            recorded.obj if recorded else None,
            strip_server_fields(live_obj),
            desired.obj,
            ignored=ignored,
        )
        immutable = [ChangeReason(Reason.IMMUTABLE, paths=dry_run.immutable)]
        return _desired_change(desired, Action.REPLACE, fields, immutable, rv)
    if dry_run is None or dry_run.obj is None:
        if recorded is None and not ours:
            # Not ours and no dry-run asked: the caller skipped it, which is a bug upstream.
            errors.append(f"{key.subject}: exists in the cluster but was not dry-run")
        return None
    fields = compute_field_changes(
        desired.obj,
        recorded.obj if recorded is not None else None,
        live_obj,
        dry_run.obj,
        ignored=ignored,
    )
    if recorded is None and not ours:
        return _desired_change(desired, Action.ADOPT, fields, [_adopt_reason(other, options)], rv)
    if not fields:
        return None
    pending = [ChangeReason(Reason.PENDING)] if recorded is not None and recorded.pending else []
    return _desired_change(desired, Action.UPDATE, fields, pending, rv)


def _adopt_reason(other: str, options: PlanOptions) -> ChangeReason:
    """Why an existing object is adopted: made by no stack, owned by another stack (refused
    at apply), or taken over from it with ``--take-over-from``."""
    if not other:
        return ChangeReason(Reason.ADOPT)
    if other == options.take_over_from:
        return ChangeReason(Reason.TAKE_OVER, stack=other)
    return ChangeReason(Reason.OWNED, stack=other)


def _taken_over(key: ObjectKey, api_version: str, live: LiveObject, other: str) -> ObjectChange:
    return ObjectChange(
        key=key,
        action=Action.FORGET,
        api_version=api_version,
        live_resource_version=live.resource_version,
        reasons=(ChangeReason(Reason.TAKEN_OVER, stack=other),),
    )


def _desired_change(
    desired: DesiredObject,
    action: Action,
    fields: tuple[FieldChange, ...],
    reasons: list[ChangeReason],
    live_resource_version: str = "",
) -> ObjectChange:
    return ObjectChange(
        key=desired.key,
        action=action,
        api_version=str(desired.obj.get("apiVersion")),
        fields=fields,
        live_resource_version=live_resource_version,
        desired_digest=desired.digest,
        source=desired.source,
        reasons=tuple(reasons),
    )


def _plan_removed(
    key: ObjectKey, recorded: RecordedObject, inputs: PlanInputs, warnings: list[str]
) -> ObjectChange | None:
    api_version = str(recorded.obj.get("apiVersion"))
    if (key.group, key.kind) in inputs.unlisted_kinds:
        warnings.append(
            f"{key.subject}: not pruned, the cluster could not list {key.kind} "
            "(absent from the answer is not absent from the cluster)"
        )
        return None
    live = inputs.live.get(key)
    if live is None:
        return ObjectChange(
            key=key,
            action=Action.FORGET,
            api_version=api_version,
            reasons=(ChangeReason(Reason.GONE),),
        )
    other = _other_stack(live, inputs.stack)
    if other:
        return _taken_over(key, api_version, live, other)
    if not _ours(live, inputs.stack):
        warnings.append(
            f"{key.subject}: removed from Git but no longer labelled "
            f"kgit.dev/stack={inputs.stack}; kgit stops tracking it and leaves it in place"
        )
        return ObjectChange(
            key=key,
            action=Action.FORGET,
            api_version=api_version,
            live_resource_version=live.resource_version,
            reasons=(ChangeReason(Reason.NOT_OWNED),),
        )
    return ObjectChange(
        key=key,
        action=Action.DELETE,
        api_version=api_version,
        live_resource_version=live.resource_version,
    )


def max_delete(recorded_count: int, options: PlanOptions) -> int:
    """How many deletions a plan may hold without the user raising ``--max-delete``."""
    if options.max_delete is not None:
        return options.max_delete
    return max(MIN_MAX_DELETE, math.ceil(recorded_count * MAX_DELETE_SHARE))


def _check_rails(inputs: PlanInputs, changes: list[ObjectChange], options: PlanOptions) -> None:
    deletes = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
    prunes = [c for c in changes if c.action is Action.DELETE]
    if not inputs.desired and prunes and not options.allow_empty:
        raise PlanError(
            f"the desired set is empty: refusing to plan deleting all {len(prunes)} objects "
            f"of stack {inputs.stack!r} (an empty or truncated source? use --allow-empty "
            "if you mean it)"
        )
    limit = max_delete(len(inputs.recorded), options)
    if len(deletes) > limit:
        names = ", ".join(c.key.subject for c in deletes[:5])
        more = f" and {len(deletes) - 5} more" if len(deletes) > 5 else ""
        raise PlanError(
            f"the plan deletes {len(deletes)} objects ({names}{more}), more than the "
            f"limit of {limit}; raise --max-delete to allow it"
        )


def _with_live_digests(
    changes: list[ObjectChange], live: Mapping[ObjectKey, LiveObject]
) -> list[ObjectChange]:
    """Each change with the content digest of the live object it was planned against."""
    return [
        dataclasses.replace(c, live_digest=live_content_digest(live[c.key].obj))
        if c.key in live
        else c
        for c in changes
    ]
