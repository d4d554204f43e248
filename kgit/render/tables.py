"""Tables for the state's views: stacks, objects and history (Rows in, text out)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kgit.plan.inputs import RecordedObject
    from kgit.state.model import HistoryEntry, StackInfo


def render_stacks(stacks: Sequence[StackInfo]) -> str:
    """``kgit state list``: one row per stack."""
    if not stacks:
        return "No stacks have a state here."
    rows = [(s.stack, s.serial, s.objects, s.updated, s.lineage) for s in stacks]
    return tabulate(
        rows, headers=["STACK", "SERIAL", "OBJECTS", "UPDATED", "LINEAGE"], tablefmt="plain"
    )


def render_objects(objects: Sequence[RecordedObject]) -> str:
    """``kgit state show``: what kgit tracks, never a Secret value."""
    if not objects:
        return "The state tracks no objects."
    rows = [
        (
            o.key.subject,
            str(o.obj.get("apiVersion", "")),
            o.applied_at or "-",
            "pending" if o.pending else "applied",
            o.uid or "-",
        )
        for o in objects
    ]
    return tabulate(
        rows, headers=["OBJECT", "API VERSION", "APPLIED", "STATUS", "UID"], tablefmt="plain"
    )


def render_history(entries: Sequence[HistoryEntry]) -> str:
    """``kgit history``: the stack's applies, oldest first."""
    if not entries:
        return "No applies recorded yet."
    rows = [
        (
            e.serial,
            e.when,
            e.who,
            e.commit[:12] or "-",
            f"+{e.added} ~{e.changed} -{e.deleted}",
            e.result,
            e.plan_digest[:12] or "-",
        )
        for e in entries
    ]
    return tabulate(
        rows,
        headers=["SERIAL", "WHEN", "WHO", "COMMIT", "CHANGES", "RESULT", "PLAN"],
        tablefmt="plain",
    )
