"""kgit.build.closure: what a Kustomize directory or a release reads from the repository."""

from __future__ import annotations

import pytest

from kgit.build.closure import Inputs, inputs_of
from kgit.build.layout import Unit, UnitKind
from kgit.build.settings import Release
from kgit.errors import RenderError

TREE = {
    "apps/base/kustomization.yaml": b"resources: [deploy.yaml, ../shared]\n",
    "apps/base/deploy.yaml": b"kind: Deployment\n",
    "apps/shared/kustomization.yaml": b"resources: [cm.yaml]\n",
    "apps/shared/cm.yaml": b"kind: ConfigMap\n",
    "apps/prod/kustomization.yaml": b"resources: [../base]\ncomponents: [../../components/x]\n",
    "components/x/kustomization.yaml": b"kind: Component\n",
    "apps/remote/kustomization.yaml": b"resources:\n  - https://github.com/org/repo//base?ref=v1\n",
    "apps/typo/kustomization.yaml": b"resources: [deploymnt.yaml]\n",
    "apps/broken/kustomization.yaml": b"resources: [: no\n",
}
FILES = sorted(TREE)


def _inputs(path: str, *, remote_bases: bool = False) -> Inputs:
    return inputs_of(
        Unit(UnitKind.KUSTOMIZE, path), FILES, TREE.__getitem__, remote_bases=remote_bases
    )


def test_bases_and_components_are_followed() -> None:
    assert _inputs("apps/prod") == Inputs(
        directories=("apps/base", "apps/prod", "apps/shared", "components/x")
    )


def test_remote_bases_are_refused_unless_allowed() -> None:
    with pytest.raises(RenderError, match=r"^apps/remote/kustomization.yaml: 'https://"):
        _inputs("apps/remote")
    with pytest.raises(RenderError, match="remote base"):
        _inputs("apps/typo")
    assert _inputs("apps/remote", remote_bases=True) == Inputs(("apps/remote",), (), True)


def test_a_kustomization_that_does_not_parse_is_left_to_kustomize() -> None:
    assert _inputs("apps/broken") == Inputs(directories=("apps/broken",))


def test_releases_read_their_chart_and_values_files() -> None:
    local = Release(name="a", chart="charts/a", values_files=("v.yaml",))
    oci = Release(name="b", chart="oci://r/b", version="1", sensitive_values_files=("s.yaml",))
    assert inputs_of(
        Unit(UnitKind.HELM, "charts/a", local), FILES, TREE.__getitem__, remote_bases=False
    ) == Inputs(("charts/a",), ("v.yaml",))
    assert inputs_of(
        Unit(UnitKind.HELM, "oci://r/b", oci), FILES, TREE.__getitem__, remote_bases=False
    ) == Inputs((), ("s.yaml",), True)
