"""GitOps verbs, as Flux v1 users know them: ``identity``, ``install``, ``watch``, ``sync``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from kgit.cli.command import verb
from kgit.cli.output import echo
from kgit.flags import TableFormat
from kgit.services.verbs_gitops import (
    IdentityOptions,
    InstallOptions,
    SopsKeyOptions,
    SyncOptions,
    WatchOptions,
)

if TYPE_CHECKING:
    from kgit.watch.loop import RoundReport


@verb(IdentityOptions)
def identity(options: IdentityOptions) -> int:
    """Print the deploy key's public key, creating the key pair (ed25519) the first time.

    The private key stays in the Secret kgit-identity; add the public key to the
    repository as a (read-only) deploy key. kgit uses it for SSH URLs.

    Examples:

      kgit identity --namespace kgit

      kgit identity --regenerate          # rotate: the old key stops working
    """
    from kgit.services.gitops import deploy_key

    found = deploy_key(options)
    if found.created:
        typer.echo(f"kgit: a new deploy key is in {found.subject}", err=True)
    echo(found.public_key)
    return 0


@verb(SopsKeyOptions)
def sops_key(options: SopsKeyOptions) -> int:
    """Print the age recipient of kgit's SOPS key, creating the key pair the first time.

    The private key stays in the Secret kgit-sops-age; encrypt to the printed recipient
    (sops --age, or .sops.yaml) and let the watcher decrypt with
    kgit install --sops-age-secret kgit-sops-age (or kgit plan --sops-age-secret
    kgit/kgit-sops-age). A rotation keeps the old key until --remove-old, so files
    encrypted to either decrypt meanwhile.

    Examples:

      kgit sops-key --namespace kgit

      sops encrypt --age "$(kgit sops-key)" --encrypted-regex '^(data|stringData)$' \
        secret.yaml > secret.enc.yaml

      kgit sops-key --regenerate          # rotate; then sops updatekeys every file

      kgit sops-key --remove-old          # once no file is encrypted to the old key
    """
    from kgit.services.gitops import sops_key as ensure

    found = ensure(options)
    if found.created:
        typer.echo(f"kgit: a new age key is in {found.subject}", err=True)
    for recipient in found.removed:
        typer.echo(f"kgit: removed the old key of {recipient}", err=True)
    for recipient in found.old_recipients:
        typer.echo(f"kgit: still kept: the old key of {recipient} (--remove-old)", err=True)
    echo(found.recipient)
    return 0


@verb(InstallOptions)
def install(options: InstallOptions) -> int:
    """Print the manifests that run kgit watch in a cluster (like fluxctl install).

    Namespace, ServiceAccount, ClusterRole and binding, the deploy-key Secret (empty
    until kgit identity fills it), the SSH known_hosts, and a Deployment.

    Examples:

      kgit install --git-url git@github.com:org/fleet.git --git-path apps \\
        --known-hosts known_hosts | kubectl apply --server-side -f -

      kgit identity --namespace kgit     # then add the printed key to the repository
    """
    from kgit.render.watch import render_manifests
    from kgit.services.gitops import install_objects

    echo(render_manifests(install_objects(options)))
    return 0


@verb(WatchOptions)
def watch(options: WatchOptions) -> int:
    """Keep the cluster equal to Git: fetch, plan, apply, sleep; one log line a round.

    A failed round (Git or the API server unreachable) is logged and retried at the
    next. SIGTERM and SIGINT stop between rounds, or an apply between its batches.
    The status is in the ConfigMap kgit-status.<stack> beside the state.

    Examples:

      kgit watch --git-url ssh://git@git.example.com/fleet.git --git-ref main --interval 5m

      kgit watch --git-url file:///srv/git/fleet.git --once --auto-apply none   # cron, report only

      kgit watch --git-url git@github.com:org/fleet.git --images --pull-secret kgit/registry
    """
    from kgit.render.watch import render_image_errors, render_round
    from kgit.services.gitops import run_watch

    as_json = options.log_format is TableFormat.JSON

    def log(report: RoundReport) -> None:
        for line in render_image_errors(report, as_json=as_json):
            typer.echo(line)
        typer.echo(render_round(report, as_json=as_json))

    last = run_watch(options, log)
    return last.exit_code if options.once else 0


@verb(SyncOptions)
def sync(options: SyncOptions) -> int:
    """Ask the running watcher for a round now, and wait until it applied the revision.

    Exit 0 when applied, 2 when the changes wait for approval (kgit apply --pending),
    1 on failure or timeout.

    Examples:

      kgit sync                           # the only watched stack

      kgit sync --stack web --timeout 300

      kgit sync --local --git-url file:///srv/git/fleet.git   # one round here
    """
    from kgit.render.watch import render_round_end
    from kgit.services.gitops import sync_here, sync_remote
    from kgit.watch.rounds import exit_code_of

    if options.local:
        report = sync_here(options)
        if report.commit:
            typer.echo(f"Revision of {report.ref} to apply is {report.commit}")
        summary = f"{report.add} to add, {report.change} to change, {report.delete} to delete"
        line, error = render_round_end(
            report.result, report.stack, report.commit, report.error, summary
        )
        typer.echo(line, err=error)
        return report.exit_code

    def told(ref: str, commit: str) -> None:
        typer.echo(f"Revision of {ref} to apply is {commit}")
        typer.echo(f"Waiting for {commit} to be applied ...")

    outcome = sync_remote(options, told)
    line, error = render_round_end(
        outcome.result, outcome.stack, outcome.commit, outcome.error, outcome.summary
    )
    typer.echo(line, err=error)
    return exit_code_of(outcome.result)
