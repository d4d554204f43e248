"""kgit's own option converters: the values typer would give, the same messages, no pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from kgit.cli.main import build_command
from kgit.flags import OutputFormat

pytestmark = pytest.mark.unit


def parse(*args: str) -> dict[str, Any]:
    """The values ``kgit plan ARGS`` hands its verb."""
    plan = build_command(["plan"]).commands["plan"]
    return dict(plan.make_context("plan", list(args)).params)


def test_plain_types_are_converted() -> None:
    params = parse("--max-delete", "3", "--format", "json", "-C", "/repo", "-p", "a", "-p", "b")
    assert params["max_delete"] == 3
    assert params["fmt"] is OutputFormat.JSON
    assert params["repo"] == Path("/repo")
    assert params["paths"] == ["a", "b"]
    assert params["kubeconfig"] is None
    assert params["dirty"] is False


def test_every_parameter_gets_a_converter() -> None:
    command = build_command([])
    for param in command.params:
        assert getattr(param, "_runtime_param", None) is not None, param.name
    for name, sub in command.commands.items():
        for param in getattr(sub, "params", ()):
            assert getattr(param, "_runtime_param", None) is not None, (name, param.name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-delete", "-1"), "Input should be greater than or equal to 0"),
        (("--max-delete", "x"), "Input should be a valid integer"),
        (("--format", "yaml"), "'yaml' is not one of 'text', 'markdown', 'json'."),
    ],
)
def test_bad_values_are_refused_with_typer_s_words(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(typer.BadParameter, match=message):
        parse(*args)


def test_paths_stay_paths() -> None:
    show = build_command(["show"]).commands["show"]
    params = show.make_context("show", ["plan.json"]).params
    assert params["plan_file"] == Path("plan.json")
