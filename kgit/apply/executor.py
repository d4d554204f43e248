"""Carrying out a plan: in order, concurrently within a step, recorded as it goes.

The state is a journal: before a batch of objects is applied it is written with those
objects marked *pending* (write-ahead), and after the batch with their outcome. An apply
killed at any point therefore leaves a record of every object it may have touched; the
next plan shows exactly what is left.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kgit.apply.model import ApplyReport, ObjectResult, Result
from kgit.apply.takeover import take_over_note
from kgit.apply.waits import blocked_by_dependencies, dependencies_of, wait_for_applied
from kgit.cluster.errors import ApiError
from kgit.cluster.waiters import wait_established, wait_gone
from kgit.errors import ApplyError, KgitError
from kgit.manifests.applied import applied_form
from kgit.manifests.normalize import (
    LAST_APPLIED_ANNOTATION,
    normalize,
    stack_of,
    with_source_annotation,
)
from kgit.plan.compute import ignored_fields
from kgit.plan.depends import dependency_steps
from kgit.plan.inputs import RecordedObject
from kgit.plan.model import Action, Reason
from kgit.plan.order import is_removal
from kgit.plan.store import plan_digest
from kgit.state.model import HistoryEntry
from kgit.state.store import save_state

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterator, Mapping

    from kgit.apply.model import ApplyOptions
    from kgit.cluster.client import Cluster
    from kgit.manifests.keys import ObjectKey
    from kgit.manifests.normalize import SensitiveRule
    from kgit.plan.model import ObjectChange, Plan
    from kgit.plan.rules import IgnoreRule
    from kgit.state.lock import Lock
    from kgit.state.model import SourceRecord
    from kgit.state.store import StateHandle

BATCH = 250
CRD_KEY = ("apiextensions.k8s.io", "CustomResourceDefinition")
# Managers a client-side `kubectl apply` leaves behind; while they co-own fields, removing
# a field from Git would not remove it from the cluster.
CLIENT_SIDE_MANAGERS = ("kubectl-client-side-apply", "before-first-apply")
_PAST = {
    Action.CREATE: Result.CREATED,
    Action.UPDATE: Result.UPDATED,
    Action.ADOPT: Result.ADOPTED,
    Action.REPLACE: Result.REPLACED,
    Action.DELETE: Result.DELETED,
    Action.FORGET: Result.FORGOTTEN,
}


def check_allowed(plan: Plan, options: ApplyOptions) -> None:
    """Refuse, before anything changes, a plan that needs a flag the user did not give."""
    replaces = [c.key.subject for c in plan.changes if c.action is Action.REPLACE]
    if replaces and not options.allow_replace:
        raise ApplyError(
            f"{', '.join(replaces)}: must be replaced (immutable fields changed); "
            "apply with --allow-replace to delete and re-create"
        )
    for change in plan.changes:
        for why in change.reasons:
            if why.reason is Reason.OWNED:
                raise ApplyError(
                    f'{change.key.subject}: owned by stack "{why.stack}" (--adopt does not '
                    f"cover it); plan with --take-over-from {why.stack} to take it over"
                )
    adoptions = [c.key.subject for c in plan.changes if c.has_reason(Reason.ADOPT)]
    # A plan made with --adopt was reviewed as such: it is the approval (a stored plan,
    # a watcher's round), never asked for again.
    if adoptions and not (options.adopt or plan.options.adopt):
        raise ApplyError(
            f"{', '.join(adoptions)}: exists in the cluster and was not created by kgit; "
            "apply with --adopt to take it over"
        )


def batches(
    changes: tuple[ObjectChange, ...],
    depends: Mapping[ObjectKey, tuple[ObjectKey, ...]] | None = None,
) -> Iterator[list[ObjectChange]]:
    """The plan's changes cut into steps (same rank and direction, each object after what
    it ``depends`` on), at most BATCH each."""
    for step in dependency_steps(changes, depends or {}):
        for start in range(0, len(step), BATCH):
            yield step[start : start + BATCH]


@dataclasses.dataclass
class _Journal:
    """The state as the apply goes; every save is conditional on the last one."""

    cluster: Cluster
    handle: StateHandle
    bumped: bool = False

    def save(self, objects: dict[ObjectKey, RecordedObject], **changes: Any) -> None:
        state = dataclasses.replace(self.handle.state, objects=objects, **changes)
        self.handle = save_state(self.cluster, self.handle, state, bump=not self.bumped)
        self.bumped = True

    @property
    def objects(self) -> dict[ObjectKey, RecordedObject]:
        return dict(self.handle.state.objects)


def apply_plan(
    cluster: Cluster,
    plan: Plan,
    desired: Mapping[ObjectKey, dict[str, Any]],
    handle: StateHandle,
    options: ApplyOptions,
    *,
    rules: tuple[IgnoreRule, ...] = (),
    sensitive: tuple[SensitiveRule, ...] = (),
    lock: Lock | None = None,
    stop: threading.Event | None = None,
    on_result: Callable[[ObjectResult], None] | None = None,
    origin: SourceRecord | None = None,
    progress: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Apply ``plan``'s changes to the cluster, journaling each batch in the state.

    ``desired`` are the objects to apply (unmasked, as read from Git at the plan's
    commit); ``sensitive`` are kgit.yaml's rules for what the state records masked.
    Stops between batches when ``stop`` is set or ``lock`` is lost; the report
    then says it was interrupted. Raises :class:`ApplyError` before any change for
    replacements or adoptions not allowed by ``options``, or for a malformed or cyclic
    ``kgit.dev/depends-on``. ``origin`` is recorded as where the stack was applied from.

    With ``options.wait``, objects are applied after the objects their
    ``kgit.dev/depends-on`` names, once those are Current (else they fail, not
    applied); at the end every created or updated object is waited for until Current
    (``options.timeout``), its ``progress`` reported, and the report's ``health`` and
    the history entry say how the wait ended.
    """
    check_allowed(plan, options)
    depends = dependencies_of(cluster, desired) if options.wait else {}
    steps = list(batches(plan.changes, depends))
    journal = _Journal(cluster, handle)
    key = handle.state.hmac_key
    report = ApplyReport()
    source = f"@{plan.source.commit}"
    notify = on_result or (lambda _: None)

    def one(change: ObjectChange) -> ObjectResult:
        started = time.monotonic()
        try:
            skipped, uid = _apply_change(cluster, plan, change, desired, rules, source, options)
        except KgitError as err:
            # The result names the object already; keep the server's own words.
            message = str(err).removeprefix(f"{change.key.subject}: ")
            return ObjectResult(change.key, Result.FAILED, message, time.monotonic() - started)
        result = Result.SKIPPED if skipped else _PAST[change.action]
        return ObjectResult(change.key, result, skipped, time.monotonic() - started, uid)

    # The history's plan digest is the sha256 of the plan file's indented JSON: seconds of
    # pure-Python encoding for thousands of creates. Computed while the server applies.
    digester = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgit-digest")
    digest = digester.submit(plan_digest, plan)
    digester.shutdown(wait=False)
    settled = _settled(journal.objects, plan, desired, key, sensitive)
    if settled:
        journal.save({**journal.objects, **settled})
    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        for batch in steps:
            if (stop is not None and stop.is_set()) or (lock is not None and lock.lost):
                report.interrupted = True
                break
            before = journal.objects
            ahead = dict(before)
            applied = {
                c.key: normalize(desired[c.key], key, sensitive)
                for c in batch
                if c.key in desired and not is_removal(c)
            }
            for object_key, masked in applied.items():
                old = before.get(object_key)
                # Until confirmed, a record keeps what was last applied, only marked
                # pending: if this apply dies, the next plan compares Git with what the
                # cluster may still hold, fields Git dropped included.
                ahead[object_key] = (
                    dataclasses.replace(old, pending=True)
                    if old is not None
                    else RecordedObject(object_key, masked, pending=True)
                )
            if ahead != before:
                journal.save(ahead)
            blocked = blocked_by_dependencies(cluster, batch, depends, options, progress, stop)
            ready = [c for c in batch if c.key not in blocked]
            done = dict(zip((c.key for c in ready), pool.map(one, ready), strict=True))
            outcomes = [blocked.get(c.key) or done[c.key] for c in batch]
            after = journal.objects
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for change, outcome in zip(batch, outcomes, strict=True):
                _record(after, change, outcome, now, applied.get(change.key))
                report.results.append(outcome)
                notify(outcome)
            if _is_crd_batch(batch):
                cluster.resources().refresh()
            journal.save(after)

    if options.wait and not report.interrupted:
        report.health = wait_for_applied(cluster, report, options, progress, stop)
    entry = HistoryEntry(
        serial=journal.handle.serial + (0 if journal.bumped else 1),
        plan_digest=digest.result(),
        commit=plan.source.commit,
        who=options.who,
        when=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        added=report.count(Result.CREATED, Result.REPLACED),
        changed=report.count(Result.UPDATED, Result.ADOPTED),
        deleted=report.count(Result.DELETED, Result.REPLACED),
        result=_outcome(report) + take_over_note(plan),
        health=report.health.record() if report.health else "",
    )
    state = journal.handle.state
    journal.save(
        journal.objects,
        commit=plan.source.commit,
        history=[*state.history, entry],
        source=origin or state.source,
    )
    report.serial = journal.handle.serial
    return report


