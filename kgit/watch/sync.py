"""``kgit sync``: ask a running watcher for a round now, and wait until it is done."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kgit.errors import WatchError
from kgit.watch.status import read_status, request_sync, status_name, watched_stacks

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.cluster import Cluster
    from kgit.watch.status import WatchStatus


def find_watched_stack(cluster: Cluster, namespace: str, stack: str | None) -> str:
    """``stack``, or the only stack with a watcher in ``namespace``.

    Raises :class:`WatchError` when there is none, or several and none was named.
    """
    if stack:
        return stack
    stacks = watched_stacks(cluster, namespace)
    if len(stacks) == 1:
        return stacks[0]
    if not stacks:
        raise WatchError(f"{namespace}: no kgit watch status found (is a watcher running?)")
    raise WatchError(
        f"{namespace}: several stacks are watched ({', '.join(stacks)}); name one with --stack"
    )


def sync_watcher(
    cluster: Cluster,
    namespace: str,
    stack: str,
    *,
    timeout: float,
    on_revision: Callable[[str, str], None],
    poll: float = 0.25,
) -> WatchStatus:
    """Request a round of the stack's watcher and wait for its end; the status it left.

    ``on_revision(ref, commit)`` is called once the watcher has fetched, with the commit
    it is going to apply. The caller reads the outcome from the returned status's
    ``result`` and ``error``. Raises :class:`WatchError` when no watcher has run for
    the stack, or none finished the round within ``timeout`` seconds.
    """
    request = request_sync(cluster, namespace, stack)
    deadline = time.monotonic() + timeout
    told = False
    while True:
        status = read_status(cluster, namespace, stack)
        if status is None:
            raise WatchError(f"ConfigMap/{namespace}/{status_name(stack)}: deleted while waiting")
        if not told and status.sync_started >= request and status.revision:
            on_revision(status.ref, status.revision)
            told = True
        if status.sync_done >= request:
            return status
        if time.monotonic() >= deadline:
            doing = "did not finish the round" if told else "did not answer"
            raise WatchError(
                f"{status.subject}: the watcher {doing} within {timeout:g}s "
                f"(is kgit watch running for stack {stack}?)"
            )
        time.sleep(poll)
