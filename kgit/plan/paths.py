"""Field paths: flattening objects into leaves named the way users read them.

A path is a tuple of segments: a ``str`` is a map key, a :class:`Item` is a list element
found by its merge key (``containers[name=nginx]``), an ``int`` a list index (lists
without a merge key). Lists of scalars are leaves, compared whole, as server-side apply
treats them (atomic or set-like).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# Merge keys of well-known list fields whose items are not keyed by ``name``
# (server-side apply's ``x-kubernetes-list-map-keys``; ``name`` is tried for the rest).
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "ports": ("containerPort", "port"),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "subjects": ("name",),
}


@dataclass(frozen=True, slots=True, order=True)
class Item:
    """A list element addressed by its merge key, e.g. ``[name=nginx]``."""

    field: str
    value: str


Segment = str | Item | int
Path = tuple[Segment, ...]

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Path) -> str:
    """``spec.template.spec.containers[name=nginx].image``; odd keys are quoted."""
    out = ""
    for seg in path:
        if isinstance(seg, Item):
            out += f"[{seg.field}={seg.value}]"
        elif isinstance(seg, int):
            out += f"[{seg}]"
        elif _PLAIN.match(seg):
            out += f".{seg}" if out else seg
        else:
            out += f'["{seg}"]'
    return out


def _merge_key(field: str, items: list[Any]) -> str | None:
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in (*MERGE_KEYS.get(field, ()), "name"):
        values = [i.get(key) for i in items]
        if all(v is not None for v in values) and len(set(map(str, values))) == len(values):
            return key
    return None


def keyed_items(field: str, items: list[Any]) -> list[tuple[Segment, Any]] | None:
    """The elements of a list of maps with their segments, or None for a scalar list."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    key = _merge_key(field, items)
    if key is None:
        return [(n, item) for n, item in enumerate(items)]
    return [(Item(key, str(item[key])), item) for item in items]


def flatten(obj: Any, prefix: Path = (), field: str = "") -> dict[Path, Any]:
    """Every leaf of ``obj`` by path. Empty maps and lists are leaves too."""
    out: dict[Path, Any] = {}
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            out.update(flatten(v, (*prefix, k), k))
    elif isinstance(obj, list) and obj and (pairs := keyed_items(field, obj)) is not None:
        for seg, item in pairs:
            out.update(flatten(item, (*prefix, seg), field))
    elif prefix:
        out[prefix] = obj
    return out


def lookup(obj: Any, path: Path) -> tuple[bool, Any]:
    """``(found, value)`` at ``path`` in a nested object."""
    current = obj
    for seg in path:
        if isinstance(seg, str):
            if not isinstance(current, dict) or seg not in current:
                return False, None
            current = current[seg]
        elif isinstance(seg, int):
            if not isinstance(current, list) or seg >= len(current):
                return False, None
            current = current[seg]
        else:
            if not isinstance(current, list):
                return False, None
            match = [
                i for i in current if isinstance(i, dict) and str(i.get(seg.field)) == seg.value
            ]
            if len(match) != 1:
                return False, None
            current = match[0]
    return True, current


_QUANTITY = re.compile(
    r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)
_SUFFIX = {
    None: Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity's value (``1000m`` and ``1`` both give 1), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        return None


def same(a: Any, b: Any) -> bool:
    """Equal as the API server sees them: quantities and int-or-string numbers by value."""
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    qa, qb = quantity(a), quantity(b)
    return qa is not None and qa == qb


def covers(live: Any, desired: Any, field: str = "") -> bool:
    """True when every field ``desired`` sets has the same value in ``live``.

    Fields the server added (defaults) are ignored; lists of maps are matched by merge
    key. Used to find the objects that need no dry-run at all.
    """
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return not desired and live is None
        return all(
            covers(live.get(k), v, k) if k in live else _empty(v) for k, v in desired.items()
        )
    if isinstance(desired, list) and (pairs := keyed_items(field, desired)) is not None:
        if not isinstance(live, list) or len(live) != len(desired):
            return False
        live_pairs = keyed_items(field, live)
        if live_pairs is None:
            return False
        by_seg = dict(live_pairs)
        return all(seg in by_seg and covers(by_seg[seg], item, field) for seg, item in pairs)
    return same(live, desired)


def _empty(value: Any) -> bool:
    return value in ({}, [], None)
