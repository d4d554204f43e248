"""Every verb has one shape: --help with examples, the shared options spelled the same."""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from kgit.cli.command import verb
from kgit.cli.main import VERB_REGISTRARS, build_app
from kgit.flags import FLAG, GROUP, group
from kgit.identity import DEFAULT_NAMESPACE
from kgit.services import verbs, verbs_gitops
from kgit.services.options import (
    IDENTITY_NAMESPACE,
    ColorOptions,
    PlanningOptions,
    SourceOptions,
    VerboseOptions,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from typer._click.core import Command

pytestmark = pytest.mark.unit

app = build_app()  # every verb


def _verbs(group: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    commands = getattr(group, "commands", None)
    if commands is None:
        yield path
        return
    for name, command in sorted(commands.items()):
        yield from _verbs(command, (*path, name))


VERBS = list(_verbs(get_command(app)))


def _options_of(verb: tuple[str, ...]) -> set[str]:
    command = get_command(app)
    for name in verb:
        command = command.commands[name]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in param.opts}


def test_the_verbs_are_all_found() -> None:
    # A guard for the parametrised tests below: they must see every verb.
    assert len(VERBS) >= 19
    assert ("state", "rm") in VERBS and ("images", "list") in VERBS and ("plan",) in VERBS


@pytest.mark.parametrize("verb", VERBS, ids=[" ".join(v) for v in VERBS])
def test_every_verb_has_help_with_examples(verb: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*verb, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output, result.output
    assert "kgit " + " ".join(verb) in result.output.replace("  ", " ")


PLANNING_VERBS = [("plan",), ("apply",), ("watch",), ("sync",)]


def _leaf_flags(options_type: type) -> Iterator[dataclasses.Field[object]]:
    hints = typing.get_type_hints(options_type)
    for field in dataclasses.fields(options_type):
        if field.metadata.get(GROUP):
            yield from _leaf_flags(hints[field.name])
        else:
            yield field


def _spellings(options_type: type) -> set[str]:
    return {n for f in _leaf_flags(options_type) for n in f.metadata[FLAG].names}


@pytest.mark.parametrize("verb", PLANNING_VERBS, ids=[" ".join(v) for v in PLANNING_VERBS])
def test_every_verb_that_plans_takes_the_planning_options(verb: tuple[str, ...]) -> None:
    wanted = _spellings(PlanningOptions) | {"--path", "--ref", "--stack", "--state-namespace"}
    missing = wanted - _options_of(verb)
    assert not missing, f"kgit {' '.join(verb)} lacks {sorted(missing)}"


def test_plan_and_apply_take_the_same_source_options() -> None:
    source = _spellings(SourceOptions)
    assert "--ssh-key" in source
    assert source <= _options_of(("plan",))
    assert source <= _options_of(("apply",))


def test_every_option_field_declares_its_spelling() -> None:
    option_types = [
        value
        for module in (verbs, verbs_gitops)
        for name, value in vars(module).items()
        if name.endswith("Options") and dataclasses.is_dataclass(value)
    ]
    assert len(option_types) >= 15
    for options_type in option_types:
        for field in _leaf_flags(options_type):  # type: ignore[arg-type]
            assert FLAG in field.metadata, f"{options_type}.{field.name}"


def test_the_identity_namespace_default_is_kgit_identitys() -> None:
    assert IDENTITY_NAMESPACE == DEFAULT_NAMESPACE


def test_options_are_frozen() -> None:
    options = verbs.PlanOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.out = "x"  # type: ignore[misc]


def test_a_known_error_is_one_line_without_traceback() -> None:
    result = CliRunner().invoke(app, ["show", "/nonexistent/plan.json"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_typer_builds_flags_from_the_declarations() -> None:
    command = get_command(app).commands["plan"]  # type: ignore[attr-defined]
    by_name = {p.name: p for p in command.params}
    assert by_name["paths"].multiple
    assert getattr(by_name["dirty"], "is_flag", False)
    assert by_name["kubeconfig"].envvar == "KUBECONFIG"
    limited = CliRunner().invoke(app, ["plan", "--max-delete", "-1"])
    assert limited.exit_code == 1
    assert "greater than or equal to 0" in limited.output


def test_an_option_declared_twice_is_refused_when_the_verb_is_built() -> None:
    @dataclasses.dataclass(frozen=True)
    class Twice:
        view: ColorOptions = group(ColorOptions)
        verbose: VerboseOptions = group(VerboseOptions)

    with pytest.raises(TypeError, match="options declared twice: verbose"):
        verb(Twice)


def test_a_field_without_a_flag_is_refused_when_the_verb_is_built() -> None:
    @dataclasses.dataclass(frozen=True)
    class Bare:
        name: str = "x"

    with pytest.raises(TypeError, match=r"Bare\.name: no flag\(\) declared"):
        verb(Bare)


def test_every_verb_is_registered_alone_by_its_module() -> None:
    # A verb missing from VERB_REGISTRARS still works, through the app with every verb:
    # only slower. Each one registered alone must bring itself.
    assert set(VERB_REGISTRARS) == {verb[0] for verb in VERBS}
    for name in VERB_REGISTRARS:
        assert name in get_command(build_app([name])).commands  # type: ignore[attr-defined]
