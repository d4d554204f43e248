"""``kgit plan`` and ``kgit show``: compute, store and render plans."""

from __future__ import annotations

import typer

from kgit.cli.command import verb
from kgit.cli.output import echo, progress, use_color
from kgit.services.verbs import PlanOptions, ShowOptions

# Terraform's codes with -detailed-exitcode: 2 means "the plan has changes".
CHANGES_EXIT = 2


@verb(PlanOptions)
def plan(options: PlanOptions) -> int:
    """Show what applying Git to the cluster would do, without changing anything.

    Examples:

      kgit plan                                  # HEAD of the repo in the current directory

      kgit plan -C ~/src/fleet --path apps/web --context prod

      kgit plan --out plans/pr-42.json --format markdown --detailed-exitcode   # in CI

      kgit plan --dirty                          # try uncommitted edits (never for apply)

      kgit plan --git-url ssh://git@git.example.com/fleet.git --git-ref main --known-hosts kh
    """
    from kgit.render import render_plan
    from kgit.services.plan import run_plan

    outcome = run_plan(options, progress)
    fmt = options.fmt.value
    if outcome.stored is not None and fmt == "text":
        typer.echo(
            f"Saved the plan to: {outcome.stored}\n\n"
            f"To apply exactly this plan: kgit apply {outcome.stored}\n"
        )
    echo(render_plan(outcome.plan, fmt, color=use_color(options.view.color)))
    return CHANGES_EXIT if options.detailed_exitcode and outcome.plan.has_changes else 0


@verb(ShowOptions)
def show(options: ShowOptions) -> int:
    """Render a stored plan (text, markdown or json).

    Examples:

      kgit show plans/pr-42.json

      kgit show plans/pr-42.json --format markdown > comment.md
    """
    from kgit.plan.store import read_plan
    from kgit.render import render_plan

    plan_ = read_plan(options.plan_file)
    echo(render_plan(plan_, options.fmt.value, color=use_color(options.view.color)))
    return 0
