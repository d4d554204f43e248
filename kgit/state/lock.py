"""The stack lock: a ``coordination.k8s.io/v1`` Lease ``kgit-lock-<stack>``, renewed while held.

Unlike Terraform's Kubernetes backend, the lock expires: the holder renews it every third
of ``leaseDurationSeconds`` from a daemon thread, so a crashed run's lock lapses and the
next run takes it over (with a ``resourceVersion`` precondition: of two runs racing for a
lapsed lock, one wins). A holder that cannot renew in time has lost the lock and says so
through :attr:`Lock.lost`, which an apply checks between objects.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import random
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from kgit.cluster import (
    LEASE,
    NAMESPACE,
    AlreadyExistsError,
    ApiError,
    ConflictError,
    NotFoundError,
    UnreachableError,
)
from kgit.errors import ClusterError, LockError
from kgit.state.lease import (
    LEASE_DURATION,
    LockInfo,
    info_of,
    lease_body,
    lease_name,
    lock_id_of,
    renewed,
)
from kgit.state.model import check_stack_name
from kgit.state.store import STATE_NAMESPACE

if TYPE_CHECKING:
    from types import TracebackType

    from kgit.cluster import Cluster

log = logging.getLogger(__name__)


def default_who() -> str:
    """``user@host/pid`` of this process, as a lock holder."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}/{os.getpid()}"


def unlock_command(info: LockInfo) -> str:
    """The ``kgit force-unlock`` command line that removes this lock."""
    if info.lock_id:
        return f"kgit force-unlock {info.lock_id} --stack {info.stack}"
    # A Lease kgit did not write (no lock ID) is removed by its stack alone.
    return f"kgit force-unlock --stack {info.stack}"


def read_lock(cluster: Cluster, stack: str, namespace: str = STATE_NAMESPACE) -> LockInfo | None:
    """What the stack's Lease says, held or not, or None when there is no Lease at all."""
    check_stack_name(stack)
    try:
        lease = cluster.get(LEASE, namespace, lease_name(stack))
    except ClusterError as err:
        raise LockError(f"Lease/{namespace}/{lease_name(stack)}: cannot read: {err}") from err
    return None if lease is None else info_of(lease, stack, namespace)


def describe_lock(
    cluster: Cluster, stack: str, namespace: str = STATE_NAMESPACE
) -> LockInfo | None:
    """Who holds the stack's lock, or None when nobody does (no Lease, or released)."""
    check_stack_name(stack)
    try:
        lease = cluster.get(LEASE, namespace, lease_name(stack))
    except ClusterError as err:
        raise LockError(f"Lease/{namespace}/{lease_name(stack)}: cannot read: {err}") from err
    if lease is None or not (lease.get("spec") or {}).get("holderIdentity"):
        return None
    return info_of(lease, stack, namespace)


