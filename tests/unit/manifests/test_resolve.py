"""kgit.manifests.resolve: keys, scopes, default namespaces and duplicates."""

from __future__ import annotations

import copy
import textwrap

import pytest

from kgit.errors import ManifestError
from kgit.manifests.keys import ObjectKey
from kgit.manifests.load import Manifest, load_manifests
from kgit.manifests.resolve import crd_kinds, resolve_keys
from kgit.source.git import SourceFile

pytestmark = pytest.mark.unit

# What a small cluster's discovery would answer.
_KNOWN = {
    ("", "Namespace"): False,
    ("", "ConfigMap"): True,
    ("apps", "Deployment"): True,
    ("rbac.authorization.k8s.io", "ClusterRole"): False,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): False,
}


def scope(group: str, kind: str) -> bool | None:
    return _KNOWN.get((group, kind))


def load(**files: str) -> list[Manifest]:
    """Manifests from files given as ``name=yaml`` (``_`` in a name stands for ``.``)."""
    return load_manifests(
        SourceFile(name.replace("_", "."), textwrap.dedent(text).lstrip("\n").encode())
        for name, text in files.items()
    )


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: {scope}
  names: {{kind: Widget, plural: widgets}}
  versions: [{{name: v1, served: true, storage: true}}]
"""


def test_keys_and_default_namespace() -> None:
    manifests = load(
        a_yaml="""
        apiVersion: v1
        kind: Namespace
        metadata: {name: web, namespace: ignored}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: nginx}
        ---
        apiVersion: apps/v1beta2
        kind: Deployment
        metadata: {name: nginx, namespace: other}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg, namespace: ""}
        """
    )
    before = copy.deepcopy([m.obj for m in manifests])
    keyed = resolve_keys(manifests, scope, "web")
    assert [key for key, _ in keyed] == [
        ObjectKey("", "Namespace", "", "web"),
        ObjectKey("apps", "Deployment", "web", "nginx"),
        ObjectKey("apps", "Deployment", "other", "nginx"),
        ObjectKey("", "ConfigMap", "web", "cfg"),
    ]
    objs = [m.obj for _, m in keyed]
    assert "namespace" not in objs[0]["metadata"]  # cluster-scoped: dropped
    assert objs[1]["metadata"]["namespace"] == "web"  # written in
    assert objs[2]["metadata"]["namespace"] == "other"  # kept
    assert objs[3]["metadata"]["namespace"] == "web"  # empty counts as missing
    assert [(m.path, m.line) for _, m in keyed] == [(m.path, m.line) for m in manifests]
    # The input is never changed; an unchanged manifest is passed through as is.
    assert [m.obj for m in manifests] == before
    assert keyed[2][1] is manifests[2]


def test_an_unknown_kind_is_refused_with_file_and_line() -> None:
    manifests = load(
        w_yaml="""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a}
        ---
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w}
        """
    )
    with pytest.raises(ManifestError) as caught:
        resolve_keys(manifests, scope, "default")
    assert str(caught.value) == (
        "w.yaml:5: Kind example.com/Widget is not known to the cluster and no "
        "CustomResourceDefinition in the source defines it"
    )


@pytest.mark.parametrize(("crd_scope", "namespace"), [("Namespaced", "elsewhere"), ("Cluster", "")])
def test_a_crd_in_the_source_defines_an_unknown_kind(crd_scope: str, namespace: str) -> None:
    manifests = load(
        crd_yaml=CRD.format(scope=crd_scope),
        w_yaml="""
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w, namespace: elsewhere}
        """,
    )
    keyed = resolve_keys(manifests[::-1], scope, "apps")  # the CRD may come after its CRs
    assert keyed[0][0] == ObjectKey("example.com", "Widget", namespace, "w")
    assert keyed[0][1].obj["metadata"].get("namespace") == (namespace or None)


def test_a_crd_namespaced_kind_gets_the_default_namespace() -> None:
    manifests = load(
        crd_yaml=CRD.format(scope="Namespaced"),
        w_yaml="apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    )
    keyed = resolve_keys(manifests, scope, "apps")
    assert keyed[1][0] == ObjectKey("example.com", "Widget", "apps", "w")
    assert keyed[1][1].obj["metadata"]["namespace"] == "apps"


def test_the_cluster_answer_wins_over_a_crd_in_the_source() -> None:
    manifests = load(
        crd_yaml=CRD.format(scope="Cluster"),
        w_yaml="apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    )
    keyed = resolve_keys(manifests, lambda g, k: True if k == "Widget" else scope(g, k), "x")
    assert keyed[1][0].namespace == "x"


def test_a_duplicate_key_names_both_places() -> None:
    manifests = load(
        a_yaml="""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: nginx, namespace: web}
        """,
        b_yaml="""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: other}
        ---
        apiVersion: apps/v1beta2
        kind: Deployment
        metadata: {name: nginx}
        """,
    )
    with pytest.raises(ManifestError) as caught:
        resolve_keys(manifests, scope, "web")
    assert str(caught.value) == "b.yaml:5: Deployment/web/nginx is also defined at a.yaml:1"


def test_a_cluster_scoped_duplicate_across_namespaces() -> None:
    manifests = load(
        a_yaml="""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: "system:reader", namespace: a}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: "system:reader", namespace: b}
        """
    )
    with pytest.raises(ManifestError, match=r"^a\.yaml:5: ClusterRole/system:reader is also"):
        resolve_keys(manifests, scope, "default")


def test_crd_kinds() -> None:
    manifests = load(
        crd_yaml=CRD.format(scope="Namespaced")
        + "---\n"
        + CRD.format(scope="Cluster")
        .replace("widgets.example.com", "gadgets.example.com")
        .replace("Widget", "Gadget")
        .replace("widgets", "gadgets"),
        cm_yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
    )
    assert crd_kinds(manifests) == {
        ("example.com", "Widget"): True,
        ("example.com", "Gadget"): False,
    }
    assert crd_kinds([]) == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("scope: Namespaced", "scope: Both"), "spec.scope must be Namespaced or Cluster"),
        (("scope: Namespaced", ""), "spec.scope must be Namespaced or Cluster"),
        (("group: example.com", "group: 7"), "spec.group is missing"),
        (("kind: Widget, ", ""), "spec.names.kind is missing"),
    ],
)
def test_a_malformed_crd_is_named(change: tuple[str, str], expected: str) -> None:
    manifests = load(crd_yaml="---\n" + CRD.format(scope="Namespaced").replace(*change))
    with pytest.raises(ManifestError) as caught:
        crd_kinds(manifests)
    assert str(caught.value).startswith(
        f"crd.yaml:3: CustomResourceDefinition/widgets.example.com: {expected}"
    )


def test_two_crds_giving_one_kind_two_scopes_are_refused() -> None:
    manifests = load(
        crd_yaml=CRD.format(scope="Namespaced")
        + "---\n"
        + CRD.format(scope="Cluster").replace("widgets.example.com", "widgets2.example.com")
    )
    with pytest.raises(ManifestError, match=r"^crd\.yaml:12: .* another scope than crd\.yaml:1$"):
        crd_kinds(manifests)
