"""Desired objects refused at plan: kgit's own records, unserved versions, missing namespaces."""

from __future__ import annotations

import pytest
import yaml
from test_compute import SOURCE, STACK, desired

from kgit.errors import PlanError
from kgit.manifests.keys import ObjectKey
from kgit.manifests.normalize import prepare_desired
from kgit.plan.checks import check_desired, reserved_record
from kgit.plan.compute import compute_plan
from kgit.plan.inputs import PlanInputs, PlanOptions

pytestmark = pytest.mark.unit

HPA = "apiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: web}"


def inputs(*texts: str, **extra: object) -> PlanInputs:
    objs = [desired(prepare_desired(yaml.safe_load(t), STACK)) for t in texts]
    return PlanInputs(stack=STACK, desired=tuple(objs), recorded={}, live={}, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "group", "name", "reserved"),
    [
        ("Secret", "", "kgit-state.victim", True),
        ("Secret", "", "kgit-state.victim.3-ab12cd.1", True),
        ("Lease", "coordination.k8s.io", "kgit-lock-victim", True),
        ("ConfigMap", "", "kgit-status.victim", True),
        ("Secret", "", "kgit-deploy-key", False),
        ("ConfigMap", "", "kgit-state.x", False),
    ],
)
def test_reserved_records(kind: str, group: str, name: str, reserved: bool) -> None:
    assert reserved_record(ObjectKey(group, kind, "kgit-system", name), "kgit-system") is reserved
    assert not reserved_record(ObjectKey(group, kind, "apps", name), "kgit-system")


def test_a_manifest_naming_a_state_secret_is_refused_with_its_place() -> None:
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: kgit-state.victim, namespace: kgit-system}"
    )
    errors = check_desired(inputs(secret), "kgit-system")
    assert list(errors.values()) == [
        "w.yaml:1: Secret/kgit-system/kgit-state.victim: the name is reserved for kgit's own "
        "records in its state namespace kgit-system (states, locks, watch status); Git "
        "cannot write them"
    ]


def test_an_unserved_api_version_is_refused_naming_what_is_served() -> None:
    served = {("autoscaling", "HorizontalPodAutoscaler"): ("v2", "v1")}
    with pytest.raises(PlanError) as caught:
        compute_plan(
            inputs(HPA, served_versions=served),
            source=SOURCE,
            serial=0,
            lineage="l",
            options=PlanOptions(),
        )
    assert (
        "w.yaml:1: autoscaling/v2beta1 HorizontalPodAutoscaler is not served by this cluster "
        "(it serves autoscaling/v1, autoscaling/v2)"
    ) in str(caught.value)


def test_a_kind_unknown_to_discovery_is_left_to_the_crd_check() -> None:
    assert check_desired(inputs(HPA), None) == {}


def test_a_namespace_that_neither_exists_nor_is_created_is_refused() -> None:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ghost}"
    assert list(
        check_desired(inputs(cm, existing_namespaces=frozenset({"web"})), None).values()
    ) == [
        "w.yaml:1: ConfigMap/ghost/c: namespace ghost does not exist and this plan does not create it"
    ]
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ghost}"
    assert check_desired(inputs(cm, ns, existing_namespaces=frozenset()), None) == {}
    # Namespaces that could not be listed prove nothing.
    assert check_desired(inputs(cm), None) == {}
