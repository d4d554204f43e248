"""The watcher's side of ``kgit sync``, before it knows its stack (no cluster is read)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, cast

import pytest

from kgit.watch.sync import SyncListener

if TYPE_CHECKING:
    from kgit.cluster import Cluster

pytestmark = pytest.mark.unit


def no_cluster() -> Cluster:
    raise AssertionError("a listener without a stack must not connect")


def test_a_wait_without_a_request_lasts_its_delay() -> None:
    listener = SyncListener(no_cluster, threading.Event(), poll_interval=0.01)
    assert listener.wait(0.03, "", "") == ("interval", "")
    listener.close()


def test_a_stop_ends_the_wait() -> None:
    stop = threading.Event()
    stop.set()
    listener = SyncListener(no_cluster, stop, poll_interval=0.01)
    assert listener.wait(60.0, "web", "") == ("stopped", "")


def test_the_request_that_woke_the_watcher_is_the_one_answered() -> None:
    listener = SyncListener(no_cluster, threading.Event(), poll_interval=0.01)
    cluster = cast("Cluster", object())  # never read: the request is given, the stack unknown
    assert listener.answer(cluster, "", "kgit-system", "2024-01-01T00:00:00Z") == (
        "2024-01-01T00:00:00Z"
    )
    assert listener.answer(cluster, "", "kgit-system", "") == ""
