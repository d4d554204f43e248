"""``kgit state list|show|rm``: inspect and repair the recorded state."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kgit.cli.common import (
    Context,
    Kubeconfig,
    Repo,
    StateNamespace,
    Verbose,
    as_json,
    connect_cluster,
    echo,
    handle_errors,
    resolve_stack,
)

app = typer.Typer(
    help="Inspect and repair the state kgit records in the cluster.", no_args_is_help=True
)
FORMATS = ("text", "json")


def check_format(fmt: str) -> str:
    """Refuse an unknown ``--format`` as a usage error, before any work is done."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return fmt


Format = Annotated[str, typer.Option("--format", "-f", help="text or json.", callback=check_format)]
StackName = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="The stack; default: the one the checkout at --repo plans."),
]


@app.command("list")
def list_(
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    fmt: Format = "text",
    verbose: Verbose = False,
) -> None:
    """List the stacks that have a state (serial, object count, last update)."""
    run_list(
        kubeconfig=kubeconfig,
        context=context,
        state_namespace=state_namespace,
        fmt=fmt,
        verbose=verbose,
    )


@handle_errors()
def run_list(
    *,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    fmt: str,
    verbose: bool,
) -> None:
    """The body of ``kgit state list``."""
    import dataclasses

    from kgit.render.tables import render_stacks
    from kgit.state.store import list_stacks

    with connect_cluster(kubeconfig, context) as cluster:
        stacks = list_stacks(cluster, state_namespace or "kgit-system")
    echo(
        as_json([dataclasses.asdict(s) for s in stacks]) if fmt == "json" else render_stacks(stacks)
    )


@app.command("show")
def show(
    stack: StackName = None,
    repo: Repo = Path(),
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    fmt: Format = "text",
    verbose: Verbose = False,
) -> None:
    """Show what kgit tracks for a stack (Secret values appear only as digests).

    Example:

      kgit state show --stack web --format json
    """
    run_show(
        stack=resolve_stack(stack, repo),
        kubeconfig=kubeconfig,
        context=context,
        state_namespace=state_namespace,
        fmt=fmt,
        verbose=verbose,
    )


@handle_errors()
def run_show(
    *,
    stack: str,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    fmt: str,
    verbose: bool,
) -> None:
    """The body of ``kgit state show``."""
    from kgit.errors import StateError
    from kgit.render.tables import render_objects
    from kgit.state.store import load_state

    namespace = state_namespace or "kgit-system"
    with connect_cluster(kubeconfig, context) as cluster:
        handle = load_state(cluster, stack, namespace)
    if not handle.exists:
        raise StateError(
            f"stack {stack}: no state in namespace {namespace} (kgit state list shows the stacks)"
        )
    state = handle.state
    objects = [state.objects[k] for k in sorted(state.objects)]
    if fmt == "json":
        echo(
            as_json(
                {
                    "stack": state.stack,
                    "serial": handle.serial,
                    "lineage": handle.lineage,
                    "commit": state.commit,
                    "objects": [
                        {
                            "key": str(o.key),
                            "uid": o.uid,
                            "applied_at": o.applied_at,
                            "pending": o.pending,
                            "manifest": o.obj,
                        }
                        for o in objects
                    ],
                }
            )
        )
        return
    echo(
        f"Stack {state.stack}: serial {handle.serial}, lineage {handle.lineage}, commit {state.commit[:12] or '-'}\n"
    )
    echo(render_objects(objects))


@app.command("rm")
def rm(
    keys: Annotated[
        list[str], typer.Argument(metavar="KEY...", help="Object keys group/kind/namespace/name.")
    ],
    stack: StackName = None,
    repo: Repo = Path(),
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    verbose: Verbose = False,
) -> None:
    """Stop tracking objects; they stay in the cluster (like terraform state rm).

    Example:

      kgit state rm apps/Deployment/web/nginx --stack web
    """
    run_rm(
        keys=keys,
        stack=resolve_stack(stack, repo),
        kubeconfig=kubeconfig,
        context=context,
        state_namespace=state_namespace,
        verbose=verbose,
    )


@handle_errors()
def run_rm(
    *,
    keys: list[str],
    stack: str,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    verbose: bool,
) -> None:
    """The body of ``kgit state rm``."""
    from kgit.errors import ConfigError
    from kgit.manifests.keys import ObjectKey
    from kgit.state.lock import acquire, default_who
    from kgit.state.store import load_state, remove_objects

    try:
        parsed = [ObjectKey.parse(k) for k in keys]
    except ValueError as err:
        raise ConfigError(str(err)) from err
    namespace = state_namespace or "kgit-system"
    with (
        connect_cluster(kubeconfig, context) as cluster,
        acquire(cluster, stack, namespace, 0.0, default_who(), operation="state rm"),
    ):
        handle = load_state(cluster, stack, namespace)
        handle = remove_objects(cluster, handle, parsed, who=default_who())
    echo(
        f"Removed {len(parsed)} object(s) from the state of stack {stack} (serial {handle.serial})."
    )
