"""Field-level changes of one object, each with its cause and, for drift, who made it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kgit.manifests.normalize import DIGEST_PREFIX
from kgit.plan.model import Cause, FieldChange, FieldOp
from kgit.plan.paths import Item, Path, covers, flatten, format_path, lookup, same
from kgit.plan.rules import ignored_path

if TYPE_CHECKING:
    from collections.abc import Mapping

FIELD_MANAGER = "kgit"


def managed_paths(desired: Mapping[str, Any], recorded: Mapping[str, Any] | None) -> list[Path]:
    """The fields kgit manages: those Git sets, then those it last set and Git dropped."""
    paths = list(flatten(dict(desired)))
    seen = set(paths)
    if recorded is not None:
        paths += [p for p in flatten(dict(recorded)) if p not in seen]
    return paths


def _is_sensitive(obj: Mapping[str, Any], path: Path, *values: Any) -> bool:
    """A Secret's value, or one a kgit.yaml rule masked (a keyed digest stands for it)."""
    if obj.get("kind") == "Secret" and bool(path) and path[0] in ("data", "stringData"):
        return True
    return any(isinstance(v, str) and v.startswith(DIGEST_PREFIX) for v in values)


def compute_field_changes(
    desired: Mapping[str, Any],
    recorded: Mapping[str, Any] | None,
    live: Mapping[str, Any],
    result: Mapping[str, Any],
    *,
    ignored: tuple[str, ...] = (),
) -> tuple[FieldChange, ...]:
    """What changes from ``live`` to ``result`` (the dry-run's answer) in managed fields.

    Each change names its cause: ``git`` when Git moved away from the recorded state,
    ``drift`` when the cluster did (with the field manager and time from
    ``managedFields``), ``both`` when both did. Without a record (adoption) Git is the
    cause. Ignored paths never appear.
    """
    changes = []
    for path in managed_paths(desired, recorded):
        text = format_path(path)
        if ignored_path(text, ignored):
            continue
        had, before = lookup(live, path)
        has, after = lookup(result, path)
        if had == has and (not had or same(before, after)):
            continue
        op = FieldOp.CHANGE if had and has else FieldOp.ADD if has else FieldOp.REMOVE
        cause, manager, when = _cause(path, desired, recorded, live)
        changes.append(
            FieldChange(
                path=text,
                op=op,
                before=before if had else None,
                after=after if has else None,
                cause=cause,
                manager=manager,
                managed_at=when,
                sensitive=_is_sensitive(desired, path, before, after),
            )
        )
    return tuple(changes)


def _cause(
    path: Path,
    desired: Mapping[str, Any],
    recorded: Mapping[str, Any] | None,
    live: Mapping[str, Any],
) -> tuple[Cause, str | None, str | None]:
    if recorded is None:
        return Cause.GIT, None, None
    git = not _same_at(desired, recorded, path)
    found_l, live_value = lookup(live, path)
    found_r, recorded_value = lookup(recorded, path)
    # A removed field is owned by nobody: who removed it is unknown, never guessed.
    manager, when = field_owner(live, path) if found_l else (None, None)
    if found_l and not found_r:
        # kgit never set it: a server default (nobody owns it, e.g. a Deployment's
        # replicas), unless another manager set it.
        drift = manager is not None
    else:
        # The live side carries server defaults below what was recorded: compare only
        # what the record sets.
        drift = found_l != found_r or (found_r and not covers(live_value, recorded_value))
    if not drift:
        return Cause.GIT, None, None
    return (Cause.BOTH if git else Cause.DRIFT), manager, when


def drifted_paths(recorded: Mapping[str, Any], live: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields kgit last applied (``recorded``) that ``live`` no longer holds as
    applied: removed or changed in the cluster (defaults the server added do not count).

    Both sides as kgit compares them (server fields stripped, sensitive values masked).
    A local comparison: no dry-run resolves what a webhook would have changed.
    """
    drifted = []
    for path, value in flatten(dict(recorded)).items():
        found, now = lookup(live, path)
        kept = covers(now, value) if found else value in ({}, [], None)
        if not kept:
            drifted.append(format_path(path))
    return tuple(drifted)


def _same_at(a: Mapping[str, Any], b: Mapping[str, Any], path: Path) -> bool:
    found_a, va = lookup(a, path)
    found_b, vb = lookup(b, path)
    return found_a == found_b and (not found_a or same(va, vb))


def create_fields(desired: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Every field of a new object, as additions."""
    return tuple(
        FieldChange(
            path=format_path(path),
            op=FieldOp.ADD,
            after=value,
            sensitive=_is_sensitive(desired, path, value),
        )
        for path, value in flatten(dict(desired)).items()
    )


def field_owner(
    live: Mapping[str, Any], path: Path, exclude: str = FIELD_MANAGER
) -> tuple[str | None, str | None]:
    """The manager (other than kgit) that owns ``path`` and last wrote it, and when.

    Read from ``metadata.managedFields``; ``(None, None)`` when no other manager owns it
    (a server default; a removed field, whose remover managedFields does not tell).
    """
    owners = [
        e
        for e in (live.get("metadata") or {}).get("managedFields") or []
        if isinstance(e, dict)
        and e.get("manager") != exclude
        and _owns(e.get("fieldsV1") or {}, path)
    ]
    if not owners:
        return None, None
    latest = max(owners, key=lambda e: str(e.get("time") or ""))
    return str(latest.get("manager")), (str(latest["time"]) if latest.get("time") else None)


def _owns(fields: Mapping[str, Any], path: Path) -> bool:
    node: Any = fields
    for seg in path:
        if isinstance(node, dict) and not node:
            return True  # a leaf owned whole above this path, e.g. an atomic list
        if not isinstance(node, dict):
            return False
        if isinstance(seg, str):
            key: str | None = f"f:{seg}"
        elif isinstance(seg, Item):
            key = _item_key(node, seg)
        else:
            return False
        if key is None or key not in node:
            return False
        node = node[key]
    return True


def _item_key(node: Mapping[str, Any], item: Item) -> str | None:
    for key in node:
        if not key.startswith("k:"):
            continue
        try:
            fields = json.loads(key[2:])
        except ValueError:
            continue
        if isinstance(fields, dict) and str(fields.get(item.field)) == item.value:
            return str(key)
    return None
