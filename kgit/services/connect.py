"""The cluster a verb talks to, chosen like kubectl."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.cluster.client import connect

if TYPE_CHECKING:
    from kgit.cluster.client import Cluster
    from kgit.services.options import ClusterOptions


def connect_cluster(options: ClusterOptions) -> Cluster:
    """``--kubeconfig``/KUBECONFIG and ``--context``, or in-cluster; close it when done."""
    return connect(options.kubeconfig, options.context)
