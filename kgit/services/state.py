"""The verbs that read or repair a stack's records: history, state list|show|rm, unlock.

Every one finds the stack and its state namespace with :func:`resolve_target`, the same
way ``plan`` and ``apply`` do, so they look at the same Secrets and Lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.config import Config
from kgit.errors import ConfigError, LockError, StateError
from kgit.manifests.keys import ObjectKey
from kgit.manifests.normalize import STACK_LABEL, normalize
from kgit.plan.inputs import RecordedObject
from kgit.services.connect import connect_cluster
from kgit.services.inventory import scan_labelled
from kgit.services.target import Target, resolve_target
from kgit.source.read import read_head_config
from kgit.state.lock import acquire, default_who, force_unlock, read_lock
from kgit.state.store import add_records, list_stacks, load_state, remove_objects

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.services.verbs import (
        ForceUnlockOptions,
        StackTableOptions,
        StateListOptions,
        StateRecoverOptions,
        StateRmOptions,
    )
    from kgit.state.lease import LockInfo
    from kgit.state.model import StackInfo
    from kgit.state.store import StateHandle


@dataclass(frozen=True, slots=True)
class Removed:
    """What ``kgit state rm`` did: how many records, and the state's new serial."""

    target: Target
    count: int
    serial: int


def load_stack_state(options: StackTableOptions, *, must_exist: bool) -> StateHandle:
    """The stack's recorded state (``kgit state show``, ``kgit history``).

    With ``must_exist``, a stack without a state is a :class:`StateError` naming where
    kgit looked.
    """
    target = resolve_target(options.target, options.repo)
    with connect_cluster(options.cluster) as cluster:
        handle = load_state(cluster, target.stack, target.state_namespace)
    if must_exist:
        check_state_exists(handle, target)
    return handle


def check_state_exists(handle: StateHandle, target: Target) -> None:
    """Raise :class:`StateError` naming where kgit looked when the stack has no state."""
    if not handle.exists:
        raise StateError(
            f"stack {target.stack}: no state in namespace {target.state_namespace} "
            "(kgit state list shows the stacks)"
        )


@dataclass(frozen=True, slots=True)
class Recovered:
    """What ``kgit state recover`` did: the objects it recorded, and the new serial.

    ``unlisted`` names the kinds that could not be looked through.
    """

    target: Target
    keys: tuple[ObjectKey, ...]
    serial: int
    unlisted: tuple[str, ...] = ()


def list_states(options: StateListOptions) -> list[StackInfo]:
    """The stacks with a state in the namespace (the flag, else kgit.yaml's)."""
    with connect_cluster(options.cluster) as cluster:
        return list_stacks(cluster, _state_namespace(options))


def list_orphans(options: StateListOptions) -> dict[str, list[ObjectKey]]:
    """Labelled objects of the stacks without a state in the namespace, by stack.

    One label-selector LIST per listable kind, cluster-wide.
    """
    with connect_cluster(options.cluster) as cluster:
        known = {s.stack for s in list_stacks(cluster, _state_namespace(options))}
        found = scan_labelled(cluster, STACK_LABEL)
    return {stack: keys for stack, keys in sorted(found.stacks().items()) if stack not in known}


def _state_namespace(options: StateListOptions) -> str:
    if options.state_namespace is not None:
        return options.state_namespace
    return (read_head_config(options.repo) or Config()).state_namespace


def recover_state(options: StateRecoverOptions) -> Recovered:
    """Record the objects labelled for the stack that its state lacks, from the live objects.

    Under the stack's lock. Each is recorded as the cluster holds it (server fields
    dropped, Secret values and kgit.yaml's sensitive values as digests) with its uid, so
    the next plan prunes those no longer in Git. Creates the state if there is none.
    """
    target = resolve_target(options.target, options.repo)
    config = read_head_config(options.repo) or Config()
    who = default_who()
    with (
        connect_cluster(options.cluster) as cluster,
        acquire(cluster, target.stack, target.state_namespace, 0.0, who, operation="recover"),
    ):
        handle = load_state(cluster, target.stack, target.state_namespace)
        found = scan_labelled(cluster, f"{STACK_LABEL}={target.stack}", metadata_only=False)
        key = handle.state.hmac_key
        records = [
            RecordedObject(
                k,
                normalize(obj, key, config.sensitive),
                uid=str(obj["metadata"].get("uid") or ""),
                applied_at=str(obj["metadata"].get("creationTimestamp") or ""),
            )
            for k, obj in sorted(found.objects.items())
            if k not in handle.state.objects
        ]
        handle = add_records(cluster, handle, records, who=who)
    return Recovered(
        target,
        tuple(r.key for r in records),
        handle.serial,
        tuple(sorted(f"{kind}: {why}" for (_, kind), why in found.unlisted.items())),
    )


def remove_from_state(options: StateRmOptions) -> Removed:
    """Stop tracking the objects named by key, under the stack's lock; they stay live."""
    try:
        keys = [ObjectKey.parse(k) for k in options.keys]
    except ValueError as err:
        raise ConfigError(str(err)) from err
    target = resolve_target(options.target, options.repo)
    who = default_who()
    with (
        connect_cluster(options.cluster) as cluster,
        acquire(cluster, target.stack, target.state_namespace, 0.0, who, operation="state rm"),
    ):
        handle = load_state(cluster, target.stack, target.state_namespace)
        handle = remove_objects(cluster, handle, keys, who=who)
    return Removed(target, len(keys), handle.serial)


def unlock(options: ForceUnlockOptions, confirm: Callable[[LockInfo], bool]) -> Target:
    """Release the stack's lock after ``confirm`` saw its holder (``kgit force-unlock``).

    Any ``kgit-lock-<stack>`` Lease is shown and can be removed, held or not, even one
    that has no lock ID (then none is given). Raises :class:`LockError` when there is no
    Lease, the ID does not match, or the user said no.
    """
    target = resolve_target(options.target, options.repo)
    with connect_cluster(options.cluster) as cluster:
        info = read_lock(cluster, target.stack, target.state_namespace)
        if info is None:
            raise LockError(f"stack {target.stack!r} is not locked")
        if not confirm(info):
            raise LockError("force-unlock cancelled")
        force_unlock(cluster, target.stack, target.state_namespace, options.lock_id)
    return target
