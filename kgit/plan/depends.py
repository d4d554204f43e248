"""``kgit.dev/depends-on``: objects that must be Current before another is applied.

An object in Git names, in this annotation, the objects it waits for, comma-separated,
as ``Kind/namespace/name`` (``Kind/name`` for cluster-scoped kinds). With ``kgit apply
--wait`` each object is applied in a step after the objects it names (moved later than
its kind's own step if need be), and only once they are Current. Pure: the kinds' groups
come from the plan's own objects, else from a ``group_of`` the caller reads discovery for.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from kgit.errors import ApplyError
from kgit.manifests.keys import ObjectKey
from kgit.plan.order import is_removal, rank

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from kgit.plan.model import ObjectChange

DEPENDS_ON = "kgit.dev/depends-on"


def compute_dependencies(
    desired: Mapping[ObjectKey, Mapping[str, Any]],
    group_of: Callable[[str], str | None],
) -> dict[ObjectKey, tuple[ObjectKey, ...]]:
    """For each desired object with the annotation, the keys of the objects it names.

    A name matches a desired object of that kind, namespace and name first; else its
    group is ``group_of(kind)`` (discovery). Raises :class:`ApplyError` naming the object
    for a name that is not ``Kind/namespace/name``, a kind nobody serves, or an object
    that depends on itself.
    """
    by_name = {(k.kind, k.namespace, k.name): k for k in desired}
    found: dict[ObjectKey, tuple[ObjectKey, ...]] = {}
    for key, obj in desired.items():
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        text = str(annotations.get(DEPENDS_ON) or "")
        refs = [part.strip() for part in text.split(",") if part.strip()]
        if not refs:
            continue
        keys = []
        for ref in refs:
            parts = ref.split("/")
            if len(parts) not in (2, 3) or not all(parts):
                raise ApplyError(
                    f"{key.subject}: {DEPENDS_ON}: {ref!r} is not Kind/namespace/name "
                    "(Kind/name for a cluster-scoped kind)"
                )
            kind, namespace, name = parts[0], parts[1] if len(parts) == 3 else "", parts[-1]
            named = by_name.get((kind, namespace, name))
            if named is None:
                group = group_of(kind)
                if group is None:
                    raise ApplyError(
                        f"{key.subject}: {DEPENDS_ON}: {ref}: the cluster serves no kind {kind}"
                    )
                named = ObjectKey(group, kind, namespace, name)
            if named == key:
                raise ApplyError(f"{key.subject}: {DEPENDS_ON}: it cannot depend on itself")
            keys.append(named)
        found[key] = tuple(dict.fromkeys(keys))
    return found


def dependency_steps(
    changes: tuple[ObjectChange, ...], depends: Mapping[ObjectKey, tuple[ObjectKey, ...]]
) -> list[list[ObjectChange]]:
    """The plan's changes (in apply order) cut into steps: its kind order's steps (same
    rank and direction), with each object moved to a step after every object of the plan
    it depends on. Dependencies on deletions are ignored (they are going away).

    Raises :class:`ApplyError` naming the objects of a dependency cycle.
    """
    groups = itertools.groupby(changes, key=lambda c: (is_removal(c), rank(c.key)))
    base = {c.key: index for index, (_, group) in enumerate(groups) for c in group}
    applied = {c.key for c in changes if not is_removal(c)}
    position: dict[ObjectKey, tuple[int, int]] = {}

    def place(key: ObjectKey, path: tuple[ObjectKey, ...]) -> tuple[int, int]:
        if key in path:
            cycle = " -> ".join(k.subject for k in (*path[path.index(key) :], key))
            raise ApplyError(f"{key.subject}: {DEPENDS_ON} makes a cycle: {cycle}")
        if key not in position:
            at = (base[key], 0)
            for dep in depends.get(key, ()):
                if dep in applied:
                    step, wave = place(dep, (*path, key))
                    at = max(at, (step, wave + 1))
            position[key] = at
        return position[key]

    def where(change: ObjectChange) -> tuple[int, int]:
        return place(change.key, ()) if change.key in applied else (base[change.key], 0)

    steps: list[list[ObjectChange]] = []
    last: tuple[int, int] | None = None
    for index in sorted(range(len(changes)), key=lambda i: (where(changes[i]), i)):
        at = where(changes[index])
        if at != last:
            steps.append([])
            last = at
        steps[-1].append(changes[index])
    return steps
