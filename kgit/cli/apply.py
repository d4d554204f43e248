"""``kgit apply``, ``kgit destroy``, ``kgit force-unlock``, ``kgit history`` and ``kgit status``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from kgit.cli.command import verb
from kgit.cli.output import ask_yes, echo, progress, use_color
from kgit.errors import ConfigError
from kgit.services.verbs import (
    ApplyOptions,
    DestroyOptions,
    ForceUnlockOptions,
    StackTableOptions,
)

if TYPE_CHECKING:
    from kgit.plan.model import Plan
    from kgit.state.lease import LockInfo

APPROVAL = (
    "\nDo you want to perform these actions?\n"
    "  kgit will perform the actions described above.\n"
    "  Only 'yes' will be accepted to approve.\n"
)


@verb(ApplyOptions)
def apply(options: ApplyOptions) -> int:
    """Apply a stored plan exactly, or plan now, show it and ask for approval.

    A stored plan is refused (exit 1) when it is stale: the state moved, an object it
    touches changed in the cluster, or Git at its commit no longer gives the reviewed
    manifests. Exit 1 when any object fails.

    With --wait, kgit waits until every object it created or updated is healthy
    (kstatus: Current), showing progress on a terminal, and ends with a health summary;
    a Failed object or --wait-timeout passing exits 1 naming the object, the reason and
    what its pods and events show. Objects with the annotation kgit.dev/depends-on
    (Kind/namespace/name, comma-separated) are applied once those objects are Current.

    Examples:

      kgit apply                          # plan, show, ask "Only 'yes' will be accepted"

      kgit apply plans/pr-42.json         # exactly the reviewed plan (CI after merge)

      kgit apply --auto-approve --lock-timeout 60

      kgit apply --pending --stack web    # what kgit watch left waiting for approval

      kgit apply --auto-approve --wait --wait-timeout 2m   # until the rollout is done
    """
    from kgit.render import render_text
    from kgit.render.apply import render_apply_summary, render_health, render_result
    from kgit.services.apply import ApplyHooks, run_apply

    colored = use_color(options.view.color)
    stored = options.plan_file is not None or options.pending
    if not stored and not options.auto_approve and not sys.stdin.isatty():
        raise ConfigError(
            "no terminal to ask for approval: give --auto-approve, or apply a stored plan"
        )

    def approve(plan: Plan) -> bool:
        echo(render_text(plan, color=colored))
        return options.auto_approve or ask_yes(APPROVAL)

    hooks = ApplyHooks(
        progress=progress, on_result=lambda r: typer.echo(render_result(r)), approve=approve
    )
    outcome = run_apply(options, hooks)
    if outcome.report is None:
        echo(render_text(outcome.plan, color=colored))
        return 0
    if outcome.report.health is not None:
        typer.echo(render_health(outcome.report.health))
    typer.echo(render_apply_summary(outcome.report, destroy=outcome.plan.options.destroy))
    return 1 if outcome.report.failed else 0


DESTROY_APPROVAL = (
    "\nDo you really want to destroy all objects of this stack?\n"
    "  kgit will delete everything the stack owns, as shown above, then its state.\n"
    "  There is no undo. Only 'yes' will be accepted to confirm.\n"
)


@verb(DestroyOptions)
def destroy(options: DestroyOptions) -> int:
    """Delete every object the stack owns (its state and its label), then its records.

    Shows the plan and asks; with --out only stores the plan, for kgit apply PLAN. A
    Namespace holding objects the stack does not own is refused unless --allow-cascade.

    Examples:

      kgit destroy --stack web            # plan, show, ask "Only 'yes' will be accepted"

      kgit destroy --stack web --auto-approve

      kgit destroy --stack web --out plans/   # review it, then: kgit apply plans/web-….json
    """
    from kgit.render import render_plan
    from kgit.render.apply import render_apply_summary, render_result
    from kgit.services.apply import ApplyHooks
    from kgit.services.destroy import run_destroy

    colored = use_color(options.view.color)
    if options.out is None and not options.auto_approve and not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for approval: give --auto-approve, or --out")

    def show(plan: Plan) -> None:
        echo(render_plan(plan, options.fmt.value, color=colored))

    def approve(plan: Plan) -> bool:
        show(plan)
        return options.auto_approve or ask_yes(DESTROY_APPROVAL)

    hooks = ApplyHooks(
        progress=progress, on_result=lambda r: typer.echo(render_result(r)), approve=approve
    )
    outcome = run_destroy(options, hooks)
    if outcome.stored is not None:
        show(outcome.plan)
        return 0
    if outcome.report is None:
        typer.echo(f"No objects to destroy: stack {outcome.plan.stack} owns none.")
        return 0
    typer.echo(render_apply_summary(outcome.report, destroy=True))
    return 1 if outcome.report.failed else 0


@verb(ForceUnlockOptions)
def force_unlock(options: ForceUnlockOptions) -> int:
    """Release a stack's lock held by a run that died (shows the holder, then asks).

    Examples:

      kgit force-unlock 3f2a9c1e --stack web

      kgit force-unlock 3f2a9c1e --stack web --force     # no question (automation)

      kgit force-unlock --stack web       # a kgit-lock-web Lease with no lock ID
    """
    from kgit.services.state import unlock

    def confirm(info: LockInfo) -> bool:
        typer.echo(info.describe())
        if options.force:
            return True
        if not sys.stdin.isatty():
            raise ConfigError("no terminal to ask: give --force")
        return ask_yes("Only 'yes' will be accepted to confirm.")

    target = unlock(options, confirm)
    typer.echo(f"kgit state has been successfully unlocked (stack {target.stack}).")
    return 0


@verb(StackTableOptions)
def history(options: StackTableOptions) -> int:
    """List the stack's applies: serial, when, who, commit, counts, result.

    Examples:

      kgit history                 # the stack of the checkout here

      kgit history --stack web --format json
    """
    from kgit.flags import TableFormat
    from kgit.render.tables import render_history, render_history_json
    from kgit.services.state import load_stack_state

    entries = load_stack_state(options, must_exist=False).state.history
    json_ = options.fmt is TableFormat.JSON
    echo(render_history_json(entries) if json_ else render_history(entries))
    return 0


@verb(StackTableOptions)
def status(options: StackTableOptions) -> int:
    """Show each object of the stack: health, drift, when and at which commit it was
    applied; and the stack's last apply and watch round.

    Health is kstatus': Current, InProgress, Failed, Terminating, NotFound, Unknown,
    with what the pods and events of an object that is not Current show. DRIFT names a
    field the cluster changed since kgit applied it (or "deleted"). Exit 0 when every
    object is Current, 1 otherwise (for scripts and cron).

    Examples:

      kgit status                  # the stack of the checkout here

      kgit status --stack web --format json
    """
    from kgit.flags import TableFormat
    from kgit.render.status import render_status, render_status_json
    from kgit.services.status import load_stack_status

    found = load_stack_status(options)
    json_ = options.fmt is TableFormat.JSON
    echo(render_status_json(found) if json_ else render_status(found))
    return 0 if found.healthy else 1
