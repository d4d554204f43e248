"""``kgit images list|update`` and ``kgit automate|deautomate|lock|unlock|policy``.

Image automation, Flux v1 style: workloads opt in with annotations in Git, kgit polls
their registries and commits newer tags; the verbs edit those annotations in Git.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypedDict, Unpack

import typer

from kgit.cli.common import (
    CacheMaxAge,
    Context,
    DockerConfig,
    Kubeconfig,
    Paths,
    PullSecret,
    Ref,
    RegistryTimeout,
    Repo,
    Verbose,
    as_json,
    connect_cluster,
    echo,
    fail,
    handle_errors,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.images.service import EditVerb, ImageRoundResult, RegistryOptions

app = typer.Typer(
    help="Image automation: see and commit the newest tags the workloads' policies allow.",
    no_args_is_help=True,
)

Format = Annotated[str, typer.Option("--format", "-f", help="text or json.")]
Refresh = Annotated[bool, typer.Option("--refresh", help="Ask the registries, ignore the cache.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show the change, commit nothing.")]
NoPush = Annotated[bool, typer.Option("--no-push", help="Commit, but do not push.")]
WorkloadArg = Annotated[
    str,
    typer.Argument(
        metavar="WORKLOAD",
        help="namespace:kind/name (as fluxctl writes it) or Kind/namespace/name.",
    ),
]


class RegistryFlags(TypedDict):
    """The options saying how ``kgit images`` asks registries (and the cluster's Secrets)."""

    docker_config: list[Path] | None
    pull_secret: list[str] | None
    kubeconfig: str | None
    context: str | None
    registry_timeout: float
    cache_max_age: float
    refresh: bool


def _registry_options(flags: RegistryFlags) -> RegistryOptions:
    from kgit.images.credentials import collect_credentials
    from kgit.images.service import RegistryOptions

    credentials = collect_credentials(
        flags["docker_config"] or [],
        flags["pull_secret"] or [],
        lambda: connect_cluster(flags["kubeconfig"], flags["context"]),
    )
    return RegistryOptions(
        credentials=credentials,
        timeout=flags["registry_timeout"],
        cache_max_age=flags["cache_max_age"],
        refresh=flags["refresh"],
    )


def _report_errors(result: ImageRoundResult) -> None:
    for error in result.errors:
        typer.echo(f"Error: {error}", err=True)
    if not result.ok:
        raise typer.Exit(1)


@app.command("list")
def list_(
    repo: Repo = Path(),
    ref: Ref = "HEAD",
    path: Paths = None,
    all_workloads: Annotated[
        bool, typer.Option("--all", help="Every workload, not only the automated ones.")
    ] = False,
    docker_config: DockerConfig = None,
    pull_secret: PullSecret = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    registry_timeout: RegistryTimeout = 10.0,
    cache_max_age: CacheMaxAge = 300.0,
    refresh: Refresh = False,
    fmt: Format = "text",
    verbose: Verbose = False,
) -> None:
    """List automated workloads' containers: current tag, newest allowed tag, policy.

    Exits 1 when a registry or a policy failed (the other rows are still shown).

    Examples:

      kgit images list

      kgit images list --all --format json --docker-config ~/.docker/config.json
    """
    run_list(**locals())


@handle_errors()
def run_list(
    *,
    repo: Path,
    ref: str,
    path: list[str] | None,
    all_workloads: bool,
    fmt: str,
    verbose: bool,
    **flags: Unpack[RegistryFlags],
) -> None:
    """The body of ``kgit images list``."""
    import dataclasses

    from kgit.images.service import ImageSourceOptions, list_images
    from kgit.render.images import render_image_table

    registry = _registry_options(flags)
    source = ImageSourceOptions(repo=repo, ref=ref, paths=tuple(path or ()))
    result = list_images(source, registry, include_all=all_workloads)
    echo(as_json(dataclasses.asdict(result)) if fmt == "json" else render_image_table(result))
    _report_errors(result)


@app.command("update")
def update(
    repo: Repo = Path(),
    path: Paths = None,
    dry_run: DryRun = False,
    no_push: NoPush = False,
    docker_config: DockerConfig = None,
    pull_secret: PullSecret = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    registry_timeout: RegistryTimeout = 10.0,
    cache_max_age: CacheMaxAge = 300.0,
    refresh: Refresh = False,
    fmt: Format = "text",
    verbose: Verbose = False,
) -> None:
    """Commit the newest allowed tag of every automated, unlocked workload, and push.

    Reads HEAD of the checked-out branch, rewrites only the image strings that change,
    commits them in one commit listing each change and pushes it to the branch's
    upstream (else origin). An image whose registry fails is reported and the others
    still update; the exit status is then 1.

    Examples:

      kgit images update --dry-run

      kgit images update -C ~/src/fleet --pull-secret kgit/registry-creds
    """
    run_update(**locals())


@handle_errors()
def run_update(
    *,
    repo: Path,
    path: list[str] | None,
    dry_run: bool,
    no_push: bool,
    fmt: str,
    verbose: bool,
    **flags: Unpack[RegistryFlags],
) -> None:
    """The body of ``kgit images update``."""
    import dataclasses

    from kgit.images.service import run_image_round
    from kgit.render.images import render_image_round

    registry = _registry_options(flags)
    result = run_image_round(
        repo, paths=tuple(path or ()), registry=registry, dry_run=dry_run, push=not no_push
    )
    echo(as_json(dataclasses.asdict(result)) if fmt == "json" else render_image_round(result))
    _report_errors(result)


@handle_errors()
def _edit(
    verb: EditVerb,
    *,
    workload: str,
    repo: Path,
    path: list[str] | None,
    dry_run: bool,
    no_push: bool,
    tag_all: str | None = None,
    tags: dict[str, str] | None = None,
    verbose: bool,
) -> None:
    from kgit.images.service import ImageSourceOptions, edit_workload

    result = edit_workload(
        ImageSourceOptions(repo=repo, paths=tuple(path or ())),
        workload,
        verb,
        tag_all=tag_all,
        tags=tags,
        dry_run=dry_run,
        push=not no_push,
    )
    line = f"{result.workload}: {result.summary} ({result.path})"
    if result.commit is not None:
        commit = result.commit
        where = f", pushed to {commit.pushed_to}" if commit.pushed_to else " (not pushed)"
        line += f"\nCommitted {commit.commit[:12]} on {commit.branch}{where}."
    elif result.changed:
        line += "\nDry run: nothing committed."
    echo(line)


def _annotation_verb(verb: EditVerb, doc: str) -> Callable[..., None]:
    """The command for a verb that only turns one workload annotation on or off, in Git."""

    def command(
        workload: WorkloadArg,
        repo: Repo = Path(),
        path: Paths = None,
        dry_run: DryRun = False,
        no_push: NoPush = False,
        verbose: Verbose = False,
    ) -> None:
        _edit(
            verb,
            workload=workload,
            repo=repo,
            path=path,
            dry_run=dry_run,
            no_push=no_push,
            verbose=verbose,
        )

    # typer names the command and writes its help from these.
    command.__name__ = command.__qualname__ = verb
    command.__doc__ = doc
    return command


automate = _annotation_verb(
    "automate",
    """Turn on image automation for a workload (kgit.dev/automated: "true"), in Git.

    Example:

      kgit automate default:deployment/podinfo
    """,
)
deautomate = _annotation_verb(
    "deautomate", "Turn off image automation for a workload (removes the automated annotation)."
)
lock = _annotation_verb(
    "lock", 'Lock a workload: automation leaves its images alone (kgit.dev/locked: "true").'
)
unlock = _annotation_verb("unlock", "Unlock a workload (removes the locked annotation).")


def policy(
    workload: WorkloadArg,
    tag_all: Annotated[
        str | None,
        typer.Option(
            "--tag-all", help="Policy for every container: semver:RANGE, glob:PATTERN, regex:RE."
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", help="CONTAINER=POLICY for one container (repeatable).", show_default=False
        ),
    ] = None,
    repo: Repo = Path(),
    path: Paths = None,
    dry_run: DryRun = False,
    no_push: NoPush = False,
    verbose: Verbose = False,
) -> None:
    """Set the tag policy of a workload's containers (kgit.dev/tag.<container>), in Git.

    Examples:

      kgit policy default:deployment/podinfo --tag-all 'semver:~1'

      kgit policy Deployment/default/podinfo --tag init='regex:^3\\.10\\.' --tag podinfod='semver:~3.1'
    """
    tags: dict[str, str] = {}
    for item in tag or []:
        container, sep, text = item.partition("=")
        if not sep or not container:
            raise fail(f"--tag {item}: write CONTAINER=POLICY")
        tags[container] = text
    _edit(
        "policy",
        workload=workload,
        repo=repo,
        path=path,
        dry_run=dry_run,
        no_push=no_push,
        tag_all=tag_all,
        tags=tags,
        verbose=verbose,
    )


def register(root: typer.Typer) -> None:
    """Add ``images`` and the annotation verbs to the ``kgit`` app."""
    root.add_typer(app, name="images")
    for command in (automate, deautomate, lock, unlock, policy):
        root.command(command.__name__)(command)