def _outcome(report: ApplyReport) -> str:
    failed = report.count(Result.FAILED)
    if report.interrupted:
        return f"interrupted after {len(report.results)} objects"
    return f"{failed} failed" if failed else "ok"


def _is_crd_batch(batch: list[ObjectChange]) -> bool:
    return any((c.key.group, c.key.kind) == CRD_KEY for c in batch)


def confirm_pending(
    cluster: Cluster,
    plan: Plan,
    desired: Mapping[ObjectKey, dict[str, Any]],
    handle: StateHandle,
    sensitive: tuple[SensitiveRule, ...] = (),
) -> int:
    """Confirm the records an interrupted apply left pending that ``plan`` (with nothing
    to do) found equal to Git; how many. Without it a no-op apply would leave them
    pending for ever. Raises :class:`StateError` if the state moved since ``handle``."""
    state = handle.state
    settled = _settled(state.objects, plan, desired, state.hmac_key, sensitive)
    if settled:
        objects = {**state.objects, **settled}
        save_state(cluster, handle, dataclasses.replace(state, objects=objects), bump=False)
    return len(settled)


def _settled(
    objects: Mapping[ObjectKey, RecordedObject],
    plan: Plan,
    desired: Mapping[ObjectKey, dict[str, Any]],
    hmac_key: bytes,
    sensitive: tuple[SensitiveRule, ...],
) -> dict[ObjectKey, RecordedObject]:
    """Records an interrupted apply left pending that this plan leaves unchanged: the plan
    found them equal to Git, so they are confirmed as Git's (else they stay pending)."""
    changed = {c.key for c in plan.changes}
    return {
        key: RecordedObject(
            key,
            normalize(desired[key], hmac_key, sensitive),
            uid=record.uid,
            applied_at=record.applied_at,
        )
        for key, record in objects.items()
        if record.pending and key in desired and key not in changed
    }


