"""``kgit status``: each object of a stack, its health and drift, and the last rounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.cluster.health import observe_health
from kgit.health import Status
from kgit.manifests.normalize import SOURCE_ANNOTATION, normalize_live, strip_server_fields
from kgit.plan.diff import drifted_paths
from kgit.services.connect import connect_cluster
from kgit.services.state import check_state_exists
from kgit.services.target import resolve_target
from kgit.source.read import read_head_config
from kgit.state.store import load_state
from kgit.watch.status import read_status

if TYPE_CHECKING:
    from kgit.health.wait import ObjectHealth
    from kgit.manifests.keys import ObjectKey
    from kgit.services.verbs import StackTableOptions
    from kgit.state.model import HistoryEntry
    from kgit.watch.status import WatchStatus


@dataclass(frozen=True, slots=True)
class ObjectStatus:
    """One recorded object now: its health, whether it drifted, when kgit applied it.

    ``drifted`` lists the fields kgit last applied that the cluster no longer holds as
    applied (empty when the object is gone: its health says NotFound). ``source`` is the
    live object's ``kgit.dev/source`` (``path@commit``).
    """

    key: ObjectKey
    health: ObjectHealth
    exists: bool
    drifted: tuple[str, ...]
    applied_at: str
    source: str
    pending: bool

    @property
    def commit(self) -> str:
        """The commit the live object was applied from ("" when unknown)."""
        return self.source.rpartition("@")[2] if "@" in self.source else ""

    @property
    def has_drifted(self) -> bool:
        """Changed or deleted in the cluster since kgit applied it."""
        return bool(self.drifted) or not self.exists


@dataclass(frozen=True, slots=True)
class StackStatus:
    """A stack now: its objects, its last apply (history) and its watcher's last round."""

    stack: str
    serial: int
    commit: str
    objects: tuple[ObjectStatus, ...]
    last_apply: HistoryEntry | None
    watch: WatchStatus | None

    @property
    def healthy(self) -> bool:
        """Every object is Current (``kgit status`` exits 0)."""
        return all(o.health.status is Status.CURRENT for o in self.objects)


def load_stack_status(options: StackTableOptions) -> StackStatus:
    """Read the stack's state, its watch status and each recorded object's live form.

    Drift is a local comparison of what kgit recorded with the live object (Secret values
    and kgit.yaml's sensitive fields as digests); health is :func:`compute_health`'s with
    the evidence of pods and events. Raises :class:`StateError` for a stack without a
    state.
    """
    target = resolve_target(options.target, options.repo)
    config = read_head_config(options.repo)
    sensitive = config.sensitive if config else ()
    with connect_cluster(options.cluster) as cluster:
        handle = load_state(cluster, target.stack, target.state_namespace)
        check_state_exists(handle, target)
        watch = read_status(cluster, target.state_namespace, target.stack)
        state = handle.state
        keys = sorted(state.objects)
        observed = observe_health(cluster, keys)
    objects = []
    for key, (health, live) in zip(keys, observed, strict=True):
        record = state.objects[key]
        drifted: tuple[str, ...] = ()
        source = ""
        if live is not None:
            compared = strip_server_fields(normalize_live(live, state.hmac_key, sensitive))
            drifted = drifted_paths(record.obj, compared)
            source = str(
                ((live.get("metadata") or {}).get("annotations") or {}).get(SOURCE_ANNOTATION) or ""
            )
        objects.append(
            ObjectStatus(
                key, health, live is not None, drifted, record.applied_at, source, record.pending
            )
        )
    return StackStatus(
        stack=target.stack,
        serial=handle.serial,
        commit=state.commit,
        objects=tuple(objects),
        last_apply=state.history[-1] if state.history else None,
        watch=watch,
    )
