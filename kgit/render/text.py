"""The human view of a plan, Terraform-like, with ANSI colour only when asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.plan.model import Action, Cause, FieldOp
from kgit.render.common import (
    DIRTY,
    cascade_owner,
    change_notes,
    field_lines,
    headline,
    no_changes_sentence,
    render_summary_line,
    source_parts,
    tools_sentence,
    visible_changes,
)

if TYPE_CHECKING:
    from kgit.plan.model import FieldChange, ObjectChange, Plan

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}

_ACTION_COLOR = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.ADOPT: "yellow",
    Action.FORGET: "cyan",
    Action.NOOP: "dim",
}
_OP_COLOR = {FieldOp.ADD: "green", FieldOp.REMOVE: "red", FieldOp.CHANGE: "yellow"}
# Git's own changes are the expected case; what the cluster did needs a second look.
_CAUSE_STYLE: dict[Cause | None, tuple[str, ...]] = {
    Cause.GIT: ("dim",),
    Cause.DRIFT: ("yellow",),
    Cause.BOTH: ("bold", "yellow"),
    None: (),
}


class _Paint:
    """Wraps text in ANSI styles, or leaves it alone when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def render_text(plan: Plan, *, color: bool) -> str:
    """The plan as a person reads it in a terminal; ANSI colour only when ``color``.

    Shows per object a headline, its notes, and its field changes with their causes;
    then the ignore rules in force, the warnings and the summary line. Secret values
    are never shown, only ``(sensitive value)``.
    """
    paint = _Paint(color)
    changes = visible_changes(plan)
    commit, paths = source_parts(plan.source)
    lines: list[str] = []
    if changes:
        where = f"commit {commit}, paths: {paths}" if paths else f"commit {commit}"
        dirty = f" ({DIRTY})" if plan.source.dirty else ""
        lines += [
            f'kgit will perform the following actions on stack "{plan.stack}" ({where}){dirty}:',
            "",
        ]
        for change in changes:
            lines += _object_lines(change, paint)
            lines.append("")
        lines += _cascade_lines(plan, paint)
    else:
        lines += [paint(no_changes_sentence(plan, commit), "green"), ""]
        if plan.source.recorded_paths:
            lines += [f"Paths: {paths}", ""]
    if plan.source.tools:
        lines += [tools_sentence(plan.source), ""]
    if plan.ignored:
        lines += ["Ignored fields: " + "; ".join(plan.ignored), ""]
    for warning in plan.warnings:
        lines += [f"{paint('Warning:', 'bold', 'yellow')} {warning}", ""]
    if changes:
        summary = render_summary_line(plan)
        lines.append(paint("Plan:", "bold") + summary.removeprefix("Plan:"))
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _cascade_lines(plan: Plan, paint: _Paint) -> list[str]:
    """The objects the stack does not own that go with a deleted Namespace."""
    if not plan.cascade:
        return []
    lines = [
        paint("Deleted with their Namespace, not owned by this stack (--allow-cascade):", "bold")
    ]
    lines += [
        f"  {paint('-', 'red')} {item.key.subject} ({cascade_owner(item, plan.stack)})"
        for item in plan.cascade
    ]
    return [*lines, ""]


def _symbol(action: Action, paint: _Paint) -> str:
    if action is Action.REPLACE:
        return paint("-", "red") + "/" + paint("+", "green")
    return paint(action.symbol, _ACTION_COLOR[action])


def _object_lines(change: ObjectChange, paint: _Paint) -> list[str]:
    subject = change.key.subject
    lines = [f"  # {paint(subject, 'bold')} {headline(change)}"]
    lines += [f"  # ({note})" for note in change_notes(change)]
    lines.append(f"  {_symbol(change.action, paint)} {change.api_version} {subject}")
    for fc in change.fields:
        lines += _field_lines(fc, paint)
    return lines


def _field_lines(fc: FieldChange, paint: _Paint) -> list[str]:
    drawn = field_lines(fc)
    cause = f"   {paint(drawn.cause, *_CAUSE_STYLE[fc.cause])}" if fc.cause else ""
    first = f"      {paint(drawn.symbol, _OP_COLOR[fc.op])} {drawn.head}{cause}"
    if drawn.before is None or drawn.after is None:
        return [first]
    return [
        first,
        f"          {paint('-', 'red')} {drawn.before}",
        f"          {paint('+', 'green')} {drawn.after}",
    ]
