"""Build a typer command from a verb's ``...Options`` dataclass, and run it under one handler.

A verb is ``def plan(options: PlanOptions) -> int``: it calls one service, renders one view
and returns the exit code. :func:`verb` reads the options' declarations (:mod:`kgit.flags`),
flattens their groups into typer parameters, and wraps the call so that building the
options, resolving the stack and the work itself all run inside the same error handler:
a known error prints one line and exits 1, anything else says how to see the traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import traceback
import typing
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

import typer

from kgit.errors import KgitError
from kgit.flags import FLAG, GROUP, Flag
from kgit.redact import redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

OptionsT = TypeVar("OptionsT")


@dataclasses.dataclass(frozen=True, slots=True)
class _Param:
    """One command-line parameter: where its value goes in the options tree."""

    path: tuple[str, ...]
    parameter: inspect.Parameter
    to_value: Callable[[Any], Any]


def verb(
    options_type: type[OptionsT],
) -> Callable[[Callable[[OptionsT], int]], Callable[..., None]]:
    """Make ``run(options) -> exit code`` a typer callback taking ``options_type``'s flags.

    Raises ``TypeError`` (at import, so every test sees it) for a field without a flag
    declaration, or two fields of the flattened groups with the same name.
    """
    params = list(_params(options_type, ()))
    names = [p.parameter.name for p in params]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise TypeError(f"{options_type.__name__}: options declared twice: {', '.join(twice)}")

    def wrap(run: Callable[[OptionsT], int]) -> Callable[..., None]:
        @functools.wraps(run)
        def callback(**given: Any) -> None:
            with _handled(bool(given.get("verbose"))):
                code = run(_build(options_type, params, given))
            if code:
                raise typer.Exit(code)

        del callback.__wrapped__  # typer must see the built signature, not run's
        callback.__signature__ = inspect.Signature([p.parameter for p in params])  # type: ignore[attr-defined]
        callback.__annotations__ = {p.parameter.name: p.parameter.annotation for p in params}
        return callback

    return wrap


def _params(options_type: type[Any], path: tuple[str, ...]) -> Iterator[_Param]:
    hints = typing.get_type_hints(options_type)
    for field in dataclasses.fields(options_type):
        if field.metadata.get(GROUP):
            yield from _params(hints[field.name], (*path, field.name))
            continue
        spec: Flag | None = field.metadata.get(FLAG)
        if spec is None:
            raise TypeError(f"{options_type.__name__}.{field.name}: no flag() declared")
        yield _param(field, spec, hints[field.name], (*path, field.name))


def _param(field: dataclasses.Field[Any], spec: Flag, hint: Any, path: tuple[str, ...]) -> _Param:
    cli_type, to_value = _cli_type(hint)
    info: Any
    common: dict[str, Any] = {
        "help": spec.help,
        "metavar": spec.metavar,
        "show_default": spec.show_default,
    }
    if spec.minimum is not None:
        common["min"] = spec.minimum
    if spec.argument:
        info = typer.Argument(**common)
    else:
        info = typer.Option(*spec.names, envvar=spec.envvar, **common)
    default: Any = inspect.Parameter.empty
    if field.default is not dataclasses.MISSING and not spec.required:
        default = _cli_default(field.default)
    parameter = inspect.Parameter(
        field.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[cli_type, info],
    )
    return _Param(path, parameter, to_value)


def _cli_default(value: Any) -> Any:
    # A repeated option's empty default is None for typer.
    return None if value == () else value


def _cli_type(hint: Any) -> tuple[Any, Callable[[Any], Any]]:
    """The type typer parses, and how its value becomes the options' value."""
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        return list[item] | None, _as_tuple  # type: ignore[valid-type]
    return hint, _same


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def _same(value: Any) -> Any:
    return value


def _build(
    options_type: type[OptionsT], params: list[_Param], given: Mapping[str, Any]
) -> OptionsT:
    values = {p.path: p.to_value(given.get(p.parameter.name, p.parameter.default)) for p in params}
    return _assemble(options_type, (), values)


def _assemble(
    options_type: type[OptionsT], path: tuple[str, ...], values: Mapping[tuple[str, ...], Any]
) -> OptionsT:
    hints = typing.get_type_hints(options_type)
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(options_type):  # type: ignore[arg-type]
        here = (*path, field.name)
        if field.metadata.get(GROUP):
            kwargs[field.name] = _assemble(hints[field.name], here, values)
        else:
            kwargs[field.name] = values[here]
    return options_type(**kwargs)


@contextmanager
def _handled(verbose: bool) -> Iterator[None]:
    """Known errors print one line and exit 1; library warnings never reach the user."""
    with warnings.catch_warnings():
        # urllib3's InsecureRequestWarning and friends say nothing a kgit user can act on.
        warnings.simplefilter("ignore")
        try:
            yield
        except (typer.Exit, typer.Abort, typer.BadParameter, KeyboardInterrupt):
            raise
        except KgitError as err:
            raise _fail(str(err)) from None
        except Exception as err:  # the last resort: one line, and how to learn more
            if verbose:
                traceback.print_exception(err)
            raise _fail(
                f"unexpected {type(err).__name__}: {err} (run again with -v for the traceback)"
            ) from None


def _fail(message: str) -> typer.Exit:
    """Print an error the user can act on (no URL's credentials) and return the exit to
    raise (status 1)."""
    typer.echo(f"Error: {redact_url(message)}", err=True)
    return typer.Exit(1)