class Lock:
    """A held stack lock. Renewed in the background until :meth:`release`.

    Use as a context manager. :attr:`lost` turns True if a renewal failed for longer
    than the lease lasts or someone else took the Lease: stop changing the world then.
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        stack: str,
        namespace: str,
        lock_id: str,
        who: str,
        duration: int,
        lease: dict[str, Any],
    ) -> None:
        self._cluster = cluster
        self.stack = stack
        self.namespace = namespace
        self.lock_id = lock_id
        self.who = who
        self.duration = duration
        self._lease = lease
        self._renewed = time.monotonic()
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._released = False
        self._thread = threading.Thread(
            target=self._renew_loop, name=f"kgit-lock-{stack}", daemon=True
        )
        self._thread.start()

    @property
    def subject(self) -> str:
        """``Lease/<namespace>/kgit-lock-<stack>``, for messages."""
        return f"Lease/{self.namespace}/{lease_name(self.stack)}"

    @property
    def lost(self) -> bool:
        """True once the lock can no longer be trusted to be ours."""
        return self._lost.is_set()

    def check(self) -> None:
        """Raise :class:`LockError` if the lock was lost."""
        if self.lost:
            raise LockError(
                f"{self.subject}: the lock (ID {self.lock_id}) was lost: it could not be "
                "renewed in time or was taken over; stopping"
            )

    def info(self) -> LockInfo:
        """This lock as :func:`describe_lock` would show it."""
        return info_of(self._lease, self.stack, self.namespace)

    def _renew_loop(self) -> None:
        interval = self.duration / 3
        wait = interval
        while not self._stop.wait(wait):
            try:
                self._renew_once()
                wait = interval
            except _LockLostError as err:
                log.warning("%s: lock lost: %s", self.subject, err)
                self._lost.set()
                return
            except Exception as err:
                # Whatever failed (the server, the network, a garbled answer), the lock
                # is still ours until the lease runs out: try again sooner. A thread
                # that died here would let the lease lapse without setting ``lost``.
                if time.monotonic() - self._renewed >= self.duration:
                    log.warning(
                        "%s: lock lost: renewals failed for %ds", self.subject, self.duration
                    )
                    self._lost.set()
                    return
                log.debug("%s: renewal failed, retrying: %s", self.subject, err)
                wait = min(interval, 1.0)

    def _renew_once(self) -> None:
        started = time.monotonic()
        for _ in range(2):
            lease = renewed(self._lease)
            try:
                self._lease = self._cluster.replace_lease(lease)
                self._renewed = started
                return
            except NotFoundError as err:
                raise _LockLostError("the Lease was deleted (force-unlock?)") from err
            except ConflictError as err:
                current = self._cluster.get(LEASE, self.namespace, lease_name(self.stack))
                if current is None or lock_id_of(current) != self.lock_id:
                    raise _LockLostError("the Lease was taken over by another holder") from err
                # Still ours: an earlier renewal went through though its answer was lost.
                self._lease = current

    def release(self) -> None:
        """Stop renewing and delete the Lease, if it is still ours. Idempotent."""
        if self._released:
            return
        self._released = True
        self._stop.set()
        self._thread.join()
        if self.lost:
            return
        meta = self._lease.get("metadata") or {}
        try:
            self._cluster.delete(
                LEASE,
                self.namespace,
                lease_name(self.stack),
                uid=str(meta.get("uid") or "") or None,
                resource_version=str(meta.get("resourceVersion") or "") or None,
            )
        except ConflictError:
            log.warning("%s: not released: the Lease changed hands", self.subject)
        except ClusterError as err:
            # It will expire on its own within the lease duration.
            log.warning("%s: release failed (expires in %ds): %s", self.subject, self.duration, err)

    def __enter__(self) -> Lock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class _LockLostError(Exception):
    pass


def acquire(
    cluster: Cluster,
    stack: str,
    namespace: str = STATE_NAMESPACE,
    timeout: float = 0.0,
    who: str | None = None,
    *,
    duration: int = LEASE_DURATION,
    operation: str = "",
) -> Lock:
    """Take the stack's lock, waiting up to ``timeout`` seconds for its holder.

    A free lock is created; a released or expired one (``renewTime`` + duration in the
    past, or unchanged for a whole lease duration as seen here) is taken over with a
    ``resourceVersion`` precondition. ``who`` defaults to ``user@host/pid``. On timeout
    raises :class:`LockError` naming the holder, since when, and the lock ID to give
    ``kgit force-unlock``.
    """
    check_stack_name(stack)
    who = who or default_who()
    lock_id = str(uuid.uuid4())
    subject = f"Lease/{namespace}/{lease_name(stack)}"
    deadline = time.monotonic() + timeout
    observed: tuple[str, float] = ("", 0.0)
    delay = 0.2
    unknown = 0
    while True:
        try:
            current = cluster.get(LEASE, namespace, lease_name(stack))
            if current is not None and lock_id_of(current) == lock_id:
                # A write whose answer was lost did take the lock: it is ours.
                written: dict[str, Any] | None = current
            else:
                written = _try_take(
                    cluster,
                    current,
                    observed,
                    stack=stack,
                    namespace=namespace,
                    lock_id=lock_id,
                    who=who,
                    operation=operation,
                    duration=duration,
                )
        except _RetryNowError:
            continue
        except _UnknownOutcomeError as err:
            # Read the Lease again before anything else: it may be ours now. A write
            # that keeps failing this way is an error, not a reason to loop forever.
            unknown += 1
            if unknown >= _UNKNOWN_OUTCOMES:
                raise LockError(f"{subject}: cannot take the lock: {err.__cause__}") from err
            continue
        except ClusterError as err:
            raise LockError(f"{subject}: cannot take the lock: {err}") from err
        if written is not None:
            return Lock(
                cluster,
                stack=stack,
                namespace=namespace,
                lock_id=lock_id,
                who=who,
                duration=duration,
                lease=written,
            )
        assert current is not None
        rv = str((current.get("metadata") or {}).get("resourceVersion") or "")
        if rv != observed[0]:
            observed = (rv, time.monotonic())
        if time.monotonic() >= deadline:
            info = info_of(current, stack, namespace)
            raise LockError(
                f"{subject}: stack {stack!r} is locked: {info.describe()}. Wait for it "
                f"(--lock-timeout), or if that run is dead: {unlock_command(info)}"
            )
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())) * (0.8 + random.random() / 5))
        delay = min(2.0, delay * 1.5)


class _RetryNowError(Exception):
    pass


class _UnknownOutcomeError(Exception):
    """A Lease write failed in a way that leaves open whether it happened (5xx, no answer)."""


# Writes of the Lease whose outcome is unknown, tolerated in a row while taking the lock.
_UNKNOWN_OUTCOMES = 4


def _unknown_outcome(err: ClusterError) -> bool:
    return isinstance(err, UnreachableError) or (isinstance(err, ApiError) and err.code >= 500)


def _try_take(
    cluster: Cluster,
    current: dict[str, Any] | None,
    observed: tuple[str, float],
    **fields: Any,
) -> dict[str, Any] | None:
    """Create or take over the Lease if it is free; None if someone holds it."""
    namespace = fields["namespace"]
    if current is None:
        body = lease_body(previous=None, **fields)
        try:
            result: dict[str, Any] = cluster.create(LEASE, body)
            return result
        except AlreadyExistsError as err:
            raise _RetryNowError from err
        except NotFoundError:
            # The state namespace does not exist yet: make it, then try again.
            with contextlib.suppress(AlreadyExistsError):
                cluster.create(
                    NAMESPACE,
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                )
            raise _RetryNowError from None
        except ClusterError as err:
            if _unknown_outcome(err):
                raise _UnknownOutcomeError from err
            raise
    info = info_of(current, fields["stack"], namespace)
    rv = str((current.get("metadata") or {}).get("resourceVersion") or "")
    # Also expired if this process saw it unchanged for a whole lease: that holds even
    # when the holder's clock runs ahead of ours.
    stale = rv == observed[0] and time.monotonic() - observed[1] > info.duration
    if not (info.expired or stale):
        return None
    if info.lock_id or info.who:
        log.info(
            "%s: taking over an expired lock: %s", lease_name(fields["stack"]), info.describe()
        )
    body = lease_body(previous=current, **fields)
    try:
        taken: dict[str, Any] = cluster.update(LEASE, body)
        return taken
    except (ConflictError, NotFoundError) as err:
        raise _RetryNowError from err
    except ClusterError as err:
        if _unknown_outcome(err):
            raise _UnknownOutcomeError from err
        raise


def force_unlock(
    cluster: Cluster, stack: str, namespace: str = STATE_NAMESPACE, lock_id: str = ""
) -> LockInfo:
    """Remove the stack's Lease if its lock ID is ``lock_id``; return what was removed.

    Refuses (:class:`LockError`) when there is no Lease or the ID does not match the
    one in the Lease: the ID proves the caller looked at who holds it. A Lease without a
    lock ID (not written by kgit) is removed with ``lock_id`` "".
    """
    check_stack_name(stack)
    subject = f"Lease/{namespace}/{lease_name(stack)}"
    try:
        lease = cluster.get(LEASE, namespace, lease_name(stack))
    except ClusterError as err:
        raise LockError(f"{subject}: cannot read: {err}") from err
    if lease is None:
        raise LockError(f"{subject}: stack {stack!r} is not locked")
    info = info_of(lease, stack, namespace)
    if info.lock_id != lock_id:
        raise LockError(
            f"{subject}: lock ID {lock_id!r} does not match the holder's ({info.describe()})"
        )
    meta = lease.get("metadata") or {}
    try:
        cluster.delete(
            LEASE,
            namespace,
            lease_name(stack),
            uid=str(meta.get("uid") or "") or None,
            resource_version=str(meta.get("resourceVersion") or "") or None,
        )
    except ConflictError as err:
        raise LockError(f"{subject}: the lock changed while unlocking; look again") from err
    except ClusterError as err:
        raise LockError(f"{subject}: cannot remove the lock: {err}") from err
    return info
