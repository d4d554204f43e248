"""Synthetic stacks: a realistic mix of N objects written as a Git repository.

Objects come in namespaces of up to ``APPS_PER_NAMESPACE`` apps. An app is what a team
commits for one service: a ConfigMap, a Secret, a ServiceAccount with a Role and its
RoleBinding, a Deployment, a headless Service (a ClusterIP would exhaust the test
cluster's /24 service range long before 10,000 objects) and a custom resource of the
bench's CRD. Each namespace has its own directory, ``00-namespace.yaml`` first so that
``kubectl apply -R`` creates it before its contents, then one multi-document file per
app. The list is cut at exactly N objects.

The CRD itself is installed by the harness before any tool runs, so both tools plan and
apply the same files against the same served kinds (``kubectl diff`` cannot plan custom
resources whose CRD it would create in the same run).
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

APPS_PER_NAMESPACE = 12
CRD_KIND = "Widget"
CRD_PLURAL = "widgets"


def crd_group(prefix: str) -> str:
    """The bench CRD's API group: one per prefix, so concurrent runs never share it."""
    return f"{prefix}.bench.kgit.dev"


def crd_manifest(prefix: str) -> dict[str, Any]:
    """The CustomResourceDefinition of the bench's custom resources."""
    group = crd_group(prefix)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{CRD_PLURAL}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "kind": CRD_KIND,
                "plural": CRD_PLURAL,
                "singular": "widget",
                "listKind": f"{CRD_KIND}List",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "size": {"type": "integer"},
                                        "color": {"type": "string"},
                                        "owners": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


@dataclass(frozen=True, slots=True)
class Placed:
    """One generated object and the file (relative to the repository) that holds it."""

    path: str
    obj: dict[str, Any]


def namespace_name(prefix: str, index: int) -> str:
    """The name of the ``index``-th namespace of a stack."""
    return f"{prefix}-ns{index:03d}"


def _app(prefix: str, ns: str, app: str, version: int) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": prefix}
    meta = {"name": app, "namespace": ns, "labels": labels}
    config = {
        "LOG_LEVEL": "info",
        "FEATURE_FLAGS": "search,checkout,recommendations",
        "UPSTREAM_URL": f"http://{app}-backend.{ns}.svc.cluster.local:8080",
        "settings.json": json.dumps({"timeout": 30, "retries": 3, "version": version}),
    }
    secret = base64.b64encode(f"{app}-password-{ns}".encode()).decode()
    container = {
        "name": app,
        "image": f"registry.example.com/{prefix}/{app}:1.{version}.0",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "APP_NAME", "value": app},
            {
                "name": "DB_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": app, "key": "password"}},
            },
        ],
        "envFrom": [{"configMapRef": {"name": app}}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
    }
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": config},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta,
            "type": "Opaque",
            "data": {"password": secret},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps", "secrets"],
                    "resourceNames": [app],
                    "verbs": ["get", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": app},
            "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app.kubernetes.io/name": app}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"serviceAccountName": app, "containers": [container]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "clusterIP": "None",
                "selector": {"app.kubernetes.io/name": app},
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": f"{crd_group(prefix)}/v1",
            "kind": CRD_KIND,
            "metadata": meta,
            "spec": {"size": 3, "color": "blue", "owners": [f"team-{app}"]},
        },
    ]


def generate(prefix: str, n: int) -> list[Placed]:
    """Exactly ``n`` objects of the stack ``prefix``, in file order."""
    placed: list[Placed] = []

    def objects() -> Iterator[Placed]:
        index = 0
        while True:
            ns = namespace_name(prefix, index)
            yield Placed(
                f"{ns}/00-namespace.yaml",
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ns, "labels": {"team": f"team-{index % 7}"}},
                },
            )
            for a in range(APPS_PER_NAMESPACE):
                app = f"app{a:02d}"
                for obj in _app(prefix, ns, app, version=1):
                    # Copies: shared dicts would be written as YAML anchors and aliases.
                    yield Placed(f"{ns}/{app}.yaml", copy.deepcopy(obj))
            index += 1

    for item in objects():
        if len(placed) == n:
            break
        placed.append(item)
    return placed


def write_stack(root: Path, placed: list[Placed]) -> None:
    """Write the objects as YAML files under ``root`` (multi-document per file)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for item in placed:
        files.setdefault(item.path, []).append(item.obj)
    for path, docs in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def pick(placed: list[Placed], kinds: tuple[str, ...], share: float, offset: int) -> list[Placed]:
    """About ``share`` of all objects, taken evenly among those of ``kinds``.

    Different ``offset`` values pick disjoint objects (for Git changes and drift).
    """
    count = max(1, round(len(placed) * share))
    eligible = [p for p in placed if p.obj["kind"] in kinds]
    stride = max(1, len(eligible) // count)
    chosen = eligible[offset % stride :: stride]
    return chosen[:count]


def changed_in_git(item: Placed) -> Placed:
    """A copy of one object edited as a commit would: a new config value, or image tag."""
    obj = copy.deepcopy(item.obj)
    if obj["kind"] == "ConfigMap":
        obj["data"]["LOG_LEVEL"] = "debug"
    elif obj["kind"] == "Deployment":
        container = obj["spec"]["template"]["spec"]["containers"][0]
        container["image"] = container["image"].replace(":1.1.0", ":1.2.0")
    else:
        raise ValueError(f"{obj['kind']}: no Git change defined")
    return Placed(item.path, obj)


def with_changes(placed: list[Placed], changed: list[Placed]) -> list[Placed]:
    """The objects of every file holding a changed object, the changed ones edited."""
    edited = {id(p): changed_in_git(p) for p in changed}
    paths = {p.path for p in changed}
    return [edited.get(id(p), p) for p in placed if p.path in paths]


def drift_patch(obj: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that changes a field the stack manages, as someone in the cluster would."""
    if obj["kind"] == "ConfigMap":
        return {"data": {"FEATURE_FLAGS": "search"}}
    if obj["kind"] == "Deployment":
        return {"spec": {"replicas": 5}}
    raise ValueError(f"{obj['kind']}: no drift defined")
