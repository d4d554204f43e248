"""The recorded state store (Secrets in the cluster) and the stack lock (a Lease)."""

from __future__ import annotations

from kgit.state.lease import LockInfo
from kgit.state.lock import Lock, acquire, default_who, describe_lock, force_unlock
from kgit.state.model import (
    HistoryEntry,
    StackInfo,
    State,
    new_state,
)
from kgit.state.store import (
    STATE_NAMESPACE,
    StateHandle,
    list_stacks,
    load_state,
    remove_objects,
    save_state,
)

__all__ = [
    "STATE_NAMESPACE",
    "HistoryEntry",
    "Lock",
    "LockInfo",
    "StackInfo",
    "State",
    "StateHandle",
    "acquire",
    "default_who",
    "describe_lock",
    "force_unlock",
    "list_stacks",
    "load_state",
    "new_state",
    "remove_objects",
    "save_state",
]
