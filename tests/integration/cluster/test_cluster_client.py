"""kgit.cluster against the real API server: discovery, LIST, server-side apply, delete."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import time
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from applylib import crd
from kgitlib import configmap

from kgit.cluster import (
    CONFIGMAP,
    CRD,
    NAMESPACE,
    SECRET,
    ApplyConflictError,
    ImmutableFieldError,
    InvalidError,
    KubeconfigError,
    NotFoundError,
    Resource,
    UnknownKindError,
    UnreachableError,
    connect,
    list_objects,
    wait_established,
    wait_gone,
)
from kgit.errors import ClusterError

if TYPE_CHECKING:
    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def deployment(namespace: str, name: str, app: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


# --- connect -------------------------------------------------------------------------


def test_connect_reads_server_version_and_context_namespace(kubeconfig: str) -> None:
    with connect(kubeconfig) as cluster:
        assert cluster.server_version.startswith("v1.")
        assert cluster.host.startswith("https://127.0.0.1:")
        assert cluster.namespace == "default"


def test_connect_refuses_missing_kubeconfig_and_unknown_context(
    kubeconfig: str, tmp_path: Path
) -> None:
    with pytest.raises(KubeconfigError, match="kubeconfig file not found"):
        connect(str(tmp_path / "missing"))
    with pytest.raises(KubeconfigError, match="nope"):
        connect(kubeconfig, context="nope")


def test_connect_to_a_dead_server_fails_fast_and_clearly(kubeconfig: str, tmp_path: Path) -> None:
    doc = yaml.safe_load(Path(kubeconfig).read_text())
    for entry in doc["clusters"]:
        entry["cluster"]["server"] = "https://127.0.0.1:1"
    dead = tmp_path / "dead"
    dead.write_text(yaml.safe_dump(doc))
    started = time.monotonic()
    with pytest.raises(
        UnreachableError, match=r"cannot reach the API server at https://127\.0\.0\.1:1"
    ):
        connect(str(dead))
    assert time.monotonic() - started < 5


def test_kubeconfig_env_merges_paths_and_skips_missing_ones(
    kubeconfig: str, tmp_path: Path
) -> None:
    # $KUBECONFIG is read by connect() itself: run it where the variable is set for real.
    code = "from kgit.cluster import connect; print(connect().server_version)"
    env = dict(os.environ, KUBECONFIG=f"{tmp_path / 'missing'}{os.pathsep}{kubeconfig}")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().startswith("v1.")


# --- discovery -----------------------------------------------------------------------


def test_discovery_finds_builtin_kinds_at_preferred_versions(cluster: Cluster) -> None:
    discovery = cluster.resources()
    deploy = discovery.lookup("apps", "Deployment")
    assert deploy == Resource(
        "apps", "v1", "Deployment", "deployments", True, deploy.verbs if deploy else frozenset()
    )
    assert deploy is not None and {"list", "patch", "delete"} <= deploy.verbs
    assert discovery.scope("", "Namespace") is False
    assert discovery.scope("", "ConfigMap") is True
    assert discovery.scope("nope.example.com", "Thing") is None
    assert discovery.lookup("", "Binding") is not None
    assert not discovery.failed_groups
    assert cluster.resources() is discovery


def test_first_discovery_from_busy_pool_threads_does_not_deadlock(
    kubeconfig: str, namespace: str
) -> None:
    # The planner dry-runs on the pool; the first of them reads discovery from there.
    with connect(kubeconfig, workers=2) as fresh:
        futures = [
            fresh.submit(fresh.server_side_apply, configmap(namespace, f"c{i}"), dry_run=True)
            for i in range(6)
        ]
        assert all(f.result(timeout=20)["kind"] == "ConfigMap" for f in futures)


def test_per_group_discovery_agrees_with_aggregated(cluster: Cluster) -> None:
    aggregated = cluster.fetch_discovery()
    legacy = cluster.fetch_discovery(aggregated=False)
    assert not legacy.failed_groups
    assert dict(legacy.resources) == dict(aggregated.resources)


def test_new_crd_is_found_after_established(cluster: Cluster, unique: str) -> None:
    group = f"{unique}.kgit.test"
    discovery = cluster.resources()
    assert discovery.lookup(group, "Widget") is None
    with pytest.raises(UnknownKindError, match=r"Widget/default/w1: the server has no kind"):
        cluster.server_side_apply(
            {
                "apiVersion": f"{group}/v1",
                "kind": "Widget",
                "metadata": {"name": "w1", "namespace": "default"},
            },
            dry_run=True,
        )
    applied = cluster.server_side_apply(crd(group))
    try:
        resource = wait_established(cluster, f"widgets.{group}", timeout=30)
        assert resource == discovery.lookup(group, "Widget")
        assert (resource.version, resource.plural, resource.namespaced) == ("v1", "widgets", True)
    finally:
        cluster.delete(CRD, None, f"widgets.{group}", uid=applied["metadata"]["uid"])


# --- LIST ----------------------------------------------------------------------------


def test_list_objects_across_kinds_and_namespaces(cluster: Cluster, unique: str) -> None:
    namespaces = [f"{unique}-a", f"{unique}-b", f"{unique}-other"]
    for ns in namespaces:
        cluster.server_side_apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        )
    try:
        for ns, count in zip(namespaces, (3, 2, 4), strict=True):
            for i in range(count):
                cluster.server_side_apply(configmap(ns, f"cm{i}", i=str(i)))
        cluster.server_side_apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s", "namespace": namespaces[0]},
            }
        )
        discovery = cluster.resources()
        nodes_review = discovery.lookup("authentication.k8s.io", "TokenReview")
        assert nodes_review is not None
        kinds = [CONFIGMAP, SECRET, NAMESPACE, nodes_review]
        wanted = namespaces[:2]

        def names(result_objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
            return {
                (o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in result_objects
            }

        # Few namespaces: one LIST per namespace. Many: one cluster-wide LIST, filtered.
        many = wanted + [f"{unique}-absent{i}" for i in range(20)]
        for asked in (wanted, many):
            result = list_objects(cluster, kinds, asked)
            assert set(result.failed) == {("authentication.k8s.io", "TokenReview")}
            configmaps = result.objects[("", "ConfigMap")]
            assert {n for n in names(configmaps) if n[1].startswith("cm")} == {
                (namespaces[0], "cm0"),
                (namespaces[0], "cm1"),
                (namespaces[0], "cm2"),
                (namespaces[1], "cm0"),
                (namespaces[1], "cm1"),
            }
            assert all(o["apiVersion"] == "v1" and o["kind"] == "ConfigMap" for o in configmaps)
            assert (namespaces[0], "s") in names(result.objects[("", "Secret")])
            # Cluster-scoped kinds are listed whole, whatever namespaces are asked for.
            assert {("", ns) for ns in namespaces} <= names(result.objects[("", "Namespace")])

        everywhere = list_objects(cluster, [CONFIGMAP], None)
        assert (namespaces[2], "cm3") in names(everywhere.objects[("", "ConfigMap")])
        # Page by page, two objects a page, still one consistent list.
        paged = cluster.list_kind(CONFIGMAP, namespaces[2], page_size=2)
        assert {o["metadata"]["name"] for o in paged} >= {"cm0", "cm1", "cm2", "cm3"}
    finally:
        for ns in namespaces:
            cluster.delete(NAMESPACE, None, ns, uid=None)


def test_get_returns_none_for_missing(cluster: Cluster, namespace: str) -> None:
    assert cluster.get(CONFIGMAP, namespace, "absent") is None
    cluster.server_side_apply(configmap(namespace, "present", a="1"))
    got = cluster.get(CONFIGMAP, namespace, "present")
    assert got is not None and got["data"] == {"a": "1"} and got["kind"] == "ConfigMap"


# --- server-side apply ---------------------------------------------------------------


def test_apply_dry_run_creates_nothing_and_apply_records_kgit_manager(
    cluster: Cluster, namespace: str
) -> None:
    deployments = cluster.resources().lookup("apps", "Deployment")
    assert deployments is not None
    want = deployment(namespace, "web", "web")
    dry = cluster.server_side_apply(want, dry_run=True)
    assert dry["spec"]["replicas"] == 1  # defaulted by the server
    assert cluster.get(deployments, namespace, "web") is None
    live = cluster.server_side_apply(want)
    managers = {(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]}
    assert ("kgit", "Apply") in managers
    assert live["apiVersion"] == "apps/v1" and live["kind"] == "Deployment"
    # The planner's manifests may be read-only mappings: applied all the same, a no-op.
    again = cluster.server_side_apply(
        MappingProxyType({**want, "spec": MappingProxyType(want["spec"])})
    )
    # A no-op: the spec is not written again (the Deployment controller may still move the
    # resourceVersion by writing the status meanwhile).
    assert again["metadata"]["generation"] == live["metadata"]["generation"]
    assert again["spec"] == live["spec"]


def test_changing_a_deployment_selector_is_an_immutable_field_error(
    cluster: Cluster, namespace: str
) -> None:
    cluster.server_side_apply(deployment(namespace, "web", "web"))
    changed = deployment(namespace, "web", "web2")
    for dry_run in (True, False):
        with pytest.raises(ImmutableFieldError) as caught:
            cluster.server_side_apply(changed, dry_run=dry_run)
        assert "spec.selector" in caught.value.fields
        assert str(caught.value).startswith(f"Deployment/{namespace}/web: ")
        assert "is immutable" in str(caught.value)


def test_apply_conflict_names_the_other_manager(cluster: Cluster, namespace: str) -> None:
    want = deployment(namespace, "web", "web")
    cluster.server_side_apply(want)
    scaled = copy.deepcopy(want)
    scaled["spec"]["replicas"] = 3
    cluster.server_side_apply(scaled, field_manager="hpa-like")
    scaled["spec"]["replicas"] = 5
    with pytest.raises(ApplyConflictError) as caught:
        cluster.server_side_apply(scaled, force=False)
    assert caught.value.managers == ("hpa-like",)
    assert ".spec.replicas" in caught.value.fields
    # force=True (kgit's default) takes the field over.
    assert cluster.server_side_apply(scaled)["spec"]["replicas"] == 5


def test_apply_into_a_missing_namespace_is_not_found(cluster: Cluster, unique: str) -> None:
    with pytest.raises(
        NotFoundError, match=rf"^ConfigMap/{unique}-nope/x: namespaces \"{unique}-nope\" not found"
    ):
        cluster.server_side_apply(configmap(f"{unique}-nope", "x"))


def test_unknown_field_is_invalid_and_not_retried(cluster: Cluster, namespace: str) -> None:
    bad = deployment(namespace, "web", "web")
    bad["spec"]["replica"] = 2
    started = time.monotonic()
    with pytest.raises(InvalidError, match=r"\.spec\.replica: field not declared in schema"):
        cluster.server_side_apply(bad, dry_run=True)
    assert time.monotonic() - started < 1.0


# --- delete --------------------------------------------------------------------------


def test_delete_never_removes_a_same_named_replacement(cluster: Cluster, namespace: str) -> None:
    old_uid = cluster.server_side_apply(configmap(namespace, "cm", v="1"))["metadata"]["uid"]
    assert cluster.delete(CONFIGMAP, namespace, "cm", uid=old_uid) is True
    wait_gone(cluster, CONFIGMAP, namespace, "cm", timeout=10)
    new_uid = cluster.server_side_apply(configmap(namespace, "cm", v="2"))["metadata"]["uid"]
    assert new_uid != old_uid
    assert cluster.delete(CONFIGMAP, namespace, "cm", uid=old_uid) is False
    still = cluster.get(CONFIGMAP, namespace, "cm")
    assert still is not None and still["metadata"]["uid"] == new_uid
    assert cluster.delete(CONFIGMAP, namespace, "cm", uid=new_uid) is True
    assert cluster.delete(CONFIGMAP, namespace, "cm", uid=new_uid) is False


def test_wait_gone_names_the_finalizers_that_hold_an_object(
    cluster: Cluster, namespace: str
) -> None:
    held = configmap(namespace, "held")
    held["metadata"]["finalizers"] = ["kgit.test/hold"]
    uid = cluster.server_side_apply(held)["metadata"]["uid"]
    assert cluster.delete(CONFIGMAP, namespace, "held", uid=uid) is True
    with pytest.raises(
        ClusterError,
        match=r"ConfigMap/.*/held: still present after 0.3s \(finalizers: kgit.test/hold\)",
    ):
        wait_gone(cluster, CONFIGMAP, namespace, "held", timeout=0.3)
    del held["metadata"]["finalizers"]
    cluster.server_side_apply(held)  # kgit owned the finalizer; applying without it drops it
    wait_gone(cluster, CONFIGMAP, namespace, "held", timeout=10)
