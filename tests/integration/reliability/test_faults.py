"""API faults between kgit and the real API server, injected by the fault proxy.

kgit retries reads and idempotent server-side applies with bounded backoff and honours
Retry-After; under a tenth of requests failing a plan still completes (or fails with one
clear message), an apply never records an object it did not apply, and the next run
without faults converges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from faultproxy import Fault, FaultProxy
from kgitlib import GitRepo, cluster_for, run_kgit
from rellib import assert_clean, stack_manifests, state_against_cluster

from kgit.cluster import NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import ModuleType

pytestmark = pytest.mark.integration

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# About one request in ten fails, in every way the proxy can: refused before the
# server sees it, or after it acted with the answer lost.
TEN_PERCENT = (
    Fault("status", share=0.02, status=503),
    Fault("status", share=0.02, status=500),
    Fault("status", share=0.03, status=429, retry_after=0.3),
    Fault("drop", share=0.015),
    Fault("status", share=0.01, status=500, after=True, methods=WRITES),
    Fault("drop", share=0.01, after=True, methods=WRITES),
    Fault("delay", share=0.05, delay=0.2),
)
# The writes an apply's bookkeeping rests on: its journal (the state Secret) and its
# lock (the Lease), failing often and after the server acted.
BOOKKEEPING = (
    Fault("status", share=0.3, status=500, after=True, path=r"/secrets/kgit-state\.",
          methods=frozenset({"POST", "PUT"})),
    Fault("drop", share=0.3, after=True, path=r"/leases", methods=WRITES),
)  # fmt: skip


def _changes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    # The Deployment controller and kwok update the Deployment's status while its pods
    # come up, so its resourceVersion moves between two plans without any fault.
    return [{k: v for k, v in c.items() if k != "live_resource_version"} for c in plan["changes"]]


@pytest.fixture
def proxy(kubeconfig: str, controlplane: ModuleType, tmp_path: Path) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's API server, faithful until told otherwise."""
    with FaultProxy(kubeconfig, tmp_path / "proxy", make_certs=controlplane.make_certs) as started:
        yield started


def test_plan_and_apply_under_ten_percent_faults(
    kubeconfig: str, proxy: FaultProxy, unique: str, tmp_path: Path
) -> None:
    ns, stack, state_ns = f"{unique}-f", unique, f"{unique}-state"
    repo = GitRepo(tmp_path / "repo")
    repo.write("stack.yaml", stack_manifests(ns, 40))
    repo.commit("v1")
    args = ("-C", str(repo.root), "--stack", stack, "--state-namespace", state_ns)
    faulty = str(proxy.kubeconfig)
    try:
        first = run_kgit("apply", "--auto-approve", *args, kubeconfig=faulty)
        assert first.code == 0, first.output

        # Git moves: every ConfigMap and the Deployment change, five ConfigMaps go.
        repo.write("stack.yaml", stack_manifests(ns, 35, version="2"))
        repo.commit("v2")
        expected = run_kgit("plan", "-f", "json", *args, kubeconfig=faulty)
        assert expected.code == 0, expected.output

        proxy.set_faults(*TEN_PERCENT)
        plans = [run_kgit("plan", "-f", "json", *args, kubeconfig=faulty) for _ in range(4)]
        for run in plans:
            assert_clean(run)
            if run.code == 0:
                assert _changes(run.json()) == _changes(expected.json())
        assert sum(run.code == 0 for run in plans) >= 3, [run.stderr for run in plans]
        assert sum(proxy.injected.values()) > 15, proxy.injected

        # Applies under the same faults and more on the journal and the lock: each ends
        # cleanly, and whatever it did, the state and the cluster agree after it.
        proxy.set_faults(*BOOKKEEPING, *TEN_PERCENT)
        with cluster_for(kubeconfig) as cluster:
            for _ in range(4):
                run = run_kgit(
                    "apply", "--auto-approve", "--lock-timeout", "90", *args, kubeconfig=faulty
                )
                assert_clean(run)
                assert state_against_cluster(cluster, stack, state_ns) == []
                if run.code == 0:
                    break
            assert run.code == 0, run.output
            assert {"503", "500", "429", "drop", "500 after", "drop after"} <= set(proxy.injected)

            # Without faults, the next run has nothing left to do.
            proxy.set_faults()
            again = run_kgit("apply", "--auto-approve", *args, kubeconfig=faulty)
            assert again.code == 0, again.output
            converged = run_kgit("plan", "--detailed-exitcode", *args, kubeconfig=faulty)
            assert converged.code == 0, converged.output
            assert state_against_cluster(cluster, stack, state_ns) == []
    finally:
        with cluster_for(kubeconfig) as cluster:
            for name in (ns, state_ns):
                cluster.delete(NAMESPACE, None, name, uid=None)


