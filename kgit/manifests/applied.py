"""The form of a desired object that kgit sends to the server."""

from __future__ import annotations

from typing import Any


def applied_form(obj: dict[str, Any], ignored: tuple[str, ...], exists: bool) -> dict[str, Any]:
    """The object as kgit sends it: ignored fields left out of updates.

    An ignored field (``spec.replicas`` under an HPA) is still set when the object is
    created, but never sent again, so kgit does not take it back from its owner.
    """
    if not exists or not ignored:
        return obj
    return _without(obj, [p.split(".") for p in ignored if "[" not in p])


def _without(obj: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    out = dict(obj)
    for path in paths:
        if len(path) == 1:
            out.pop(path[0], None)
        elif isinstance(out.get(path[0]), dict):
            out[path[0]] = _without(out[path[0]], [path[1:]])
    return out
