"""Wording shared by the text and markdown views, so both say the same thing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kgit.plan.model import Action, Cause, FieldOp, Reason

if TYPE_CHECKING:
    from kgit.plan.model import CascadeDelete, FieldChange, ObjectChange, Plan, PlanSource

SENSITIVE = "(sensitive value)"
SENSITIVE_CHANGED = "(sensitive value changed)"
DIRTY = "uncommitted changes in the work tree"
PATHS_CHANGED = "paths changed since the last apply, which read"

# Past this many characters of "before -> after", a change is drawn on three lines
# (path, then before, then after) instead of one, so long values stay comparable.
INLINE_CHANGE_WIDTH = 72

HEADLINES = {
    Action.CREATE: "will be created",
    Action.UPDATE: "will be updated in place",
    Action.DELETE: "will be deleted",
    Action.REPLACE: "must be replaced",
    Action.ADOPT: "will be adopted (exists, not created by kgit)",
    Action.FORGET: "will be forgotten (kgit stops tracking it; left in the cluster)",
    Action.NOOP: "is unchanged",
}

TAKEN_FROM_ANOTHER_STACK = "will be taken over (made by another kgit stack)"

_DELETED_OUT_OF_BAND = "deleted out of band"

# The words of each reason, drawn in parentheses under the object's headline.
_REASON_NOTES = {
    Reason.ADOPT: "exists in the cluster and was not created by kgit",
    Reason.CRD_PENDING: "CRD pending: its CustomResourceDefinition is created by this plan",
    Reason.DRIFT_DELETED: f"drift: {_DELETED_OUT_OF_BAND}",
    Reason.PENDING: "an earlier apply did not confirm this object (interrupted, or it failed)",
    Reason.GONE: "already gone from the cluster",
    Reason.NOT_OWNED: "not labelled as this stack's: left in the cluster",
}

# The words of the reasons that name another stack.
_STACK_NOTES = {
    Reason.OWNED: (
        'owned by stack "{stack}": apply refuses it; --take-over-from {stack} to take it over'
    ),
    Reason.TAKE_OVER: 'taken over from stack "{stack}" with --take-over-from',
    Reason.TAKEN_OVER: 'taken over by stack "{stack}"',
}

# Order of the per-action lists in the markdown view, with their labels.
ACTION_LABELS = (
    (Action.CREATE, "Create"),
    (Action.UPDATE, "Update"),
    (Action.REPLACE, "Replace"),
    (Action.DELETE, "Delete"),
    (Action.ADOPT, "Adopt"),
    (Action.FORGET, "Forget"),
)


def headline(change: ObjectChange) -> str:
    """What is planned for ``change``, in words (``will be created``...)."""
    if change.has_reason(Reason.OWNED) or change.has_reason(Reason.TAKE_OVER):
        return TAKEN_FROM_ANOTHER_STACK
    return HEADLINES[change.action]


def render_summary_line(plan: Plan) -> str:
    """``Plan: 2 to add, 1 to change, 0 to delete.`` (``, 1 to forget`` only when > 0).

    A destroy plan says ``to destroy``; objects deleted with their Namespace that the
    stack does not own are counted after the deletions.
    """
    s = plan.summary
    verb = "destroy" if plan.options.destroy else "delete"
    text = f"Plan: {s.add} to add, {s.change} to change, {s.delete} to {verb}"
    if s.forget:
        text += f", {s.forget} to forget"
    if plan.cascade:
        namespaces = ", ".join(f"Namespace/{ns}" for ns in cascade_namespaces(plan))
        text += (
            f" (and {plural(len(plan.cascade), 'object')} not owned by this stack "
            f"deleted with {namespaces})"
        )
    return text + "."


def cascade_namespaces(plan: Plan) -> list[str]:
    """The Namespaces whose deletion takes objects the stack does not own along."""
    return sorted({c.key.namespace for c in plan.cascade})


def cascade_owner(item: CascadeDelete, stack: str) -> str:
    """Who owns an object deleted with its Namespace, in words."""
    if not item.stack:
        return "not created by kgit"
    if item.stack == stack:
        return f'labelled for stack "{stack}" but not in its state'
    return f'owned by stack "{item.stack}"'


def visible_changes(plan: Plan) -> list[ObjectChange]:
    """The changes a view draws: every one but no-ops (they count as unchanged)."""
    return [c for c in plan.changes if c.action is not Action.NOOP]


def short_commit(commit: str) -> str:
    """The 7-character abbreviation Git users recognise."""
    return commit[:7] if commit else "(unknown)"


def plural(count: int, noun: str) -> str:
    """``1 object``, ``2 objects``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def no_changes_sentence(plan: Plan, commit: str) -> str:
    """``No changes. The cluster matches Git at commit <commit> (<n> objects unchanged).``

    ``commit`` is passed drawn (plain or in code), as each view quotes it its own way.
    """
    counted = plural(plan.summary.unchanged, "object") + " unchanged"
    if plan.source.dirty:
        counted = f"{DIRTY}; {counted}"
    return f"No changes. The cluster matches Git at commit {commit} ({counted})."


