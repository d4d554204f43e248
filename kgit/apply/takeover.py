"""Objects one stack takes over from another (``--take-over-from``), told to both.

The stack that gives an object up learns of it in its own history, written ahead of the
apply under its lock; its next plan forgets the object (never re-applies or deletes it).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kgit.plan.model import Reason
from kgit.state.lock import acquire
from kgit.state.model import HistoryEntry
from kgit.state.store import load_state, save_state

if TYPE_CHECKING:
    from kgit.cluster.client import Cluster
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.model import Plan


def taken_over(plan: Plan) -> dict[str, list[ObjectKey]]:
    """The objects ``plan`` takes over, by the stack they are taken from."""
    found: dict[str, list[ObjectKey]] = {}
    for change in plan.changes:
        for why in change.reasons:
            if why.reason is Reason.TAKE_OVER:
                found.setdefault(why.stack, []).append(change.key)
    return found


def take_over_note(plan: Plan) -> str:
    """``; took over 2 object(s) from stack A`` for the taking stack's history, or ""."""
    return "".join(
        f"; took over {len(keys)} object(s) from stack {other}"
        for other, keys in sorted(taken_over(plan).items())
    )


def record_take_overs(
    cluster: Cluster, plan: Plan, namespace: str, who: str, lock_timeout: float
) -> None:
    """Write in each giving stack's history what ``plan`` takes from it.

    Under that stack's lock, before anything is applied: its own apply is never
    interleaved, and a refused lock (:class:`LockError`) stops the take-over unapplied.
    A giving stack without a state (never applied here) has no history to write.
    """
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for other, keys in sorted(taken_over(plan).items()):
        with acquire(cluster, other, namespace, lock_timeout, who, operation="take-over"):
            handle = load_state(cluster, other, namespace)
            if not handle.exists:
                continue
            state = handle.state
            names = ", ".join(key.subject for key in keys)
            entry = HistoryEntry(
                serial=handle.serial + 1,
                plan_digest="",
                commit=state.commit,
                who=who,
                when=when,
                result=f"taken over by stack {plan.stack}: {len(keys)} object(s) ({names})",
            )
            save_state(cluster, handle, dataclasses.replace(state, history=[*state.history, entry]))
