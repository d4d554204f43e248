"""``kgit plan`` and ``kgit show``: compute, store and render plans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Unpack

import typer

from kgit.cli.common import (
    Color,
    Context,
    Dirty,
    GitUrl,
    IdentityNamespace,
    InsecureSkipHostKeyCheck,
    KnownHosts,
    Kubeconfig,
    Paths,
    Ref,
    Repo,
    SshFlags,
    SshKey,
    Stack,
    StateNamespace,
    Verbose,
    connect_cluster,
    echo,
    fail,
    handle_errors,
    progress,
    remote_options,
    use_color,
)


def check_format(fmt: str) -> str:
    """Refuse an unknown ``--format`` as a usage error, before any work is done."""
    from kgit.render import FORMATS

    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    return fmt


Format = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="text, markdown (for pull requests) or json (the plan file).",
        callback=check_format,
    ),
]
DetailedExitcode = Annotated[
    bool,
    typer.Option(
        "--detailed-exitcode",
        "-detailed-exitcode",
        help="Exit 0 when there are no changes, 2 when there are, 1 on error (Terraform's codes).",
    ),
]


def plan(
    repo: Repo = Path(),
    git_url: GitUrl = None,
    ref: Ref = "HEAD",
    path: Paths = None,
    dirty: Dirty = False,
    stack: Stack = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    default_namespace: Annotated[
        str | None, typer.Option(help="Namespace of namespaced objects that name none.")
    ] = None,
    fmt: Format = "text",
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="Store the plan as JSON in FILE (a directory: plans/<stack>-<time>.json).",
        ),
    ] = None,
    detailed_exitcode: DetailedExitcode = False,
    allow_empty: Annotated[
        bool, typer.Option(help="Allow an empty source to delete every object of the stack.")
    ] = False,
    max_delete: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Most deletions a plan may hold (default: 30% of the stack, at least 10).",
        ),
    ] = None,
    adopt: Annotated[
        bool, typer.Option(help="Plan to take over objects that exist but kgit did not create.")
    ] = False,
    ssh_key: SshKey = None,
    known_hosts: KnownHosts = None,
    insecure_skip_host_key_check: InsecureSkipHostKeyCheck = False,
    identity_namespace: IdentityNamespace = "kgit",
    color: Color = None,
    verbose: Verbose = False,
) -> None:
    """Show what applying Git to the cluster would do, without changing anything.

    Examples:

      kgit plan                                  # HEAD of the repo in the current directory

      kgit plan -C ~/src/fleet --path apps/web --context prod

      kgit plan --out plans/pr-42.json --format markdown --detailed-exitcode   # in CI

      kgit plan --dirty                          # try uncommitted edits (never for apply)

      kgit plan --git-url ssh://git@git.example.com/fleet.git --git-ref main --known-hosts kh
    """
    run_plan(**locals())


@handle_errors()
def run_plan(
    *,
    repo: Path,
    git_url: str | None,
    ref: str,
    path: list[str] | None,
    dirty: bool,
    stack: str | None,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    default_namespace: str | None,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    allow_empty: bool,
    max_delete: int | None,
    adopt: bool,
    color: bool | None,
    verbose: bool,
    **ssh: Unpack[SshFlags],
) -> None:
    """The body of ``kgit plan``: plan, store, render, exit."""
    from kgit.plan.store import default_plan_path, write_plan
    from kgit.planner import PlanRequestOptions, SourceOptions, make_plan, read_source
    from kgit.render import render_plan
    from kgit.watch.remote import open_remote

    if git_url is not None and (dirty or repo != Path()):
        raise fail("--git-url reads a remote repository: it goes with neither --repo nor --dirty")
    if git_url is None:
        source_options = SourceOptions(repo=repo, ref=ref, paths=tuple(path or ()), dirty=dirty)
        source = read_source(source_options)
    cluster = connect_cluster(kubeconfig, context)
    try:
        if git_url is not None:
            remote = remote_options(git_url, ref=ref, paths=path, **ssh)
            source_options, commit = open_remote(cluster, remote)
            source = read_source(source_options, commit=commit)
        options = PlanRequestOptions(
            stack=stack,
            state_namespace=state_namespace,
            default_namespace=default_namespace,
            allow_empty=allow_empty,
            max_delete=max_delete,
            adopt=adopt,
        )
        result = make_plan(cluster, source, options, repo=source_options.repo, progress=progress)
    finally:
        cluster.close()
    planned = result.plan
    if out is not None:
        target = Path(out)
        if out.endswith("/") or target.is_dir():
            target = target / default_plan_path(planned.stack, datetime.now(UTC)).name
        write_plan(planned, target)
        progress(f"plan stored in {target}")
        if fmt == "text":
            typer.echo(
                f"Saved the plan to: {target}\n\nTo apply exactly this plan: kgit apply {target}\n"
            )
    echo(render_plan(planned, fmt, color=use_color(color)))
    if detailed_exitcode and planned.has_changes:
        raise typer.Exit(2)


def show(
    plan_file: Annotated[
        Path, typer.Argument(metavar="PLAN", help="A plan file from kgit plan --out.")
    ],
    fmt: Format = "text",
    color: Color = None,
    verbose: Verbose = False,
) -> None:
    """Render a stored plan (text, markdown or json).

    Examples:

      kgit show plans/pr-42.json

      kgit show plans/pr-42.json --format markdown > comment.md
    """
    run_show(plan_file=plan_file, fmt=fmt, color=color, verbose=verbose)


@handle_errors()
def run_show(*, plan_file: Path, fmt: str, color: bool | None, verbose: bool) -> None:
    """The body of ``kgit show``."""
    from kgit.plan.store import read_plan
    from kgit.render import render_plan

    echo(render_plan(read_plan(plan_file), fmt, color=use_color(color)))
