"""The bench's stack in the cluster: URL paths, the CRD, creating, deleting, counting and
drifting the generated objects, over :class:`bench.kube.Api`."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bench.generate import CRD_PLURAL, crd_group, crd_manifest, drift_patch
from bench.kube import HttpError
from bench.peers import KAPP_NAMESPACE
from kgit.cluster.listing import MAX_NAMESPACED_LISTS
from kgit.manifests.keys import key_of as kgit_key_of

if TYPE_CHECKING:
    from bench.generate import Placed
    from bench.kube import Api
    from kgit.manifests.keys import ObjectKey

STATE_NAMESPACE = "kgit-system"
DRIFT_MANAGER = "bench-drift"
DELETE_TIMEOUT = 900.0
SETTLE_TIMEOUT = 600.0


class BenchError(Exception):
    """A step of the benchmark failed: the run stops, naming the step."""


def collection(kind: str, namespace: str | None, prefix: str) -> str:
    """The URL path of a kind's collection (cluster-wide when ``namespace`` is None)."""
    base, plural, namespaced = {
        "Namespace": ("/api/v1", "namespaces", False),
        "ConfigMap": ("/api/v1", "configmaps", True),
        "Secret": ("/api/v1", "secrets", True),
        "ServiceAccount": ("/api/v1", "serviceaccounts", True),
        "Service": ("/api/v1", "services", True),
        "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
        "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
        "Deployment": ("/apis/apps/v1", "deployments", True),
        "Widget": (f"/apis/{crd_group(prefix)}/v1", CRD_PLURAL, True),
    }[kind]
    if namespaced and namespace:
        return f"{base}/namespaces/{namespace}/{plural}"
    return f"{base}/{plural}"


def object_path(obj: dict[str, Any], prefix: str) -> str:
    """The URL path of one generated object."""
    meta = obj["metadata"]
    return f"{collection(obj['kind'], meta.get('namespace'), prefix)}/{meta['name']}"


def floor_paths(placed: list[Placed], prefix: str) -> list[str]:
    """The LISTs a plan of this stack needs, chosen the way kgit chooses them."""
    kinds = sorted({p.obj["kind"] for p in placed} | {"Namespace"})
    namespaces = sorted({p.obj["metadata"].get("namespace") for p in placed} - {None})
    paths = []
    for kind in kinds:
        if kind == "Namespace" or len(namespaces) > MAX_NAMESPACED_LISTS:
            paths.append(collection(kind, None, prefix))
        else:
            paths += [collection(kind, ns, prefix) for ns in namespaces]
    return paths


def key_of(obj: dict[str, Any]) -> ObjectKey:
    """kgit's key of a generated object."""
    return kgit_key_of(obj, namespaced=obj["kind"] != "Namespace")


def install_crd(api: Api, prefix: str) -> None:
    """Create (or keep) the bench CRD and wait until its kind is served."""
    crd = crd_manifest(prefix)
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}"
    api.request(
        "PATCH",
        path,
        query={"fieldManager": "bench", "force": "true"},
        body=crd,
        content_type="application/apply-patch+yaml",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            api.request("GET", collection("Widget", None, prefix), query={"limit": "1"})
            return
        except HttpError:
            time.sleep(0.2)
    raise BenchError(f"CRD {path}: not served after 60 s")


def create_namespaces(api: Api, placed: list[Placed]) -> None:
    """Create the stack's namespaces, empty and unlabelled (as someone else would)."""
    for item in placed:
        if item.obj["kind"] == "Namespace":
            name = item.obj["metadata"]["name"]
            api.request("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})


def delete_stack(
    api: Api, placed: list[Placed], prefix: str, stack: str, *, wait: bool = True
) -> None:
    """Delete the stack's namespaces (and so their objects), kgit's state and kapp's record
    of the app (its ConfigMaps in ``KAPP_NAMESPACE``, named after the stack).

    With ``wait``, return once the namespaces are gone (the next step reuses their names).
    """
    namespaces = [p.obj for p in placed if p.obj["kind"] == "Namespace"]
    paths = [object_path(ns, prefix) for ns in namespaces]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: remove(api, p), paths))
    secrets = collection("Secret", STATE_NAMESPACE, prefix)
    for secret in api.list_all(secrets, selector=f"kgit.dev/state-stack={stack}"):
        remove(api, f"{secrets}/{secret['metadata']['name']}")
    configmaps = collection("ConfigMap", KAPP_NAMESPACE, prefix)
    for selector in ("kapp.k14s.io/is-app", "kapp.k14s.io/is-app-change"):
        for record in api.list_all(configmaps, selector=selector):
            if record["metadata"]["name"].startswith(stack):
                remove(api, f"{configmaps}/{record['metadata']['name']}")
    if wait:
        api.wait_gone(paths, DELETE_TIMEOUT)


def remove(api: Api, path: str) -> None:
    """DELETE ``path``; one already gone is fine."""
    try:
        api.request("DELETE", path)
    except HttpError as err:
        if err.status != 404:
            raise


def count_live(api: Api, placed: list[Placed], prefix: str) -> int:
    """How many of the generated objects exist in the cluster."""
    wanted = {
        (p.obj["kind"], p.obj["metadata"].get("namespace") or "", p.obj["metadata"]["name"])
        for p in placed
    }
    found = 0
    for kind in sorted({k for k, _, _ in wanted}):
        for item in api.list_all(collection(kind, None, prefix)):
            meta = item["metadata"]
            found += (kind, meta.get("namespace") or "", meta["name"]) in wanted
    return found


def wait_settled(api: Api, placed: list[Placed], prefix: str) -> None:
    """Wait until every Deployment of the stack has its pods (created, at the current
    generation).

    The control plane runs the controllers: an apply starts a rollout whose pods and
    status updates would otherwise share the two cores with the next step's tool.
    Availability is not waited for: kwok marks a pod Ready once, and a fake node's
    heartbeat missed under load turns it unready for good.
    """
    names = {
        (p.obj["metadata"]["namespace"], p.obj["metadata"]["name"])
        for p in placed
        if p.obj["kind"] == "Deployment"
    }
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while names:
        for item in api.list_all(collection("Deployment", None, prefix)):
            meta, spec, status = item["metadata"], item["spec"], item.get("status") or {}
            done = (
                status.get("observedGeneration") == meta.get("generation")
                and status.get("updatedReplicas") == spec["replicas"]
                and status.get("replicas") == spec["replicas"]
            )
            if done:
                names.discard((meta["namespace"], meta["name"]))
        if names and time.monotonic() > deadline:
            raise BenchError(
                f"{len(names)} Deployments not rolled out after {SETTLE_TIMEOUT:.0f} s"
            )
        if names:
            time.sleep(0.5)


def drift(api: Api, items: list[Placed], prefix: str) -> None:
    """Change managed fields of ``items`` in the cluster, as another field manager."""

    def one(item: Placed) -> None:
        api.request(
            "PATCH",
            object_path(item.obj, prefix),
            query={"fieldManager": DRIFT_MANAGER},
            body=drift_patch(item.obj),
            content_type="application/merge-patch+json",
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, items))
