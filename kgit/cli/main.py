"""The ``kgit`` command: a typer app whose verbs live in sibling modules.

Imports are lazy so that ``kgit --help`` starts fast: the Kubernetes client and
GitPython load only when a verb needs them. ``kgit --version`` is answered by
:func:`kgit.cli.run` before this module (and typer) is even imported.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from kgit import __version__

if TYPE_CHECKING:
    from collections.abc import Iterator

    # Typer vendors Click; its Context is the type the group's methods take.
    from typer._click.core import Context

USAGE_EXIT = 1


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


app = typer.Typer(
    name="kgit",
    cls=KgitGroup,
    help=(
        "Terraform's plan/apply discipline for GitOps on Kubernetes: plan what Git asks "
        "of the cluster, review it, apply exactly that."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kgit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """kgit: plan, review and apply Git's manifests to a Kubernetes cluster."""


def _register() -> None:
    from kgit.cli import apply, gitops, images, plan, state

    app.command("plan")(plan.plan)
    app.command("show")(plan.show)
    app.command("apply")(apply.apply)
    app.command("destroy")(apply.destroy)
    app.command("force-unlock")(apply.force_unlock)
    app.command("history")(apply.history)
    app.command("status")(apply.status)
    state_app = typer.Typer(
        help="Inspect and repair the state kgit records in the cluster.", no_args_is_help=True
    )
    state_app.command("list")(state.list_)
    state_app.command("show")(state.show)
    state_app.command("rm")(state.rm)
    state_app.command("recover")(state.recover)
    app.add_typer(state_app, name="state")
    app.command("identity")(gitops.identity)
    app.command("sops-key")(gitops.sops_key)
    app.command("install")(gitops.install)
    app.command("watch")(gitops.watch)
    app.command("sync")(gitops.sync)
    images.register(app)


_register()
