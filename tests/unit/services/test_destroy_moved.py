"""A stored destroy plan is stale when the plan made now differs from it."""

from __future__ import annotations

import dataclasses

import pytest

from kgit.apply.model import ApplyReport, ObjectResult, Result
from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import PlanOptions
from kgit.plan.model import Action, CascadeDelete, ObjectChange, Plan, PlanSource
from kgit.render.apply import render_apply_summary
from kgit.render.common import render_summary_line
from kgit.services.destroy import destroy_moved

pytestmark = pytest.mark.unit

CM = ObjectKey("", "ConfigMap", "web", "a")


def destroy_plan(rv: str = "7", serial: int = 3) -> Plan:
    return Plan(
        stack="web",
        source=PlanSource(url="", commit="c" * 40, paths=()),
        state_serial=serial,
        state_lineage="l",
        changes=(ObjectChange(CM, Action.DELETE, "v1", live_resource_version=rv),),
        options=PlanOptions(allow_empty=True, destroy=True),
    )


def test_an_unmoved_destroy_plan_holds() -> None:
    assert destroy_moved(destroy_plan(), destroy_plan()) == []


def test_what_moved_is_named() -> None:
    moved = dataclasses.replace(
        destroy_plan(rv="8", serial=4),
        cascade=(CascadeDelete(ObjectKey("", "Secret", "web", "x")),),
    )
    assert destroy_moved(destroy_plan(), moved) == [
        "the state moved from serial 3 to 4 (another apply ran since the plan)",
        "ConfigMap/web/a: changed in the cluster since the plan",
        "what the Namespaces to delete hold changed since the plan",
    ]


def test_terraforms_destroy_wording() -> None:
    assert render_summary_line(destroy_plan()) == "Plan: 0 to add, 0 to change, 1 to destroy."
    report = ApplyReport(results=[ObjectResult(CM, Result.DELETED)])
    assert render_apply_summary(report, destroy=True) == (
        "\nDestroy complete! Resources: 1 destroyed."
    )
