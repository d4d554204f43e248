"""The ``kgit`` command: a typer app whose verbs live in sibling modules.

Imports are lazy so that ``kgit --version`` and ``kgit --help`` start fast: the
Kubernetes client and GitPython load only when a verb needs them.
"""

from __future__ import annotations

import sys

import typer

from kgit import __version__

app = typer.Typer(
    name="kgit",
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
    from kgit.cli import apply, images, plan, state

    app.command("plan")(plan.plan)
    app.command("show")(plan.show)
    app.command("apply")(apply.apply)
    app.command("force-unlock")(apply.force_unlock)
    app.command("history")(apply.history)
    app.add_typer(state.app, name="state")
    images.register(app)


_register()


def run() -> None:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        # Answer before typer and click load: scripts and CI call this often.
        sys.stdout.write(f"kgit {__version__}\n")
        return
    app()
