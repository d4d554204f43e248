"""Waiting for the cluster to get somewhere: an object gone, a CRD served.

Both poll with GETs until a deadline, and raise :class:`ClusterError` saying what was
still missing when it passed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kgit.cluster.client import CRD
from kgit.errors import ClusterError

if TYPE_CHECKING:
    from kgit.cluster.client import Cluster
    from kgit.cluster.discovery import Resource

_POLL_INTERVAL = 0.25


def wait_gone(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None,
    name: str,
    timeout: float,
    *,
    uid: str | None = None,
) -> None:
    """Wait until the object is gone (or, given ``uid``, replaced by another).

    Raises :class:`ClusterError` on timeout, naming the finalizers still holding it.
    """
    deadline = time.monotonic() + timeout
    interval = 0.1
    while True:
        obj = cluster.get(resource, namespace, name)
        if obj is None or (uid and (obj.get("metadata") or {}).get("uid") != uid):
            return
        if time.monotonic() >= deadline:
            finalizers = (obj.get("metadata") or {}).get("finalizers") or []
            held = f" (finalizers: {', '.join(finalizers)})" if finalizers else ""
            raise ClusterError(
                f"{resource.subject(namespace, name)}: still present after {timeout:g}s{held}"
            )
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(1.0, interval * 1.5)


def wait_established(cluster: Cluster, crd_name: str, timeout: float) -> Resource:
    """Wait until a CRD is Established and its kind is in discovery; return its resource.

    Refreshes the Cluster's discovery. Raises :class:`ClusterError` when its names are
    not accepted (a conflict with another CRD) or on timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        obj = cluster.get(CRD, None, crd_name)
        state = "not found"
        if obj is not None:
            conditions = {
                str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []
            }
            names = conditions.get("NamesAccepted") or {}
            if names.get("status") == "False":
                raise ClusterError(
                    f"CustomResourceDefinition/{crd_name}: names not accepted: "
                    f"{names.get('message') or names.get('reason')}"
                )
            established = conditions.get("Established") or {}
            state = "not established"
            if established.get("status") == "True":
                spec = obj.get("spec") or {}
                group, kind = str(spec.get("group")), str((spec.get("names") or {}).get("kind"))
                discovery = cluster.resources()
                discovery.refresh()
                found = discovery.lookup(group, kind)
                if found is not None:
                    return found
                state = "established, not yet in discovery"
        if time.monotonic() >= deadline:
            raise ClusterError(f"CustomResourceDefinition/{crd_name}: {state} after {timeout:g}s")
        time.sleep(_POLL_INTERVAL)
