"""GitOps verbs, as Flux v1 users know them: ``identity``, ``install``, ``watch``, ``sync``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kgit.cli.common import (
    CacheMaxAge,
    Context,
    DockerConfig,
    IdentityNamespace,
    InsecureSkipHostKeyCheck,
    KnownHosts,
    Kubeconfig,
    Paths,
    PullSecret,
    Ref,
    RegistryTimeout,
    SshKey,
    Stack,
    StateNamespace,
    Verbose,
    connect_cluster,
    echo,
    fail,
    handle_errors,
    remote_options,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.watch.loop import AutoApply, RoundReport, RoundResult, WatchOptions

RequiredGitUrl = Annotated[
    str,
    typer.Option(
        "--git-url",
        help="The Git repository: file://, ssh://user@host:port/path, user@host:path or https://.",
        show_default=False,
    ),
]
Interval = Annotated[
    str, typer.Option("--interval", help="Time between rounds: 30s, 5m, 1h (±10% jitter).")
]
AutoApplyMode = Annotated[
    str,
    typer.Option(
        "--auto-apply",
        help=(
            "all: apply every plan; safe: apply plans without deletions or replacements, "
            "keep the others for kgit apply; none: only plan and report."
        ),
    ),
]
PlansDir = Annotated[
    Path, typer.Option("--plans-dir", help="Where plans waiting for approval are stored.")
]
DefaultNamespace = Annotated[
    str | None, typer.Option(help="Namespace of namespaced objects that name none.")
]
AllowEmpty = Annotated[
    bool, typer.Option(help="Allow an empty source to delete every object of the stack.")
]
MaxDelete = Annotated[int | None, typer.Option(help="Most deletions a plan may hold.")]
Images = Annotated[
    bool,
    typer.Option(
        "--images",
        help="Before each round, commit and push the newer image tags the workloads' "
        "policies allow (as kgit images update), and apply that commit in the round.",
    ),
]


def identity(
    namespace: Annotated[
        str, typer.Option("--namespace", "-n", help="Namespace of the deploy key Secret.")
    ] = "kgit",
    regenerate: Annotated[
        bool, typer.Option("--regenerate", help="Replace the key with a new one.")
    ] = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    verbose: Verbose = False,
) -> None:
    """Print the deploy key's public key, creating the key pair (ed25519) the first time.

    The private key stays in the Secret kgit-identity; add the public key to the
    repository as a (read-only) deploy key. kgit uses it for SSH URLs.

    Examples:

      kgit identity --namespace kgit

      kgit identity --regenerate          # rotate: the old key stops working
    """
    run_identity(
        namespace=namespace,
        regenerate=regenerate,
        kubeconfig=kubeconfig,
        context=context,
        verbose=verbose,
    )


@handle_errors()
def run_identity(
    *, namespace: str, regenerate: bool, kubeconfig: str | None, context: str | None, verbose: bool
) -> None:
    """The body of ``kgit identity``."""
    from kgit.identity import ensure_identity

    with connect_cluster(kubeconfig, context) as cluster:
        found = ensure_identity(cluster, namespace, regenerate=regenerate)
    if found.created:
        typer.echo(f"kgit: a new deploy key is in {found.subject}", err=True)
    echo(found.public_key)


def install(
    git_url: RequiredGitUrl,
    git_path: Annotated[
        list[str] | None,
        typer.Option("--git-path", help="Path in the repository to apply (repeatable)."),
    ] = None,
    git_branch: Annotated[
        str,
        typer.Option(
            "--git-branch", "--git-ref", help="Branch (or tag) to follow; HEAD: the default branch."
        ),
    ] = "HEAD",
    namespace: Annotated[
        str, typer.Option("--namespace", "-n", help="Namespace kgit runs in.")
    ] = "kgit",
    image: Annotated[str | None, typer.Option(help="The kgit container image.")] = None,
    interval: Interval = "5m",
    auto_apply: AutoApplyMode = "safe",
    stack: Stack = None,
    namespaced: Annotated[
        bool,
        typer.Option(
            "--namespaced",
            help="Confine kgit to its namespace: a Role instead of a ClusterRole; state there too.",
        ),
    ] = False,
    known_hosts: Annotated[
        Path | None,
        typer.Option(
            "--known-hosts",
            help="known_hosts with the SSH server's host key (e.g. from ssh-keyscan), to embed.",
            show_default=False,
        ),
    ] = None,
    insecure_skip_host_key_check: InsecureSkipHostKeyCheck = False,
    verbose: Verbose = False,
) -> None:
    """Print the manifests that run kgit watch in a cluster (like fluxctl install).

    Namespace, ServiceAccount, ClusterRole and binding, the deploy-key Secret (empty
    until kgit identity fills it), the SSH known_hosts, and a Deployment.

    Example:

      kgit install --git-url git@github.com:org/fleet.git --git-path apps \\
        --known-hosts known_hosts | kubectl apply --server-side -f -

      kgit identity --namespace kgit     # then add the printed key to the repository
    """
    run_install(**{**locals(), "auto_apply": _mode(auto_apply)})


@handle_errors()
def run_install(
    *,
    git_url: str,
    git_path: list[str] | None,
    git_branch: str,
    namespace: str,
    image: str | None,
    interval: str,
    auto_apply: AutoApply,
    stack: str | None,
    namespaced: bool,
    known_hosts: Path | None,
    insecure_skip_host_key_check: bool,
    verbose: bool,
) -> None:
    """The body of ``kgit install``."""
    import yaml

    from kgit.watch.install import DEFAULT_IMAGE, InstallOptions, render_install

    hosts = ""
    if known_hosts is not None:
        try:
            hosts = known_hosts.read_text(encoding="utf-8")
        except OSError as err:
            raise fail(f"{known_hosts}: {err.strerror}") from err
    objects = render_install(
        InstallOptions(
            git_url=git_url,
            git_paths=tuple(git_path or ()),
            git_ref=git_branch,
            namespace=namespace,
            image=image or DEFAULT_IMAGE,
            interval=interval,
            auto_apply=auto_apply,
            stack=stack,
            namespaced=namespaced,
            known_hosts=hosts,
            insecure_skip_host_key_check=insecure_skip_host_key_check,
        )
    )
    echo(yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True))


def watch(
    git_url: RequiredGitUrl,
    ref: Ref = "HEAD",
    path: Paths = None,
    stack: Stack = None,
    interval: Interval = "5m",
    once: Annotated[
        bool,
        typer.Option(
            "--once", help="One round, then exit: 0 in sync, 1 failed, 2 changes wait (cron)."
        ),
    ] = False,
    auto_apply: AutoApplyMode = "safe",
    log_format: Annotated[
        str, typer.Option("--log-format", help="text, or json (one object a line).")
    ] = "text",
    plans_dir: PlansDir = Path("plans"),
    lock_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the stack's lock held by an apply.")
    ] = 0.0,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    default_namespace: DefaultNamespace = None,
    allow_empty: AllowEmpty = False,
    max_delete: MaxDelete = None,
    ssh_key: SshKey = None,
    known_hosts: KnownHosts = None,
    insecure_skip_host_key_check: InsecureSkipHostKeyCheck = False,
    identity_namespace: IdentityNamespace = "kgit",
    images: Images = False,
    docker_config: DockerConfig = None,
    pull_secret: PullSecret = None,
    registry_timeout: RegistryTimeout = 10.0,
    cache_max_age: CacheMaxAge = 300.0,
    verbose: Verbose = False,
) -> None:
    """Keep the cluster equal to Git: fetch, plan, apply, sleep; one log line a round.

    A failed round (Git or the API server unreachable) is logged and retried at the
    next. SIGTERM and SIGINT stop between rounds, or an apply between its batches.
    The status is in the ConfigMap kgit-status.<stack> beside the state.

    Examples:

      kgit watch --git-url ssh://git@git.example.com/fleet.git --git-ref main --interval 5m

      kgit watch --git-url file:///srv/git/fleet.git --once --auto-apply none   # cron, report only

      kgit watch --git-url git@github.com:org/fleet.git --images --pull-secret kgit/registry
    """
    options = _watch_options(**locals())
    log = _round_logger(log_format)
    run_watch(
        options=options, log=log, kubeconfig=kubeconfig, context=context, once=once, verbose=verbose
    )


@handle_errors()
def run_watch(
    *,
    options: WatchOptions,
    log: Callable[[RoundReport], None],
    kubeconfig: str | None,
    context: str | None,
    once: bool,
    verbose: bool,
) -> None:
    """The body of ``kgit watch``: the loop, with signals stopping it."""
    import functools

    from kgit.cluster.client import connect
    from kgit.services.apply import stop_on_signals
    from kgit.watch.loop import Watcher

    with stop_on_signals() as stop:
        watcher = Watcher(
            options, functools.partial(connect, kubeconfig, context), stop=stop, on_round=log
        )
        last = watcher.run(once=once)
    if once and last.exit_code:
        raise typer.Exit(last.exit_code)


def sync(
    stack: Stack = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the round.")] = 120.0,
    local: Annotated[
        bool,
        typer.Option("--local", help="Run one round here instead of asking a running watcher."),
    ] = False,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    state_namespace: StateNamespace = None,
    git_url: Annotated[
        str | None,
        typer.Option("--git-url", help="With --local: the Git repository.", show_default=False),
    ] = None,
    ref: Ref = "HEAD",
    path: Paths = None,
    auto_apply: AutoApplyMode = "safe",
    plans_dir: PlansDir = Path("plans"),
    default_namespace: DefaultNamespace = None,
    allow_empty: AllowEmpty = False,
    max_delete: MaxDelete = None,
    ssh_key: SshKey = None,
    known_hosts: KnownHosts = None,
    insecure_skip_host_key_check: InsecureSkipHostKeyCheck = False,
    identity_namespace: IdentityNamespace = "kgit",
    verbose: Verbose = False,
) -> None:
    """Ask the running watcher for a round now, and wait until it applied the revision.

    Exit 0 when applied, 2 when the changes wait for approval (kgit apply --pending),
    1 on failure or timeout.

    Examples:

      kgit sync                           # the only watched stack

      kgit sync --stack web --timeout 300

      kgit sync --local --git-url file:///srv/git/fleet.git   # one round here
    """
    if local:
        if not git_url:
            raise fail("--local runs a round here: give --git-url (and the watch options)")
        options = _watch_options(
            git_url=git_url,
            ref=ref,
            path=path,
            stack=stack,
            interval="1s",
            auto_apply=auto_apply,
            plans_dir=plans_dir,
            lock_timeout=timeout,
            state_namespace=state_namespace,
            default_namespace=default_namespace,
            allow_empty=allow_empty,
            max_delete=max_delete,
            ssh_key=ssh_key,
            known_hosts=known_hosts,
            insecure_skip_host_key_check=insecure_skip_host_key_check,
            identity_namespace=identity_namespace,
        )
        run_sync_local(options=options, kubeconfig=kubeconfig, context=context, verbose=verbose)
        return
    run_sync(
        stack=stack,
        timeout=timeout,
        kubeconfig=kubeconfig,
        context=context,
        state_namespace=state_namespace,
        verbose=verbose,
    )


@handle_errors()
def run_sync(
    *,
    stack: str | None,
    timeout: float,
    kubeconfig: str | None,
    context: str | None,
    state_namespace: str | None,
    verbose: bool,
) -> None:
    """The body of ``kgit sync``: request, wait, say how it ended."""
    from kgit.state.store import STATE_NAMESPACE
    from kgit.watch.loop import RoundResult, exit_code_of
    from kgit.watch.sync import find_watched_stack, sync_watcher

    namespace = state_namespace or STATE_NAMESPACE

    def told(ref: str, commit: str) -> None:
        typer.echo(f"Revision of {ref} to apply is {commit}")
        typer.echo(f"Waiting for {commit} to be applied ...")

    with connect_cluster(kubeconfig, context) as cluster:
        name = find_watched_stack(cluster, namespace, stack)
        status = sync_watcher(cluster, namespace, name, timeout=timeout, on_revision=told)
    result = RoundResult(status.result)
    _say_result(result, name, status.revision, status.error, status.summary)
    code = exit_code_of(result)
    if code:
        raise typer.Exit(code)


@handle_errors()
def run_sync_local(
    *, options: WatchOptions, kubeconfig: str | None, context: str | None, verbose: bool
) -> None:
    """The body of ``kgit sync --local``: one round in this process."""
    import functools
    import threading

    from kgit.cluster.client import connect
    from kgit.watch.loop import Watcher

    watcher = Watcher(
        options,
        functools.partial(connect, kubeconfig, context),
        stop=threading.Event(),
        on_round=lambda _: None,
    )
    report = watcher.run_round(trigger="sync")
    if report.commit:
        typer.echo(f"Revision of {report.ref} to apply is {report.commit}")
    summary = f"{report.add} to add, {report.change} to change, {report.delete} to delete"
    _say_result(report.result, report.stack, report.commit, report.error, summary)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _say_result(result: RoundResult, stack: str, commit: str, error: str, summary: str) -> None:
    from kgit.watch.loop import RoundResult

    if result in (RoundResult.APPLIED, RoundResult.UNCHANGED):
        typer.echo("Done.")
    elif result is RoundResult.PENDING:
        typer.echo(
            f"Revision {commit} waits for approval ({summary}): "
            f"kgit apply --pending --stack {stack}"
        )
    else:
        typer.echo(f"Error: the round {result.value}: {error}", err=True)


def _watch_options(
    *,
    git_url: str,
    ref: str,
    path: list[str] | None,
    stack: str | None,
    interval: str,
    auto_apply: str,
    plans_dir: Path,
    lock_timeout: float,
    state_namespace: str | None,
    default_namespace: str | None,
    allow_empty: bool,
    max_delete: int | None,
    ssh_key: Path | None,
    known_hosts: Path | None,
    insecure_skip_host_key_check: bool,
    identity_namespace: str,
    images: bool = False,
    docker_config: list[Path] | None = None,
    pull_secret: list[str] | None = None,
    registry_timeout: float = 10.0,
    cache_max_age: float = 300.0,
    **_: object,
) -> WatchOptions:
    """The watch options from the command line; a bad value exits 2 like typer's own."""
    from kgit.errors import ConfigError
    from kgit.images.service import RegistryOptions
    from kgit.services.options import PlanningOptions, TargetOptions
    from kgit.watch.images import ImageWatchOptions
    from kgit.watch.loop import WatchOptions, parse_duration

    try:
        seconds = parse_duration(interval)
    except ConfigError as err:
        raise typer.BadParameter(str(err), param_hint="--interval") from None
    if not images and (docker_config or pull_secret):
        raise typer.BadParameter(
            "registry credentials serve image automation: add --images",
            param_hint="--docker-config/--pull-secret",
        )
    return WatchOptions(
        remote=remote_options(
            git_url,
            ref=ref,
            paths=path,
            ssh_key=ssh_key,
            known_hosts=known_hosts,
            insecure_skip_host_key_check=insecure_skip_host_key_check,
            identity_namespace=identity_namespace,
        ),
        target=TargetOptions(stack=stack, state_namespace=state_namespace),
        planning=PlanningOptions(
            default_namespace=default_namespace, allow_empty=allow_empty, max_delete=max_delete
        ),
        mode=_mode(auto_apply),
        interval=seconds,
        plans_dir=plans_dir,
        lock_timeout=lock_timeout,
        images=ImageWatchOptions(
            RegistryOptions(timeout=registry_timeout, cache_max_age=cache_max_age),
            tuple(docker_config or ()),
            tuple(pull_secret or ()),
        )
        if images
        else None,
    )


