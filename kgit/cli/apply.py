"""``kgit apply``, ``kgit force-unlock`` and ``kgit history``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Unpack

import typer

from kgit.cli.common import (
    Color,
    Context,
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
    resolve_stack,
    use_color,
)

if TYPE_CHECKING:
    from kgit.apply.model import ApplyReport, ObjectResult
    from kgit.plan.model import Plan

AutoApprove = Annotated[
    bool,
    typer.Option(
        "--auto-approve",
        "-auto-approve",
        help="Apply without asking (automation). Without it, kgit asks on a terminal.",
    ),
]
LockTimeout = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        "-lock-timeout",
        help="Seconds to wait for the stack's lock held by another apply.",
    ),
]


def apply(
    plan_file: Annotated[
        Path | None,
        typer.Argument(metavar="[PLAN]", help="A stored plan to apply exactly (kgit plan --out)."),
    ] = None,
    pending: Annotated[
        bool,
        typer.Option(
            "--pending",
            help="Apply the plan kgit watch left for approval (in its status ConfigMap; needs --stack).",
        ),
    ] = False,
    repo: Repo = Path(),
    git_url: GitUrl = None,
    ref: Ref = "HEAD",
    path: Paths = None,
    stack: Stack = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    auto_approve: AutoApprove = False,
    lock_timeout: LockTimeout = 0.0,
    allow_replace: Annotated[
        bool, typer.Option(help="Delete and re-create objects whose immutable fields changed.")
    ] = False,
    adopt: Annotated[
        bool, typer.Option(help="Take over objects that exist but kgit did not create.")
    ] = False,
    allow_empty: Annotated[
        bool, typer.Option(help="Allow an empty source to prune everything.")
    ] = False,
    max_delete: Annotated[int | None, typer.Option(help="Most deletions allowed.")] = None,
    wait: Annotated[
        bool, typer.Option(help="Wait for deleted objects (and namespaces' contents) to be gone.")
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Objects applied at once within a step.")] = 8,
    ssh_key: SshKey = None,
    known_hosts: KnownHosts = None,
    insecure_skip_host_key_check: InsecureSkipHostKeyCheck = False,
    identity_namespace: IdentityNamespace = "kgit",
    color: Color = None,
    verbose: Verbose = False,
) -> None:
    """Apply a stored plan exactly, or plan now, show it and ask for approval.

    A stored plan is refused (exit 1) when it is stale: the state moved, an object it
    touches changed in the cluster, or Git at its commit no longer gives the reviewed
    manifests. Exit 1 when any object fails.

    Examples:

      kgit apply                          # plan, show, ask "Only 'yes' will be accepted"

      kgit apply plans/pr-42.json         # exactly the reviewed plan (CI after merge)

      kgit apply --auto-approve --lock-timeout 60

      kgit apply --pending --stack web    # what kgit watch left waiting for approval
    """
    run_apply(**locals())


@handle_errors()
def run_apply(
    *,
    plan_file: Path | None,
    pending: bool,
    repo: Path,
    git_url: str | None,
    ref: str,
    path: list[str] | None,
    stack: str | None,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    auto_approve: bool,
    lock_timeout: float,
    allow_replace: bool,
    adopt: bool,
    allow_empty: bool,
    max_delete: int | None,
    wait: bool,
    concurrency: int,
    color: bool | None,
    verbose: bool,
    **ssh: Unpack[SshFlags],
) -> None:
    """The body of ``kgit apply``."""
    from kgit.apply.model import ApplyOptions
    from kgit.apply.service import ApplyHooks, apply_now, apply_stored
    from kgit.plan.store import read_plan
    from kgit.planner import PlanRequestOptions, SourceOptions
    from kgit.render import render_text
    from kgit.state.store import STATE_NAMESPACE
    from kgit.watch.remote import open_remote, source_of_plan
    from kgit.watch.status import load_pending_plan

    colored = use_color(color)
    stored = plan_file is not None or pending
    if pending and (plan_file is not None or not stack):
        raise fail("--pending applies the plan kgit watch left for --stack, instead of a PLAN")
    if git_url is not None and repo != Path():
        raise fail("give --repo or --git-url, not both")
    if not stored and not auto_approve and not sys.stdin.isatty():
        raise fail("no terminal to ask for approval: give --auto-approve, or apply a stored plan")
    remote = remote_options(git_url or "", ref=ref, paths=path, **ssh)
    from kgit.state.lock import default_who

    options = ApplyOptions(
        allow_replace=allow_replace,
        adopt=adopt,
        wait=wait,
        concurrency=max(1, concurrency),
        who=default_who(),
    )
    plan_options = PlanRequestOptions(
        stack=stack,
        state_namespace=state_namespace,
        allow_empty=allow_empty,
        max_delete=max_delete,
        adopt=adopt,
    )

    def approve(plan: Plan) -> bool:
        echo(render_text(plan, color=colored))
        if auto_approve:
            return True
        typer.echo(
            "\nDo you want to perform these actions?\n"
            "  kgit will perform the actions described above.\n"
            "  Only 'yes' will be accepted to approve.\n"
        )
        return bool(typer.prompt("  Enter a value", default="", show_default=False) == "yes")

    hooks = ApplyHooks(progress=progress, on_result=_print_result, approve=approve)
    cluster = connect_cluster(kubeconfig, context)
    try:
        if stored:
            if plan_file is not None:
                plan = read_plan(plan_file)
            else:
                namespace = state_namespace or STATE_NAMESPACE
                plan = load_pending_plan(cluster, namespace, stack or "")
            source = source_of_plan(cluster, plan, repo=repo, remote=remote)
            report: ApplyReport | None = apply_stored(
                cluster, plan, source, plan_options, options, hooks, lock_timeout=lock_timeout
            )
        else:
            if git_url is not None:
                source, _ = open_remote(cluster, remote)
            else:
                source = SourceOptions(repo=repo, ref=ref, paths=tuple(path or ()))
            plan, report = apply_now(
                cluster, source, plan_options, options, hooks, lock_timeout=lock_timeout
            )
    finally:
        cluster.close()
    if report is None:
        echo(render_text(plan, color=colored))
        return
    _print_summary(report)
    if report.failed:
        raise typer.Exit(1)


def _print_result(result: ObjectResult) -> None:
    from kgit.apply.model import Result

    line = f"{result.key.subject}: {result.result.value}"
    if result.result is Result.FAILED:
        line += f": {result.message}"
    elif result.message:
        line += f" ({result.message})"
    typer.echo(line)


def _print_summary(report: ApplyReport) -> None:
    from kgit.apply.model import Result

    added = report.count(Result.CREATED, Result.REPLACED)
    changed = report.count(Result.UPDATED, Result.ADOPTED)
    deleted = report.count(Result.DELETED, Result.REPLACED)
    failed = report.count(Result.FAILED)
    counts = f"{added} added, {changed} changed, {deleted} deleted"
    if report.interrupted:
        typer.echo(
            f"\nApply interrupted after {len(report.results)} objects: {counts}. "
            "The state records what was done; plan again to see what is left."
        )
    elif failed:
        typer.echo(
            f"\nApply failed: {failed} {'object' if failed == 1 else 'objects'} failed; {counts}."
        )
    else:
        typer.echo(f"\nApply complete! Resources: {counts}.")


def force_unlock(
    lock_id: Annotated[str, typer.Argument(metavar="ID", help="The lock ID the error named.")],
    stack: Stack = None,
    repo: Repo = Path(),
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    force: Annotated[bool, typer.Option("--force", "-force", help="Do not ask.")] = False,
    verbose: Verbose = False,
) -> None:
    """Release a stack's lock held by a run that died (shows the holder, then asks).

    Example:

      kgit force-unlock 3f2a9c1e --stack web
    """
    run_force_unlock(**locals())


@handle_errors()
def run_force_unlock(
    *,
    lock_id: str,
    stack: str | None,
    repo: Path,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    force: bool,
    verbose: bool,
) -> None:
    """The body of ``kgit force-unlock``."""
    from kgit.state.lock import describe_lock, force_unlock

    stack = resolve_stack(stack, repo)
    namespace = state_namespace or "kgit-system"
    cluster = connect_cluster(kubeconfig, context)
    try:
        info = describe_lock(cluster, stack, namespace)
        if info is None:
            raise fail(f"stack {stack!r} is not locked")
        typer.echo(info.describe())
        if not force:
            if not sys.stdin.isatty():
                raise fail("no terminal to ask: give --force")
            typer.echo("Only 'yes' will be accepted to confirm.")
            if typer.prompt("  Enter a value", default="", show_default=False) != "yes":
                raise fail("force-unlock cancelled")
        force_unlock(cluster, stack, namespace, lock_id)
    finally:
        cluster.close()
    typer.echo(f"kgit state has been successfully unlocked (stack {stack}).")


def history(
    stack: Stack = None,
    repo: Repo = Path(),
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    color: Color = None,
    verbose: Verbose = False,
) -> None:
    """List the stack's applies: serial, when, who, commit, counts, result.

    Example:

      kgit history                 # the stack of the checkout here

      kgit history --stack web --format json
    """
    run_history(
        stack=resolve_stack(stack, repo),
        kubeconfig=kubeconfig,
        context=context,
        state_namespace=state_namespace,
        fmt=fmt,
        verbose=verbose,
    )


@handle_errors()
def run_history(
    *,
    stack: str,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    fmt: str,
    verbose: bool,
) -> None:
    """The body of ``kgit history``."""
    import dataclasses

    from kgit.cli.common import as_json
    from kgit.render.tables import render_history
    from kgit.state.store import load_state

    cluster = connect_cluster(kubeconfig, context)
    try:
        handle = load_state(cluster, stack, state_namespace or "kgit-system")
    finally:
        cluster.close()
    entries = handle.state.history
    if fmt == "json":
        echo(as_json([dataclasses.asdict(e) for e in entries]))
    else:
        echo(render_history(entries))
