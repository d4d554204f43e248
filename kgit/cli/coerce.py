"""Turning command-line words into kgit's option values without pydantic.

typer (0.29 and later) converts every non-flag parameter through a pydantic
``TypeAdapter`` built on first use: importing pydantic and building the adapters costs
about 80 ms, a fifth of a ``kgit plan`` of a small stack. kgit's options have plain
types (bool, str, int with a minimum, float, Path, enums, lists of those), so
:func:`install_converters` gives each parameter a converter of its own, in typer's
``RuntimeParam`` contract (``coerce(value, param=, ctx=)``), with the same messages.
A parameter of another type, or a typer without that contract, keeps typer's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

import typer

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


@dataclass(frozen=True, slots=True)
class _Converter:
    """One parameter's conversion: each word through ``convert``, a list item by item."""

    convert: Callable[[Any], Any]

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """typer's contract: None stays None (or ``()`` for a repeated option)."""
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        try:
            if multi:
                if isinstance(value, str):
                    raise ValueError("Value must be an iterable.")
                return [self.convert(item) for item in value]
            return self.convert(value)
        except ValueError as err:
            raise typer.BadParameter(str(err), ctx=ctx, param=param) from None


def _integer(minimum: int | None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(
                "Input should be a valid integer, unable to parse string as an integer"
            ) from None
        if minimum is not None and number < minimum:
            raise ValueError(f"Input should be greater than or equal to {minimum}")
        return number

    return convert


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(
            "Input should be a valid number, unable to parse string as a number"
        ) from None


# The words pydantic reads as booleans (a flag's value from an environment variable).
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError("Input should be a valid boolean, unable to interpret input")


def _choice(enum: type[Enum]) -> Callable[[Any], Enum]:
    def convert(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        for member in enum:
            if member.value == value:
                return member
        allowed = ", ".join(repr(m.value) for m in enum)
        raise ValueError(f"Value error, {value!r} is not one of {allowed}.")

    return convert


def _converter_for(annotation: Any, minimum: Any, maximum: Any) -> _Converter | None:
    """A converter for kgit's plain types; None for anything else (typer keeps its own)."""
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    if maximum is not None:
        return None
    if annotation is bool:
        return _Converter(_boolean)
    if annotation is str:
        return _Converter(str)
    if annotation is Path:
        return _Converter(Path)
    if annotation is int:
        return _Converter(_integer(minimum))
    if minimum is not None:
        return None
    if annotation is float:
        return _Converter(_number)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _Converter(_choice(annotation))
    return None


def install_converters(command: Any, help_names: Sequence[str]) -> None:
    """Give every parameter of ``command`` and its subcommands a plain converter.

    ``help_names`` are the help option's spellings: click makes that option on first use
    (and keeps it), so it is made here, to get a converter too.
    """
    help_option = command.get_help_option(
        typer.Context(command, help_option_names=list(help_names))
    )
    for param in [*getattr(command, "params", ()), help_option]:
        descriptor = getattr(param, "type_descriptor", None)
        # typer builds its converter lazily into _runtime_param (None until first use).
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue
        info = descriptor.parameter_info
        if info.parser is not None or descriptor.file_annotation is not None:
            continue
        converter = _converter_for(descriptor.annotation, info.min, info.max)
        if converter is not None:
            param._runtime_param = converter
    for sub in getattr(command, "commands", {}).values():
        install_converters(sub, help_names)