def _record(
    objects: dict[ObjectKey, RecordedObject],
    change: ObjectChange,
    outcome: ObjectResult,
    now: str,
    applied: dict[str, Any] | None,
) -> None:
    """Confirm one object's record as ``applied`` (its masked manifest), or drop it."""
    key = change.key
    if outcome.result is Result.FAILED:
        # Whether the server acted before the failure is unknown (a CRD is created, then
        # never Established; an answer is lost): the record stays as written ahead,
        # pending, so the next plan neither loses track of the object nor trusts it.
        return
    if is_removal(change):
        objects.pop(key, None)
    elif applied is not None:
        objects[key] = RecordedObject(
            key, applied, uid=outcome.uid or objects[key].uid, applied_at=now
        )


def _apply_change(
    cluster: Cluster,
    plan: Plan,
    change: ObjectChange,
    desired: Mapping[ObjectKey, dict[str, Any]],
    rules: tuple[IgnoreRule, ...],
    source: str,
    options: ApplyOptions,
) -> tuple[str, str]:
    """Make one change; returns why it was skipped ("" if not) and the object's uid.

    Raises :class:`KgitError` when the change failed.
    """
    key = change.key
    action = change.action
    if action is Action.FORGET:
        return "", ""
    resource = cluster.resources().lookup(key.group, key.kind)
    if action is Action.DELETE:
        if resource is None:
            raise ApplyError(f"{key.subject}: the cluster no longer serves {key.kind}")
        return _delete(cluster, plan.stack, change, resource, options), ""
    obj = desired[key]
    body = with_source_annotation(
        applied_form(obj, ignored_fields(key, rules), action is not Action.CREATE),
        f"{change.source.rsplit(':', 1)[0]}{source}",
    )
    if action is Action.REPLACE and resource is not None:
        live = cluster.get(resource, key.namespace or None, key.name)
        if live is not None:
            uid = str(live["metadata"]["uid"])
            cluster.delete(resource, key.namespace or None, key.name, uid=uid)
            wait_gone(cluster, resource, key.namespace or None, key.name, options.timeout, uid=uid)
    try:
        applied = cluster.server_side_apply(body, force=True)
    except ApiError as err:
        raise ApplyError(str(err)) from err
    if action is Action.ADOPT:
        _drop_client_side_apply(cluster, applied)
    if (key.group, key.kind) == CRD_KEY:
        wait_established(cluster, key.name, options.timeout)
    return "", str((applied.get("metadata") or {}).get("uid") or "")


