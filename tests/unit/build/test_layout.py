"""kgit.build.layout: what each path holds, from the tree's file names."""

from __future__ import annotations

from kgit.build.ignore import DEFAULT_EXCLUDES, compile_excludes
from kgit.build.layout import UnitKind, classify
from kgit.build.settings import Release

FILES = sorted(
    [
        ".github/workflows/ci.yml",
        "apps/base/deployment.yaml",
        "apps/base/kustomization.yaml",
        "apps/prod/kustomization.yaml",
        "charts/shop/Chart.yaml",
        "charts/shop/templates/cm.yaml",
        "charts/shop/values.yaml",
        "crds/crd.yaml",
        "docs/notes.md",
        "kgit.yaml",
        "legacy/.flux.yaml",
        "legacy/app/x.yaml",
        "plans/p.json",
    ]
)
EXCLUDES = compile_excludes(DEFAULT_EXCLUDES)


def test_a_plain_root_renders_what_it_holds_and_reads_the_rest() -> None:
    layout = classify([""], FILES, EXCLUDES)
    assert layout.manifests == ("crds/crd.yaml",)
    assert [(u.kind, u.path) for u in layout.units] == [
        (UnitKind.KUSTOMIZE, "apps/base"),
        (UnitKind.KUSTOMIZE, "apps/prod"),
        (UnitKind.HELM, "charts/shop"),
        (UnitKind.GENERATORS, "legacy"),
    ]
    assert [str(r) for r in layout.reads] == [
        ".",
        "apps/base (kustomize)",
        "apps/prod (kustomize)",
        "charts/shop (helm release shop)",
        "legacy (generators legacy/.flux.yaml)",
    ]


def test_a_path_below_a_flux_yaml_is_generated() -> None:
    layout = classify(["legacy/app"], FILES, EXCLUDES)
    assert layout.manifests == ()
    assert [(u.kind, u.path, u.config) for u in layout.units] == [
        (UnitKind.GENERATORS, "legacy/app", "legacy/.flux.yaml")
    ]
    assert [str(r) for r in layout.reads] == ["legacy/app (generators legacy/.flux.yaml)"]


def test_releases_name_their_chart_and_oci_releases_are_rendered_too() -> None:
    releases = (
        Release(name="a", chart="charts/shop"),
        Release(name="b", chart="charts/shop", namespace="b"),
        Release(name="c", chart="oci://registry/charts/c", version="1.0.0"),
    )
    layout = classify(["charts", "crds"], FILES, EXCLUDES, releases)
    assert layout.manifests == ("crds/crd.yaml",)
    assert [u.release.name for u in layout.units if u.release] == ["a", "b", "c"]
    assert [str(r) for r in layout.reads] == [
        "charts",
        "crds",
        "charts/shop (helm release a)",
        "charts/shop (helm release b)",
        "oci://registry/charts/c (helm release c)",
    ]


def test_a_named_file_is_read_even_when_excluded() -> None:
    assert classify(["plans/p.json"], FILES, EXCLUDES).manifests == ("plans/p.json",)
