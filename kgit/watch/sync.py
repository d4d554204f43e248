"""``kgit sync``: ask a running watcher for a round now, and wait until it is done.

Both sides meet in the watcher's status ConfigMap: ``kgit sync`` writes a request time
there (:func:`sync_watcher`), and the watcher, between rounds, polls for it
(:class:`SyncListener`) and marks the round that answers it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kgit.errors import ClusterError, WatchError
from kgit.watch.status import (
    now_stamp,
    read_status,
    request_sync,
    status_name,
    watched_stacks,
)

if TYPE_CHECKING:
    import threading
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


# How long past its announced next round a watcher may still be busy with a long round
# before kgit sync takes it for dead (killed without a word).
LATE_GRACE = 600.0


def check_watcher(status: WatchStatus | None, stack: str, grace: float = LATE_GRACE) -> None:
    """Refuse at once to wait for a watcher the status shows is not running.

    Raises :class:`WatchError` when the watcher said it stopped, or let its next round
    pass by more than ``grace`` seconds. A status from a kgit that wrote neither passes.
    """
    if status is None:
        return
    hint = f"start kgit watch for stack {stack}, or run this round here with kgit sync --local"
    if status.stopped:
        raise WatchError(
            f"{status.subject}: no watcher is running (the last one stopped at "
            f"{status.stopped}); {hint}"
        )
    if status.next_round and status.next_round < now_stamp(-grace):
        raise WatchError(
            f"{status.subject}: no watcher is running (its next round was due by "
            f"{status.next_round}); {hint}"
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
    check_watcher(read_status(cluster, namespace, stack), stack)
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


class SyncListener:
    """The watcher's side of ``kgit sync``: wait between rounds, and notice requests.

    ``connect()`` opens the cluster used for polling (once, kept until :meth:`close`);
    ``stop`` cuts a wait short. ``stack`` and ``namespace`` are the watcher's, empty
    until its first round has read them.
    """

    def __init__(
        self, connect: Callable[[], Cluster], stop: threading.Event, poll_interval: float
    ) -> None:
        self._connect = connect
        self._stop = stop
        self._poll_interval = poll_interval
        self._poller: Cluster | None = None
        self._last_request = ""

    def answer(self, cluster: Cluster, stack: str, namespace: str, request: str) -> str:
        """The request a round starting now answers, or "".

        ``request`` when one woke the watcher, else one still unanswered in the status
        (made while the watcher was busy or not running): the round's fetch comes after it.
        """
        request = request or self._unanswered(cluster, stack, namespace)
        self._last_request = max(self._last_request, request)
        return request

    def wait(self, delay: float, stack: str, namespace: str) -> tuple[str, str]:
        """Wait ``delay`` seconds for the next round: ("interval", ""), ("stopped", "")
        or ("sync", request time) when a ``kgit sync`` request comes first.
        """
        deadline = time.monotonic() + delay
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "interval", ""
            if self._stop.wait(min(self._poll_interval, remaining)):
                return "stopped", ""
            request = self._new_request(stack, namespace)
            if request:
                return "sync", request

    def close(self) -> None:
        """Close the polling connection, if one was opened."""
        if self._poller is not None:
            self._poller.close()

    def _unanswered(self, cluster: Cluster, stack: str, namespace: str) -> str:
        """The time of a sync request no round has answered, or ""."""
        if not stack:
            return ""
        status = read_status(cluster, namespace, stack)
        return status.sync_requested if status is not None and status.sync_pending else ""

    def _new_request(self, stack: str, namespace: str) -> str:
        """A ``kgit sync`` request no round has answered yet, or ""."""
        if not stack or not namespace:
            return ""
        try:
            if self._poller is None:
                self._poller = self._connect()
            status = read_status(self._poller, namespace, stack, quick=True)
        except ClusterError:
            return ""  # the next round will say what is wrong
        if status is None or not status.sync_pending:
            return ""
        request = status.sync_requested
        return request if request > self._last_request else ""
