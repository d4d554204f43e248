"""Typed access to a decoded plan file, failing with ``<file>: <field path>: <problem>``.

:mod:`kgit.plan.store` builds the plan from what a :class:`PlanReader` hands it; every
wrong type, missing or unknown field is a :class:`~kgit.errors.PlanFileError` here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from kgit.errors import PlanFileError

if TYPE_CHECKING:
    import enum
    from collections.abc import Mapping

_E = TypeVar("_E", bound="enum.Enum")
MISSING: Any = object()


def is_int(value: Any) -> bool:
    """True for a JSON integer (a ``bool`` is not one, though Python says so)."""
    return isinstance(value, int) and not isinstance(value, bool)


def describe(value: Any) -> str:
    """A JSON type name and a short look at the value, for error messages."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kinds.get(type(value), type(value).__name__)} ({text})"


class PlanReader:
    """Typed access to decoded JSON that fails with ``<name>: <field path>: <problem>``.

    ``where`` is the path of the object a field is looked up in ("" at the top).
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, what: str) -> NoReturn:
        """Raise the :class:`PlanFileError` for ``what`` is wrong at ``where``."""
        raise PlanFileError(f"{self.name}: {where}: {what}" if where else f"{self.name}: {what}")

    @staticmethod
    def _at(where: str, key: str) -> str:
        return f"{where}.{key}" if where else key

    def get(self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> Any:
        """``d[key]``, or ``default``; a missing field without a default fails."""
        if key in d:
            return d[key]
        if default is MISSING:
            self.fail(where, f"missing field '{key}'")
        return default

    def known(self, d: Mapping[str, Any], where: str, keys: set[str]) -> None:
        """Fail on the first field of ``d`` not in ``keys``."""
        unknown = sorted(set(d) - keys)
        if unknown:
            self.fail(where, f"unknown field '{unknown[0]}'")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        """``value`` as a JSON object."""
        if not isinstance(value, dict):
            if not where:
                self.fail("", f"not a plan file (expected a JSON object, got {describe(value)})")
            self.fail(where, f"expected an object, got {describe(value)}")
        return value

    def array(
        self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING
    ) -> list[Any]:
        """The field as a JSON array."""
        value = self.get(d, key, where, default)
        if not isinstance(value, list):
            self.fail(self._at(where, key), f"expected an array, got {describe(value)}")
        return value

    def string(self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> str:
        """The field as a string."""
        value = self.get(d, key, where, default)
        if not isinstance(value, str):
            self.fail(self._at(where, key), f"expected a string, got {describe(value)}")
        return value

    def opt_string(self, d: Mapping[str, Any], key: str, where: str) -> str | None:
        """The field as a string, or ``None`` when it is null or missing."""
        value = self.get(d, key, where, None)
        if value is not None and not isinstance(value, str):
            self.fail(self._at(where, key), f"expected a string or null, got {describe(value)}")
        return value

    def integer(self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> int:
        """The field as an integer (not a boolean, not a float)."""
        value = self.get(d, key, where, default)
        if not is_int(value):
            self.fail(self._at(where, key), f"expected an integer, got {describe(value)}")
        return int(value)

    def count(self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> int:
        """The field as an integer >= 0."""
        value = self.integer(d, key, where, default)
        if value < 0:
            self.fail(self._at(where, key), f"expected a count (>= 0), got {value}")
        return value

    def boolean(self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING) -> bool:
        """The field as ``true`` or ``false``."""
        value = self.get(d, key, where, default)
        if not isinstance(value, bool):
            self.fail(self._at(where, key), f"expected true or false, got {describe(value)}")
        return value

    def strings(
        self, d: Mapping[str, Any], key: str, where: str, default: Any = MISSING
    ) -> tuple[str, ...]:
        """The field as an array of strings."""
        if key not in d and default is not MISSING:
            return tuple(default)
        values = self.array(d, key, where)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                self.fail(
                    f"{self._at(where, key)}[{i}]", f"expected a string, got {describe(value)}"
                )
        return tuple(values)

    def enum_of(self, d: Mapping[str, Any], key: str, where: str, kind: type[_E]) -> _E:
        """The field as a member of ``kind``, by its value."""
        value = self.get(d, key, where)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            self.fail(self._at(where, key), f"expected one of {allowed}; got {describe(value)}")
