"""``kgit images list|update`` and ``kgit automate|deautomate|lock|unlock|policy``.

Image automation, Flux v1 style: workloads opt in with annotations in Git, kgit polls
their registries and commits newer tags; the verbs edit those annotations in Git.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from kgit.cli.command import verb
from kgit.cli.output import echo
from kgit.flags import TableFormat
from kgit.services.verbs_gitops import (
    ImagesListOptions,
    ImagesUpdateOptions,
    PolicyOptions,
    WorkloadEditOptions,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.images.service import EditVerb, ImageRoundResult

app = typer.Typer(
    help="Image automation: see and commit the newest tags the workloads' policies allow.",
    no_args_is_help=True,
)


def _exit_code(result: ImageRoundResult) -> int:
    for error in result.errors:
        typer.echo(f"Error: {error}", err=True)
    return 0 if result.ok else 1


@verb(ImagesListOptions)
def list_(options: ImagesListOptions) -> int:
    """List automated workloads' containers: current tag, newest allowed tag, policy.

    Exits 1 when a registry or a policy failed (the other rows are still shown).

    Examples:

      kgit images list

      kgit images list --all --format json --docker-config ~/.docker/config.json
    """
    from kgit.render.images import render_image_table, render_images_json
    from kgit.services.images import list_workload_images

    result = list_workload_images(options)
    json_ = options.fmt is TableFormat.JSON
    echo(render_images_json(result) if json_ else render_image_table(result))
    return _exit_code(result)


@verb(ImagesUpdateOptions)
def update(options: ImagesUpdateOptions) -> int:
    """Commit the newest allowed tag of every automated, unlocked workload, and push.

    Reads HEAD of the checked-out branch, rewrites only the image strings that change,
    commits them in one commit listing each change and pushes it to the branch's
    upstream (else origin). An image whose registry fails is reported and the others
    still update; the exit status is then 1.

    Examples:

      kgit images update --dry-run

      kgit images update -C ~/src/fleet --pull-secret kgit/registry-creds
    """
    from kgit.render.images import render_image_round, render_images_json
    from kgit.services.images import update_workload_images

    result = update_workload_images(options)
    json_ = options.fmt is TableFormat.JSON
    echo(render_images_json(result) if json_ else render_image_round(result))
    return _exit_code(result)


def _annotation_verb(name: EditVerb, doc: str) -> Callable[..., None]:
    """The command for a verb that only turns one workload annotation on or off, in Git."""

    def command(options: WorkloadEditOptions) -> int:
        from kgit.render.images import render_edit
        from kgit.services.images import edit_annotation

        echo(render_edit(edit_annotation(options, name)))
        return 0

    # typer names the command and writes its help from these.
    command.__name__ = command.__qualname__ = name
    command.__doc__ = doc
    return verb(WorkloadEditOptions)(command)


automate = _annotation_verb(
    "automate",
    """Turn on image automation for a workload (kgit.dev/automated: "true"), in Git.

    Examples:

      kgit automate default:deployment/podinfo

      kgit automate Deployment/default/podinfo --dry-run
    """,
)
deautomate = _annotation_verb(
    "deautomate",
    """Turn off image automation for a workload (removes the automated annotation).

    Examples:

      kgit deautomate default:deployment/podinfo
    """,
)
lock = _annotation_verb(
    "lock",
    """Lock a workload: automation leaves its images alone (kgit.dev/locked: "true").

    Examples:

      kgit lock default:deployment/podinfo
    """,
)
unlock = _annotation_verb(
    "unlock",
    """Unlock a workload (removes the locked annotation).

    Examples:

      kgit unlock default:deployment/podinfo
    """,
)


@verb(PolicyOptions)
def policy(options: PolicyOptions) -> int:
    """Set the tag policy of a workload's containers (kgit.dev/tag.<container>), in Git.

    Examples:

      kgit policy default:deployment/podinfo --tag-all 'semver:~1'

      kgit policy Deployment/default/podinfo --tag init='regex:^3\\.10\\.' --tag podinfod='semver:~3.1'
    """
    from kgit.render.images import render_edit
    from kgit.services.images import set_policy

    echo(render_edit(set_policy(options)))
    return 0


def register(root: typer.Typer) -> None:
    """Add ``images`` and the annotation verbs to the ``kgit`` app."""
    app.command("list")(list_)
    app.command("update")(update)
    root.add_typer(app, name="images")
    for name, command in (
        ("automate", automate),
        ("deautomate", deautomate),
        ("lock", lock),
        ("unlock", unlock),
        ("policy", policy),
    ):
        root.command(name)(command)
