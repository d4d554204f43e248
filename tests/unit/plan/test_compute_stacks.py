"""compute_plan between stacks: another stack's object is refused, taken over by name,
and forgotten by the stack it was taken from."""

from __future__ import annotations

from typing import Any

import pytest
from test_compute import manifest, plan_of, server_form

from kgit.plan.inputs import PlanOptions
from kgit.plan.model import Action, ChangeReason, Reason
from kgit.render.common import change_notes

pytestmark = pytest.mark.unit


def labelled(obj: dict[str, Any], stack: str) -> dict[str, Any]:
    """``obj`` as the server holds it, labelled as ``stack``'s."""
    live = server_form(obj)
    live["metadata"]["labels"]["kgit.dev/stack"] = stack
    return live


def test_another_stacks_object_is_owned_even_with_adopt() -> None:
    obj = manifest()
    plan = plan_of([obj], [], [labelled(obj, "a")], options=PlanOptions(adopt=True))
    (change,) = plan.changes
    assert change.action is Action.ADOPT
    assert change.reasons == (ChangeReason(Reason.OWNED, stack="a"),)
    assert change_notes(change)[0].startswith('owned by stack "a"')
    assert any("--take-over-from a" in w for w in plan.warnings)


def test_take_over_from_names_the_stack() -> None:
    obj = manifest()
    other = plan_of([obj], [], [labelled(obj, "b")], options=PlanOptions(take_over_from="a"))
    assert other.changes[0].reasons == (ChangeReason(Reason.OWNED, stack="b"),)
    plan = plan_of([obj], [], [labelled(obj, "a")], options=PlanOptions(take_over_from="a"))
    (change,) = plan.changes
    assert change.reasons == (ChangeReason(Reason.TAKE_OVER, stack="a"),)
    assert not plan.warnings


@pytest.mark.parametrize("in_git", [True, False])
def test_an_object_taken_over_is_forgotten_never_applied_or_deleted(in_git: bool) -> None:
    obj = manifest()
    plan = plan_of([obj] if in_git else [], [obj], [labelled(obj, "b")])
    (change,) = plan.changes
    assert change.action is Action.FORGET
    assert change.reasons == (ChangeReason(Reason.TAKEN_OVER, stack="b"),)
    assert change.live_resource_version == "7"
    assert change_notes(change) == ('taken over by stack "b"',)
