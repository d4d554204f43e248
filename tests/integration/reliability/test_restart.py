"""The API server crashes in the middle of an apply, and comes back on the same port.

A control plane of this test's own: its kube-apiserver is SIGKILLed while a subprocess
applies a few hundred objects, then started again with the same flags. The apply
finishes or fails cleanly, the state agrees with the cluster, the next apply converges.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import GitRepo, Run, cluster_for, run_kgit
from rellib import assert_clean, kgit_env, stack_manifests, state_against_cluster

from kgit.cluster import CONFIGMAP
from kgit.state.lock import describe_lock

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import ModuleType

pytestmark = pytest.mark.integration

OBJECTS = 300
# Longer than kgit's retries last (about six seconds), so the apply sees the outage.
DOWN = 8.0


@pytest.fixture
def plane(controlplane: ModuleType, tmp_path: Path) -> Iterator[Any]:
    """A control plane of this test's own (the session's must not be crashed)."""
    started = controlplane.ControlPlane(tmp_path / "controlplane")
    try:
        started.start(tied_to_caller=True)
        yield started
    finally:
        started.stop()


def test_apiserver_killed_mid_apply(plane: Any, unique: str, tmp_path: Path) -> None:
    kubeconfig = str(plane.kubeconfig)
    ns, stack = f"{unique}-r", unique
    repo = GitRepo(tmp_path / "repo")
    repo.write("stack.yaml", stack_manifests(ns, OBJECTS))
    repo.commit("a few hundred objects")
    args = ("-C", str(repo.root), "--stack", stack)
    assert run_kgit("plan", *args, kubeconfig=kubeconfig).code == 0  # the state exists

    # Output to files: the plan it prints would fill a pipe nobody reads yet.
    out, err = tmp_path / "apply.out", tmp_path / "apply.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        apply = subprocess.Popen(
            [sys.executable, "-m", "kgit", "apply", "--auto-approve", *args],
            env=kgit_env(kubeconfig),
            stdout=stdout,
            stderr=stderr,
        )
    selector = f"kgit.dev/stack={stack}"
    with cluster_for(kubeconfig) as cluster:
        deadline = time.monotonic() + 120
        while not (applied := len(cluster.list_kind(CONFIGMAP, ns, label_selector=selector))):
            assert time.monotonic() < deadline and apply.poll() is None, "no progress to cut"
            time.sleep(0.05)
    plane.restart_apiserver(down=DOWN)
    crashed = Run(apply.wait(timeout=300), out.read_text(), err.read_text())
    assert applied < OBJECTS, "the server went down after the apply"
    assert_clean(crashed)

    with cluster_for(kubeconfig) as cluster:
        assert state_against_cluster(cluster, stack, "kgit-system") == []
        # An apply that ended while the server was down could not release its lock:
        # the Lease outlives it by up to a lease, unless someone who knows frees it.
        held = describe_lock(cluster, stack)
        if held is not None:
            unlocked = run_kgit(
                "force-unlock", held.lock_id, "--force", "--stack", stack, kubeconfig=kubeconfig
            )
            assert unlocked.code == 0, unlocked.output
        again = run_kgit("apply", "--auto-approve", *args, kubeconfig=kubeconfig)
        assert again.code == 0, again.output
        assert state_against_cluster(cluster, stack, "kgit-system") == []
        converged = run_kgit("plan", "--detailed-exitcode", *args, kubeconfig=kubeconfig)
        assert converged.code == 0, converged.output
        assert len(cluster.list_kind(CONFIGMAP, ns, label_selector=selector)) == OBJECTS