def _delete(
    cluster: Cluster,
    stack: str,
    change: ObjectChange,
    resource: Any,
    options: ApplyOptions,
) -> str:
    key = change.key
    namespace = key.namespace or None
    live = cluster.get(resource, namespace, key.name)
    if live is None:
        return ""
    if stack_of(live) != stack:
        # The state may be stale or tampered with: only what carries our label is pruned.
        return f"not deleted: no longer labelled kgit.dev/stack={stack}"
    uid = str(live["metadata"]["uid"])
    cluster.delete(
        resource,
        namespace,
        key.name,
        uid=uid,
        resource_version=str(live["metadata"]["resourceVersion"]),
    )
    if options.wait:
        # Namespaces wait for their finalizers (and so their contents) only when asked.
        wait_gone(cluster, resource, namespace, key.name, options.timeout, uid=uid)
    return ""


def _drop_client_side_apply(cluster: Cluster, applied: dict[str, Any]) -> None:
    """Remove ``kubectl apply``'s managers and annotation from an adopted object.

    While they co-own fields, a field later removed from Git would stay in the cluster.
    """
    meta = applied.get("metadata") or {}
    entries = meta.get("managedFields") or []
    keep = [e for e in entries if e.get("manager") not in CLIENT_SIDE_MANAGERS]
    annotations = meta.get("annotations") or {}
    if len(keep) == len(entries) and LAST_APPLIED_ANNOTATION not in annotations:
        return
    resource = cluster.resource_for(applied)
    namespace = meta.get("namespace") if resource.namespaced else None
    patch: dict[str, Any] = {"metadata": {"managedFields": keep}}
    if LAST_APPLIED_ANNOTATION in annotations:
        patch["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: None}
    cluster.merge_patch(resource, namespace, str(meta["name"]), patch)
