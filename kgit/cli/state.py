"""``kgit state list|show|rm|recover``: inspect and repair the recorded state."""

from __future__ import annotations

from kgit.cli.command import verb
from kgit.cli.output import echo
from kgit.services.verbs import (
    StackTableOptions,
    StateListOptions,
    StateRecoverOptions,
    StateRmOptions,
)


@verb(StateListOptions)
def list_(options: StateListOptions) -> int:
    """List the stacks that have a state (serial, object count, last update).

    Examples:

      kgit state list

      kgit state list --state-namespace platform --format json

      kgit state list --orphans            # labelled objects of stacks without a state
    """
    from kgit.flags import TableFormat
    from kgit.render.tables import (
        render_orphans,
        render_orphans_json,
        render_stacks,
        render_stacks_json,
    )
    from kgit.services.state import list_orphans, list_states

    json_ = options.fmt is TableFormat.JSON
    if options.orphans:
        orphans = list_orphans(options)
        echo(render_orphans_json(orphans) if json_ else render_orphans(orphans))
        return 0
    stacks = list_states(options)
    echo(render_stacks_json(stacks) if json_ else render_stacks(stacks))
    return 0


@verb(StackTableOptions)
def show(options: StackTableOptions) -> int:
    """Show what kgit tracks for a stack (Secret values appear only as digests).

    Examples:

      kgit state show                      # the stack of the checkout here

      kgit state show --stack web --format json
    """
    from kgit.flags import TableFormat
    from kgit.render.tables import render_state, render_state_json
    from kgit.services.state import load_stack_state

    handle = load_stack_state(options, must_exist=True)
    echo(render_state_json(handle) if options.fmt is TableFormat.JSON else render_state(handle))
    return 0


@verb(StateRmOptions)
def rm(options: StateRmOptions) -> int:
    """Stop tracking objects; they stay in the cluster (like terraform state rm).

    Examples:

      kgit state rm apps/Deployment/web/nginx --stack web

      kgit state rm /ConfigMap/web/settings /Service/web/nginx
    """
    from kgit.services.state import remove_from_state

    removed = remove_from_state(options)
    echo(
        f"Removed {removed.count} object(s) from the state of stack {removed.target.stack} "
        f"(serial {removed.serial})."
    )
    return 0


@verb(StateRecoverOptions)
def recover(options: StateRecoverOptions) -> int:
    """Record again the objects labelled for the stack that its state lacks (a lost state).

    Each object carrying kgit.dev/stack=<stack> is recorded as the cluster holds it, so
    the next plan prunes those no longer in Git. Takes the stack's lock.

    Examples:

      kgit state recover                   # the stack of the checkout here

      kgit state recover --stack web --state-namespace platform
    """
    from kgit.render.tables import render_recovered
    from kgit.services.state import recover_state

    recovered = recover_state(options)
    echo(
        render_recovered(
            recovered.target.stack, recovered.keys, recovered.serial, recovered.unlisted
        )
    )
    return 0
