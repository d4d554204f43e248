"""The state's views: stacks, a stack's objects and its history, as text and as JSON.

Each view has both forms (kapp's "every table also as --json"); the JSON holds what the
table shows and more, never a Secret value.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kgit.manifests.keys import ObjectKey
    from kgit.plan.inputs import RecordedObject
    from kgit.state.model import HistoryEntry, StackInfo
    from kgit.state.store import StateHandle


def render_table_json(value: Any) -> str:
    """Stable, readable JSON for ``--format json`` of a table."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def render_stacks_json(stacks: Sequence[StackInfo]) -> str:
    """``kgit state list --format json``."""
    return render_table_json([dataclasses.asdict(s) for s in stacks])


def render_orphans(orphans: Mapping[str, Sequence[ObjectKey]]) -> str:
    """``kgit state list --orphans``: stacks without a state whose objects are labelled."""
    if not orphans:
        return "No labelled objects without a state.\n"
    rows = [
        (
            stack,
            len(keys),
            ", ".join(k.subject for k in keys[:3]) + (", ..." if len(keys) > 3 else ""),
        )
        for stack, keys in orphans.items()
    ]
    table = tabulate(rows, headers=("STACK", "OBJECTS", "FOR EXAMPLE"), tablefmt="plain")
    return (
        table
        + "\n\nEach has objects labelled kgit.dev/stack=<stack> but no state: kgit state recover --stack <stack>\n"
    )


def render_recovered(
    stack: str, keys: Sequence[ObjectKey], serial: int, unlisted: Sequence[str]
) -> str:
    """``kgit state recover``: what was recorded, and the kinds that could not be read."""
    lines = [f"  + {k.subject}" for k in keys]
    lines.append(
        f"Recovered {len(keys)} object(s) into the state of stack {stack} (serial {serial}); "
        "plan to see what Git no longer holds."
    )
    lines += [f"Warning: not looked through: {what}" for what in unlisted]
    return "\n".join(lines) + "\n"


def render_orphans_json(orphans: Mapping[str, Sequence[ObjectKey]]) -> str:
    """``kgit state list --orphans --format json``."""
    return render_table_json(
        [{"stack": stack, "objects": [str(k) for k in keys]} for stack, keys in orphans.items()]
    )


def render_history_json(entries: Sequence[HistoryEntry]) -> str:
    """``kgit history --format json``."""
    return render_table_json([dataclasses.asdict(e) for e in entries])


def render_state(handle: StateHandle) -> str:
    """``kgit state show``: the stack's serial, lineage and commit, then its objects."""
    state = handle.state
    head = (
        f"Stack {state.stack}: serial {handle.serial}, lineage {handle.lineage}, "
        f"commit {state.commit[:12] or '-'}\n\n"
    )
    return head + render_objects([state.objects[k] for k in sorted(state.objects)])


def render_state_json(handle: StateHandle) -> str:
    """``kgit state show --format json``: Secret values appear only as digests."""
    state = handle.state
    return render_table_json(
        {
            "stack": state.stack,
            "serial": handle.serial,
            "lineage": handle.lineage,
            "commit": state.commit,
            "objects": [
                {
                    "key": str(o.key),
                    "uid": o.uid,
                    "applied_at": o.applied_at,
                    "pending": o.pending,
                    "manifest": o.obj,
                }
                for o in (state.objects[k] for k in sorted(state.objects))
            ],
        }
    )


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
            e.health or "-",
            e.plan_digest[:12] or "-",
        )
        for e in entries
    ]
    return tabulate(
        rows,
        headers=["SERIAL", "WHEN", "WHO", "COMMIT", "CHANGES", "RESULT", "HEALTH", "PLAN"],
        tablefmt="plain",
    )
