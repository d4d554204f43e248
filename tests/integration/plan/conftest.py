"""Fixtures of the plan tests: what a test creates in the cluster is removed after it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from kgitlib import cluster_for
from planlib import Leftovers

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def leftovers(kubeconfig: str) -> Iterator[Leftovers]:
    made = Leftovers()
    yield made
    with cluster_for(kubeconfig) as cluster:
        for resource, namespace, name in reversed(made.objects):
            cluster.delete(resource, namespace, name, uid=None)
