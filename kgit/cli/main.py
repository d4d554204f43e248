"""The ``kgit`` command: a typer app whose verbs live in sibling modules.

Imports are lazy so that every run starts fast: :func:`build_app` registers only the
module of the verb being run (``kgit plan`` never imports the image or GitOps verbs), and
the Kubernetes client and GitPython load only when a verb needs them. ``kgit --version``
is answered by :func:`kgit.cli.run` before this module (and typer) is even imported.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from kgit import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    # Typer vendors Click; its Context is the type the group's methods take.
    from typer._click.core import Context

USAGE_EXIT = 1
HELP_OPTION_NAMES = ("-h", "--help")


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except typer.TyperException as err:
        # Click's usage errors (unknown option, bad value) exit 2, which is what
        # --detailed-exitcode reports for "the plan has changes": a mistyped flag in CI
        # must not read as a plan to apply. Terraform exits 1 on them too.
        if err.exit_code == 2:
            err.exit_code = USAGE_EXIT
        raise


class KgitGroup(TyperGroup):
    """kgit's verbs: a typer group whose usage errors exit 1, never 2."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Parse the top-level options; a usage error exits 1."""
        with _usage_errors_exit_1():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        """Run the verb (parsing its own options); a usage error exits 1."""
        with _usage_errors_exit_1():
            return super().invoke(ctx)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kgit {__version__}")
        raise typer.Exit()


def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """kgit: plan, review and apply Git's manifests to a Kubernetes cluster."""


def _register_plan(app: typer.Typer) -> None:
    from kgit.cli import plan

    app.command("plan")(plan.plan)
    app.command("show")(plan.show)


def _register_apply(app: typer.Typer) -> None:
    from kgit.cli import apply

    app.command("apply")(apply.apply)
    app.command("destroy")(apply.destroy)
    app.command("force-unlock")(apply.force_unlock)
    app.command("history")(apply.history)
    app.command("status")(apply.status)


def _register_state(app: typer.Typer) -> None:
    from kgit.cli import state

    state_app = typer.Typer(
        help="Inspect and repair the state kgit records in the cluster.", no_args_is_help=True
    )
    state_app.command("list")(state.list_)
    state_app.command("show")(state.show)
    state_app.command("rm")(state.rm)
    state_app.command("recover")(state.recover)
    app.add_typer(state_app, name="state")


def _register_gitops(app: typer.Typer) -> None:
    from kgit.cli import gitops

    app.command("identity")(gitops.identity)
    app.command("sops-key")(gitops.sops_key)
    app.command("install")(gitops.install)
    app.command("watch")(gitops.watch)
    app.command("sync")(gitops.sync)


def _register_images(app: typer.Typer) -> None:
    from kgit.cli import images

    images.register(app)


# Each top-level verb and the function registering its module, in --help's order.
_REGISTRARS = (_register_plan, _register_apply, _register_state, _register_gitops, _register_images)
VERB_REGISTRARS: dict[str, Callable[[typer.Typer], None]] = {
    **dict.fromkeys(("plan", "show"), _register_plan),
    **dict.fromkeys(("apply", "destroy", "force-unlock", "history", "status"), _register_apply),
    "state": _register_state,
    **dict.fromkeys(("identity", "sops-key", "install", "watch", "sync"), _register_gitops),
    **dict.fromkeys(
        ("images", "automate", "deautomate", "lock", "unlock", "policy"), _register_images
    ),
}


def build_command(args: Sequence[str]) -> TyperGroup:
    """The command that runs ``kgit ARGS``: :func:`build_app`'s, its options converted
    without pydantic (:mod:`kgit.cli.coerce`)."""
    from typer.main import get_command

    from kgit.cli.coerce import install_converters

    command = get_command(build_app(args))
    install_converters(command, HELP_OPTION_NAMES)
    assert isinstance(command, TyperGroup)  # a Typer with a callback builds a group
    return command


def build_app(args: Sequence[str] = ()) -> typer.Typer:
    """The ``kgit`` app for a command line: with only the verb it names, when it names one
    (a verb's module and what it imports are what a run costs), else with every verb
    (``kgit --help``, a mistyped verb's suggestions)."""
    app = typer.Typer(
        name="kgit",
        cls=KgitGroup,
        help=(
            "Terraform's plan/apply discipline for GitOps on Kubernetes: plan what Git asks "
            "of the cluster, review it, apply exactly that."
        ),
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": list(HELP_OPTION_NAMES)},
    )
    app.callback()(main)
    # kgit's top-level options take no value: the first other word is the verb.
    verb = next((arg for arg in args if not arg.startswith("-")), None)
    chosen = VERB_REGISTRARS.get(verb or "")
    for register in (chosen,) if chosen else _REGISTRARS:
        register(app)
    return app
