"""Plans that could not apply, or must not, are refused at plan naming file and line:
kgit's own records in Git, a namespace nobody makes, an unserved apiVersion (issue 11,
findings 5 and 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from kgitlib import configmap, namespace

from kgit.cluster import LEASE
from kgit.state.store import STATE_NAMESPACE

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def hpa(ns: str, api_version: str) -> dict[str, object]:
    """A HorizontalPodAutoscaler of ``api_version`` scaling Deployment/ns/web."""
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 3,
        },
    }


def test_plans_that_cannot_apply_are_refused(stack: Stack, cluster: Cluster, unique: str) -> None:
    ns, ghost = unique, f"{unique}-ghost"
    # The HPA's namespace is created by the same plan: no dry-run could catch it.
    stack.write("web.yaml", namespace(ns), hpa(ns, "autoscaling/v2beta1"))
    stack.write("orphan.yaml", configmap(ghost, "orphan", level="1"))
    stack.repo.commit()
    done = stack.kgit("plan", "--format", "json")
    assert done.code == 1, done.output
    assert (
        "web.yaml:6: autoscaling/v2beta1 HorizontalPodAutoscaler is not served by this "
        "cluster (it serves autoscaling/v1, autoscaling/v2)"
    ) in done.stderr
    assert (
        f"orphan.yaml:1: ConfigMap/{ghost}/orphan: namespace {ghost} does not exist and this "
        "plan does not create it"
    ) in done.stderr

    stack.write("web.yaml", namespace(ns), hpa(ns, "autoscaling/v2"))
    stack.repo.remove("orphan.yaml")
    stack.repo.commit("served version, no ghost")
    done = stack.apply()
    assert f"HorizontalPodAutoscaler/{ns}/web: created" in done.stdout


def test_kgits_own_records_cannot_be_written_from_git(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    victim = f"{unique}-victim"
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": f"kgit-lock-{victim}", "namespace": STATE_NAMESPACE},
        "spec": {"holderIdentity": "git", "leaseDurationSeconds": 3600},
    }
    state = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"kgit-state.{victim}", "namespace": STATE_NAMESPACE},
        "stringData": {"index.json": "{}"},
    }
    stack.write("records.yaml", lease, state)
    stack.write("status.yaml", configmap(STATE_NAMESPACE, f"kgit-status.{victim}", a="1"))
    stack.repo.commit()
    done = stack.kgit("plan")
    assert done.code == 1, done.output
    for where, subject in (
        ("records.yaml:1", f"Lease/{STATE_NAMESPACE}/kgit-lock-{victim}"),
        ("records.yaml:10", f"Secret/{STATE_NAMESPACE}/kgit-state.{victim}"),
        ("status.yaml:1", f"ConfigMap/{STATE_NAMESPACE}/kgit-status.{victim}"),
    ):
        assert (
            f"{where}: {subject}: the name is reserved for kgit's own records in its state "
            f"namespace {STATE_NAMESPACE}"
        ) in done.stderr
    assert cluster.get(LEASE, STATE_NAMESPACE, f"kgit-lock-{victim}") is None


def test_force_unlock_clears_a_lease_without_a_lock_id(stack: Stack, cluster: Cluster) -> None:
    # A Lease kgit did not write (applied by hand, or by an older tool): no lock ID.
    cluster.create(
        LEASE,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": f"kgit-lock-{stack.name}", "namespace": STATE_NAMESPACE},
            "spec": {"holderIdentity": "someone", "leaseDurationSeconds": 3600},
        },
    )
    stack.write("cm.yaml", namespace(stack.name), configmap(stack.name, "cm", a="1"))
    stack.repo.commit()
    refused = stack.kgit("apply", "--auto-approve")
    assert refused.code == 1, refused.output
    assert f"if that run is dead: kgit force-unlock --stack {stack.name}" in refused.stderr

    done = stack.kgit("force-unlock", "--force")
    assert done.code == 0, done.output
    assert "held by someone since (unknown), lock ID (none)" in done.stdout
    assert f"successfully unlocked (stack {stack.name})" in done.stdout
    assert cluster.get(LEASE, STATE_NAMESPACE, f"kgit-lock-{stack.name}") is None
    stack.apply()