def _mode(value: str) -> AutoApply:
    from kgit.watch.loop import AutoApply

    try:
        return AutoApply(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not one of all, safe, none", param_hint="--auto-apply"
        ) from None


def _round_logger(fmt: str) -> Callable[[RoundReport], None]:
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"{fmt!r} is not one of text, json", param_hint="--log-format")

    def log(report: RoundReport) -> None:
        for line in format_image_errors(report, fmt):
            typer.echo(line)
        typer.echo(format_round(report, fmt))

    return log


def format_round(report: RoundReport, fmt: str) -> str:
    """One log line for a round: ``key=value`` text, or a JSON object."""
    fields: dict[str, object] = {
        "time": report.started,
        "msg": "round",
        "stack": report.stack,
        "ref": report.ref,
        "commit": report.commit,
        "trigger": report.trigger,
        "result": report.result.value,
        "add": report.add,
        "change": report.change,
        "delete": report.delete,
        "duration_seconds": round(report.seconds, 3),
    }
    if report.images is not None:
        fields["images"] = list(report.images.updated)
        fields["image_errors"] = len(report.images.errors)
    if report.plan_file:
        fields["plan"] = report.plan_file
    if report.error:
        fields["error"] = report.error
    if fmt == "json":
        return json.dumps(fields, separators=(",", ":"))
    text = [
        report.started,
        f"stack={report.stack or '-'}",
        f"commit={report.commit[:12] or '-'}",
        f"result={report.result.value}",
        f"+{report.add} ~{report.change} -{report.delete}",
        f"duration={report.seconds:.1f}s",
        f"trigger={report.trigger}",
    ]
    if report.images is not None:
        text.append(f"images={len(report.images.updated)}")
        if report.images.errors:
            text.append(f"image_errors={len(report.images.errors)}")
    if report.plan_file:
        text.append(f"plan={report.plan_file}")
    if report.error:
        text.append(f"error={json.dumps(report.error)}")
    return " ".join(text)


def format_image_errors(report: RoundReport, fmt: str) -> list[str]:
    """One log line per image (or policy) the round's image automation failed on."""
    errors = report.images.errors if report.images is not None else ()
    if fmt == "json":
        return [
            json.dumps(
                {
                    "time": report.started,
                    "msg": "image error",
                    "stack": report.stack,
                    "commit": report.commit,
                    "error": error,
                },
                separators=(",", ":"),
            )
            for error in errors
        ]
    prefix = f"{report.started} stack={report.stack or '-'} image_error="
    return [prefix + json.dumps(error) for error in errors]
