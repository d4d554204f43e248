"""Reading a live object's fields the way kstatus does: a missing or mistyped number or
string reads as its default, a malformed ``status.conditions`` makes the status Unknown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class MalformedStatusError(Exception):
    """The object's status cannot be read; its health is Unknown."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One entry of ``status.conditions``."""

    type: str
    status: str
    reason: str
    message: str


def field(obj: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``status.readyReplicas``), or None."""
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def get_int(obj: Mapping[str, Any], path: str, default: int) -> int:
    """An integer field, ``default`` when missing or not an integer."""
    value = field(obj, path)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return default


def get_str(obj: Mapping[str, Any], path: str, default: str = "") -> str:
    """A string field, ``default`` when missing or not a string."""
    value = field(obj, path)
    return value if isinstance(value, str) else default


def get_bool(obj: Mapping[str, Any], path: str, default: bool = False) -> bool:
    """A boolean field, ``default`` when missing or not a boolean."""
    value = field(obj, path)
    return value if isinstance(value, bool) else default


def conditions(obj: Mapping[str, Any]) -> tuple[Condition, ...]:
    """``status.conditions`` in order; raises :class:`MalformedStatusError` if malformed."""
    raw = field(obj, "status.conditions")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MalformedStatusError("status.conditions is not a list")
    found = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise MalformedStatusError("status.conditions holds an entry that is not an object")
        kind, status = entry.get("type", ""), entry.get("status", "")
        if not isinstance(kind, str) or not isinstance(status, str):
            raise MalformedStatusError("a status condition's type or status is not a string")
        found.append(
            Condition(kind, status, _text(entry.get("reason")), _text(entry.get("message")))
        )
    return tuple(found)


def condition(obj: Mapping[str, Any], kind: str, status: str | None = None) -> Condition | None:
    """The first condition of type ``kind`` (with ``status``, if given), or None."""
    for cond in conditions(obj):
        if cond.type == kind and (status is None or cond.status == status):
            return cond
    return None


def group_kind(obj: Mapping[str, Any]) -> str:
    """``apps/Deployment``, or ``Pod`` for the core group: kstatus' key for its rules."""
    api_version = get_str(obj, "apiVersion")
    group = api_version.rpartition("/")[0]
    kind = get_str(obj, "kind")
    return f"{group}/{kind}" if group else kind


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
