"""A stored plan applies with the namespaces it was computed with."""

from __future__ import annotations

import pytest

from kgit.errors import ConfigError
from kgit.plan.inputs import PlanOptions
from kgit.plan.model import Plan, PlanSource
from kgit.services.apply import as_planned
from kgit.services.options import PlanningOptions

pytestmark = pytest.mark.unit


def plan_with(default_namespace: str | None, state_namespace: str | None) -> Plan:
    return Plan(
        stack="web",
        source=PlanSource(url="u", commit="c", paths=()),
        state_serial=1,
        state_lineage="l",
        changes=(),
        options=PlanOptions(default_namespace=default_namespace, state_namespace=state_namespace),
    )


def test_the_plans_namespaces_are_used() -> None:
    planning, state_namespace = as_planned(plan_with("apps", "ops"), PlanningOptions(), None)
    assert (planning.default_namespace, state_namespace) == ("apps", "ops")


def test_the_same_namespaces_given_again_are_accepted() -> None:
    planning, state_namespace = as_planned(
        plan_with("apps", "ops"), PlanningOptions(default_namespace="apps"), "ops"
    )
    assert (planning.default_namespace, state_namespace) == ("apps", "ops")


def test_a_plan_without_namespaces_takes_the_callers() -> None:
    planning, state_namespace = as_planned(
        plan_with(None, None), PlanningOptions(default_namespace="apps"), "ops"
    )
    assert (planning.default_namespace, state_namespace) == ("apps", "ops")


@pytest.mark.parametrize(
    ("given", "state", "message"),
    [
        ("other", None, "the plan was made with default namespace apps, not other: "),
        (None, "other", "the plan was made with state namespace ops, not other: "),
    ],
)
def test_other_namespaces_than_the_plans_are_refused(
    given: str | None, state: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        as_planned(plan_with("apps", "ops"), PlanningOptions(default_namespace=given), state)
    assert str(err.value) == message + "a stored plan applies with its own settings"
