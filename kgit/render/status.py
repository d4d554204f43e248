"""``kgit status``: a stack's objects with health and drift, and its last rounds, as a
table or JSON (the JSON holds what the table shows, and more)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from kgit.health.wait import summarize_statuses
from kgit.render.tables import render_table_json

if TYPE_CHECKING:
    from kgit.services.status import ObjectStatus, StackStatus
    from kgit.state.model import HistoryEntry
    from kgit.watch.status import WatchStatus


def render_status(status: StackStatus) -> str:
    """The stack's head lines (last apply, last watch round), then one row per object."""
    summary = summarize_statuses(o.health.status for o in status.objects)
    lines = [
        f"Stack {status.stack}: serial {status.serial}, commit {status.commit[:12] or '-'}; "
        f"health: {summary}",
        f"Last apply: {_apply_line(status.last_apply)}",
        f"Last watch round: {_watch_line(status.watch)}",
        "",
    ]
    if not status.objects:
        return "\n".join([*lines, "The stack has no objects."])
    rows = [
        (
            o.key.subject,
            o.health.status.value,
            _drift(o),
            o.applied_at or "-",
            o.commit[:12] or "-",
            o.health.describe().removeprefix(f"{o.key.subject}: "),
        )
        for o in status.objects
    ]
    table = tabulate(
        rows,
        headers=["OBJECT", "HEALTH", "DRIFT", "APPLIED", "COMMIT", "MESSAGE"],
        tablefmt="plain",
    )
    return "\n".join([*lines, table])


def render_status_json(status: StackStatus) -> str:
    """``kgit status --format json``."""
    return render_table_json(
        {
            "stack": status.stack,
            "serial": status.serial,
            "commit": status.commit,
            "healthy": status.healthy,
            "summary": summarize_statuses(o.health.status for o in status.objects),
            "last_apply": dataclasses.asdict(status.last_apply) if status.last_apply else None,
            "last_watch": _watch_json(status.watch),
            "objects": [_object_json(o) for o in status.objects],
        }
    )


def _object_json(o: ObjectStatus) -> dict[str, Any]:
    return {
        "object": o.key.subject,
        "key": str(o.key),
        "health": o.health.status.value,
        "reason": o.health.health.reason,
        "message": o.health.health.message,
        "evidence": o.health.evidence,
        "exists": o.exists,
        "drifted": o.has_drifted,
        "drifted_fields": list(o.drifted),
        "applied_at": o.applied_at,
        "source": o.source,
        "commit": o.commit,
        "pending": o.pending,
    }


def _watch_json(watch: WatchStatus | None) -> dict[str, str] | None:
    if watch is None:
        return None
    return {
        "result": watch.result,
        "time": watch.time,
        "revision": watch.revision,
        "applied": watch.applied,
        "health": watch.health,
        "error": watch.error,
        "summary": watch.summary,
    }


def _drift(o: ObjectStatus) -> str:
    if not o.exists:
        return "deleted"
    if not o.drifted:
        return "no"
    more = f" (+{len(o.drifted) - 1})" if len(o.drifted) > 1 else ""
    return f"{o.drifted[0]}{more}"


def _apply_line(entry: HistoryEntry | None) -> str:
    if entry is None:
        return "none recorded"
    health = f", health {entry.health}" if entry.health else ""
    return (
        f"serial {entry.serial} at {entry.when} by {entry.who}, commit "
        f"{entry.commit[:12] or '-'}: {entry.result}{health}"
    )


def _watch_line(watch: WatchStatus | None) -> str:
    if watch is None or not watch.result:
        return "none (no kgit watch has run for this stack)"
    health = f", health {watch.health}" if watch.health else ""
    error = f": {watch.error}" if watch.error else ""
    return f"{watch.result} at {watch.time}, commit {watch.revision[:12] or '-'}{health}{error}"