def format_value(value: Any) -> str:
    """A value as one line of JSON: scalars as JSON scalars, strings quoted and escaped
    (newlines too), dicts and lists compact with sorted keys."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str
    )


def cause_label(fc: FieldChange) -> str:
    """``(git)``, ``(drift: changed by M at T)``, ``(both: changed in Git and by M)``, or ""."""
    if fc.cause is None:
        return ""
    if fc.cause is Cause.GIT:
        return "(git)"
    if fc.cause is Cause.DRIFT:
        return f"(drift: {_cluster_change(fc)})"
    return f"(both: changed in Git and {_cluster_change(fc, at=False).removeprefix('changed ')})"


def _cluster_change(fc: FieldChange, *, at: bool = True) -> str:
    """``changed by M at T``, ``changed in the cluster``, or ``removed in the cluster`` (a
    field the cluster lacks: who removed it is unknown)."""
    if fc.op is FieldOp.ADD:
        return "removed in the cluster"
    by = f"by {fc.manager}" if fc.manager else "in the cluster"
    when = f" at {fc.managed_at}" if at and fc.managed_at else ""
    return f"changed {by}{when}"


@dataclass(frozen=True, slots=True)
class FieldLines:
    """How one field change is drawn: a first line, and for a long change two more.

    ``head`` is ``path: value`` / ``path: before -> after`` / ``path:`` (split form, with
    ``before`` and ``after`` set to the drawn values).
    """

    symbol: str
    head: str
    cause: str
    before: str | None = None
    after: str | None = None


def field_lines(fc: FieldChange, *, split: bool = False) -> FieldLines:
    """Draw one field change; Secret values only ever as ``(sensitive value…)``.

    ``split`` always draws a changed value as ``-``/``+`` lines (GitHub colours only those).
    """
    symbol = {FieldOp.ADD: "+", FieldOp.REMOVE: "-", FieldOp.CHANGE: "~"}[fc.op]
    cause = cause_label(fc)
    if fc.sensitive:
        # The stored values are keyed digests: showing them would only invite guessing.
        shown = SENSITIVE_CHANGED if fc.op is FieldOp.CHANGE else SENSITIVE
        return FieldLines(symbol, f"{fc.path}: {shown}", cause)
    if fc.op is FieldOp.ADD:
        return FieldLines(symbol, f"{fc.path}: {format_value(fc.after)}", cause)
    if fc.op is FieldOp.REMOVE:
        return FieldLines(symbol, f"{fc.path}: {format_value(fc.before)}", cause)
    before, after = format_value(fc.before), format_value(fc.after)
    if split or len(before) + len(after) > INLINE_CHANGE_WIDTH:
        return FieldLines(symbol, f"{fc.path}:", cause, before=before, after=after)
    return FieldLines(symbol, f"{fc.path}: {before} -> {after}", cause)


def source_parts(source: PlanSource) -> tuple[str, str]:
    """(short commit, paths joined by ", ", and the last apply's when they differ) for
    headers; a path's kind is named when it was rendered (``apps/web (kustomize)``)."""
    paths = ", ".join(source_paths(source))
    if source.recorded_paths:
        paths += f" ({PATHS_CHANGED} {', '.join(source.recorded_paths)})"
    return short_commit(source.commit), paths


def source_paths(source: PlanSource) -> list[str]:
    """Each path of the source as the header names it: what it was read as, when known."""
    if source.reads:
        return [str(read) for read in source.reads]
    return list(source.paths)


def tools_sentence(source: PlanSource) -> str:
    """``Rendered with kustomize v5.8.2, helm v3.22.0.`` ("" when nothing was rendered)."""
    return f"Rendered with {', '.join(source.tools)}." if source.tools else ""


def change_notes(change: ObjectChange) -> tuple[str, ...]:
    """The notes drawn under ``change``'s headline: one per reason, one per immutable field."""
    notes: list[str] = []
    for why in change.reasons:
        if why.reason is Reason.IMMUTABLE:
            notes += [f"immutable: {path}" for path in why.paths]
        elif why.reason.has_stack:
            notes.append(_STACK_NOTES[why.reason].format(stack=why.stack))
        else:
            notes.append(_REASON_NOTES[why.reason])
    return tuple(notes)


def drift_items(change: ObjectChange) -> list[tuple[str, str]]:
    """(field path or "", what happened) for each way ``change`` drifted."""
    items: list[tuple[str, str]] = []
    for fc in change.fields:
        if fc.cause is Cause.DRIFT:
            items.append((fc.path, _cluster_change(fc)))
        elif fc.cause is Cause.BOTH:
            cluster = _cluster_change(fc, at=False).removeprefix("changed ")
            items.append((fc.path, f"changed in Git and {cluster} (conflict)"))
    if any(why.reason is Reason.DRIFT_DELETED for why in change.reasons):
        items.append(("", _DELETED_OUT_OF_BAND))
    return items