def test_retry_after_is_honoured_and_a_failing_object_is_named(
    kubeconfig: str, proxy: FaultProxy, unique: str, tmp_path: Path
) -> None:
    ns, stack, state_ns = f"{unique}-r", unique, f"{unique}-state"
    repo = GitRepo(tmp_path / "repo")
    repo.write("stack.yaml", stack_manifests(ns, 8))
    repo.commit("v1")
    args = ("-C", str(repo.root), "--stack", stack, "--state-namespace", state_ns)
    faulty = str(proxy.kubeconfig)
    try:
        # The first LIST of ConfigMaps answers 429 with Retry-After: 1.5.
        proxy.set_faults(
            Fault("status", status=429, retry_after=1.5, methods=frozenset({"GET"}),
                  path=rf"/namespaces/{ns}/configmaps\?", limit=1),
            # Applying one ConfigMap (not its dry-run) keeps failing.
            Fault("status", status=500, methods=frozenset({"PATCH"}),
                  path=rf"/namespaces/{ns}/configmaps/cm-003\?(?!.*dryRun)"),
        )  # fmt: skip
        run = run_kgit("apply", "--auto-approve", *args, kubeconfig=faulty)
        assert run.code == 1, run.output
        assert "Traceback" not in run.output
        failed = [line for line in run.stdout.splitlines() if ": failed" in line]
        assert len(failed) == 1, run.stdout
        assert failed[0].startswith(f"ConfigMap/{ns}/cm-003: failed: "), failed
        assert "InternalError" in failed[0] or "(500)" in failed[0], failed
        assert "Apply failed: 1 object failed" in run.stdout

        listed = [
            t for t, m, p, _ in proxy.log if m == "GET" and f"/namespaces/{ns}/configmaps?" in p
        ]
        assert len(listed) >= 2 and listed[1] - listed[0] >= 1.4, listed
        patched = [
            what
            for _, m, p, what in proxy.log
            if m == "PATCH" and "cm-003?" in p and "dryRun" not in p
        ]
        assert len(patched) > 1, "an idempotent apply is retried"

        with cluster_for(kubeconfig) as cluster:
            assert state_against_cluster(cluster, stack, state_ns) == []
            state = run_kgit("state", "show", "--stack", stack, "--state-namespace", state_ns,
                             "-f", "json", kubeconfig=kubeconfig)  # fmt: skip
            # The failed object stays pending (maybe touched, never trusted), not applied.
            pending = {o["key"]: o["pending"] for o in state.json()["objects"]}
            assert pending[f"/ConfigMap/{ns}/cm-003"] is True
            assert pending[f"/ConfigMap/{ns}/cm-002"] is False

            proxy.set_faults()
            again = run_kgit("apply", "--auto-approve", *args, kubeconfig=faulty)
            assert again.code == 0, again.output
            assert "Resources: 1 added, 0 changed, 0 deleted." in again.stdout
    finally:
        with cluster_for(kubeconfig) as cluster:
            for name in (ns, state_ns):
                cluster.delete(NAMESPACE, None, name, uid=None)
