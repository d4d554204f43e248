"""The terminal view, piece by piece (the golden files show it whole)."""

from __future__ import annotations

import pytest

from kgit.manifests.keys import ObjectKey
from kgit.plan.model import (
    Action,
    Cause,
    ChangeReason,
    FieldChange,
    FieldOp,
    ObjectChange,
    Plan,
    PlanSource,
    Reason,
)
from kgit.plan.store import plan_to_json
from kgit.render import FORMATS, render_json, render_plan, render_summary_line, render_text
from kgit.render.common import TAKEN_FROM_ANOTHER_STACK, headline

pytestmark = pytest.mark.unit

SOURCE = PlanSource(url="u", commit="abcdef0123456789", paths=("apps",))
NGINX = ObjectKey("apps", "Deployment", "web", "nginx")


def plan_of(*changes: ObjectChange, **extra: object) -> Plan:
    fields: dict[str, object] = {
        "stack": "web",
        "source": SOURCE,
        "state_serial": 1,
        "state_lineage": "l",
        "changes": changes,
        **extra,
    }
    return Plan(**fields)  # type: ignore[arg-type]


def update(*fields: FieldChange) -> ObjectChange:
    return ObjectChange(NGINX, Action.UPDATE, "apps/v1", fields=fields)


def obj(action: Action, name: str = "x") -> ObjectChange:
    return ObjectChange(ObjectKey("", "ConfigMap", "web", name), action, "v1")


def test_summary_line_counts_replace_as_add_and_delete() -> None:
    plan = plan_of(obj(Action.CREATE), obj(Action.REPLACE), obj(Action.UPDATE), obj(Action.ADOPT))
    assert render_summary_line(plan) == "Plan: 2 to add, 2 to change, 1 to delete."


def test_summary_line_names_forget_only_when_there_is_some() -> None:
    assert render_summary_line(plan_of(obj(Action.DELETE), obj(Action.FORGET))) == (
        "Plan: 0 to add, 0 to change, 1 to delete, 1 to forget."
    )
    assert render_summary_line(plan_of()) == "Plan: 0 to add, 0 to change, 0 to delete."


@pytest.mark.parametrize(
    ("action", "headline"),
    [
        (Action.CREATE, "# ConfigMap/web/x will be created"),
        (Action.UPDATE, "# ConfigMap/web/x will be updated in place"),
        (Action.DELETE, "# ConfigMap/web/x will be deleted"),
        (Action.REPLACE, "# ConfigMap/web/x must be replaced"),
        (Action.ADOPT, "# ConfigMap/web/x will be adopted (exists, not created by kgit)"),
        (
            Action.FORGET,
            "# ConfigMap/web/x will be forgotten (kgit stops tracking it; left in the cluster)",
        ),
    ],
)
def test_headline_per_action(action: Action, headline: str) -> None:
    text = render_text(plan_of(obj(action)), color=False)
    assert f"  {headline}\n  {action.symbol} v1 ConfigMap/web/x\n" in text


def test_notes_are_listed_under_the_headline() -> None:
    change = ObjectChange(
        ObjectKey("", "Service", "web", "s"),
        Action.CREATE,
        "v1",
        reasons=(ChangeReason(Reason.DRIFT_DELETED),),
    )
    text = render_text(plan_of(change), color=False)
    assert "  # Service/web/s will be created\n  # (drift: deleted out of band)\n  + v1" in text


REASON_CASES = [
    (ChangeReason(Reason.ADOPT), ["exists in the cluster and was not created by kgit"]),
    (
        ChangeReason(Reason.CRD_PENDING),
        ["CRD pending: its CustomResourceDefinition is created by this plan"],
    ),
    (ChangeReason(Reason.DRIFT_DELETED), ["drift: deleted out of band"]),
    (
        ChangeReason(Reason.PENDING),
        ["an earlier apply did not confirm this object (interrupted, or it failed)"],
    ),
    (
        ChangeReason(Reason.IMMUTABLE, paths=("spec.selector", "spec.clusterIP")),
        ["immutable: spec.selector", "immutable: spec.clusterIP"],
    ),
    (ChangeReason(Reason.GONE), ["already gone from the cluster"]),
    (ChangeReason(Reason.NOT_OWNED), ["not labelled as this stack's: left in the cluster"]),
    (
        ChangeReason(Reason.OWNED, stack="a"),
        ['owned by stack "a": apply refuses it; --take-over-from a to take it over'],
    ),
    (
        ChangeReason(Reason.TAKE_OVER, stack="a"),
        ['taken over from stack "a" with --take-over-from'],
    ),
    (ChangeReason(Reason.TAKEN_OVER, stack="b"), ['taken over by stack "b"']),
]


@pytest.mark.parametrize(("reason", "notes"), REASON_CASES)
def test_each_reason_is_drawn_in_its_words(reason: ChangeReason, notes: list[str]) -> None:
    change = ObjectChange(
        ObjectKey("", "Service", "web", "s"), Action.UPDATE, "v1", reasons=(reason,)
    )
    text = render_text(plan_of(change), color=False)
    drawn = "".join(f"  # ({note})\n" for note in notes)
    assert f"  # Service/web/s {headline(change)}\n{drawn}  ~ v1" in text


def test_every_reason_has_words() -> None:
    assert {case[0].reason for case in REASON_CASES} == set(Reason)


@pytest.mark.parametrize(
    ("fc", "line"),
    [
        (FieldChange("a", FieldOp.ADD, after="x"), '+ a: "x"'),
        (FieldChange("a", FieldOp.REMOVE, before=3), "- a: 3"),
        (FieldChange("a", FieldOp.CHANGE, True, None), "~ a: true -> null"),
        (FieldChange("a", FieldOp.CHANGE, 1, 2, Cause.GIT), "~ a: 1 -> 2   (git)"),
        (
            FieldChange("a", FieldOp.CHANGE, 1, 2, Cause.DRIFT, "kubectl-edit", "T"),
            "~ a: 1 -> 2   (drift: changed by kubectl-edit at T)",
        ),
        (
            FieldChange("a", FieldOp.CHANGE, 1, 2, Cause.DRIFT),
            "~ a: 1 -> 2   (drift: changed in the cluster)",
        ),
        (
            FieldChange("a", FieldOp.CHANGE, 1, 2, Cause.BOTH, "helm", "T"),
            "~ a: 1 -> 2   (both: changed in Git and by helm)",
        ),
        (FieldChange("a", FieldOp.ADD, after={"b": [1, "two"]}), '+ a: {"b": [1, "two"]}'),
        (FieldChange("a", FieldOp.ADD, after="x\ny"), '+ a: "x\\ny"'),
        (
            FieldChange("d", FieldOp.CHANGE, "hmac:1", "hmac:2", sensitive=True),
            "~ d: (sensitive value changed)",
        ),
        (FieldChange("d", FieldOp.ADD, after="hmac:1", sensitive=True), "+ d: (sensitive value)"),
        (
            FieldChange("d", FieldOp.REMOVE, before="hmac:1", sensitive=True),
            "- d: (sensitive value)",
        ),
    ],
)
def test_field_lines(fc: FieldChange, line: str) -> None:
    text = render_text(plan_of(update(fc)), color=False)
    assert f"\n      {line}\n" in text
    assert "hmac:" not in text


def test_long_changes_put_before_and_after_on_their_own_lines() -> None:
    before, after = "a" * 60, "b" * 60
    text = render_text(
        plan_of(update(FieldChange("data.x", FieldOp.CHANGE, before, after, Cause.GIT))),
        color=False,
    )
    assert f'      ~ data.x:   (git)\n          - "{before}"\n          + "{after}"\n' in text


def test_no_ops_are_not_drawn_but_counted() -> None:
    plan = plan_of(obj(Action.NOOP, "same"), obj(Action.CREATE, "new"), unchanged=2)
    text = render_text(plan, color=False)
    assert "same" not in text
    assert text.endswith("Plan: 1 to add, 0 to change, 0 to delete.\n")


def test_no_changes() -> None:
    plan = plan_of(obj(Action.NOOP), unchanged=1)
    assert render_text(plan, color=False) == (
        "No changes. The cluster matches Git at commit abcdef0 (2 objects unchanged).\n"
    )
    assert "(1 object unchanged)" in render_text(plan_of(unchanged=1), color=False)


def test_dirty_source_is_said() -> None:
    dirty = PlanSource(url="u", commit="abcdef0123", paths=(), dirty=True)
    text = render_text(plan_of(obj(Action.CREATE), source=dirty), color=False)
    assert text.startswith(
        'kgit will perform the following actions on stack "web" (commit abcdef0) '
        "(uncommitted changes in the work tree):\n"
    )
    assert "uncommitted changes in the work tree" in render_text(plan_of(source=dirty), color=False)


def test_warnings_and_ignored_come_before_the_summary() -> None:
    plan = plan_of(
        obj(Action.CREATE), warnings=("w1", "w2"), ignored=("spec.replicas of Deployment",)
    )
    text = render_text(plan, color=False)
    tail = text[text.index("Ignored fields:") :]
    assert tail == (
        "Ignored fields: spec.replicas of Deployment\n\n"
        "Warning: w1\n\nWarning: w2\n\n"
        "Plan: 1 to add, 0 to change, 0 to delete.\n"
    )


def test_colour_only_when_asked() -> None:
    plan = plan_of(
        obj(Action.CREATE), obj(Action.DELETE, "y"), obj(Action.REPLACE, "z"), warnings=("w",)
    )
    assert "\x1b" not in render_text(plan, color=False)
    coloured = render_text(plan, color=True)
    assert "\x1b[32m+\x1b[0m v1 ConfigMap/web/x" in coloured
    assert "\x1b[31m-\x1b[0m v1 ConfigMap/web/y" in coloured
    assert "\x1b[31m-\x1b[0m/\x1b[32m+\x1b[0m v1 ConfigMap/web/z" in coloured
    assert "\x1b[1;33mWarning:\x1b[0m w" in coloured
    # Without the escapes, colour and plain say the same.
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(plan, color=False)


def test_render_plan_dispatches_by_format() -> None:
    plan = plan_of(obj(Action.CREATE))
    assert FORMATS == ("text", "markdown", "json")
    assert render_plan(plan, "text") == render_text(plan, color=False)
    assert render_plan(plan, "text", color=True) == render_text(plan, color=True)
    assert render_plan(plan, "json") == render_json(plan) == plan_to_json(plan)
    assert render_plan(plan, "markdown").startswith("**Plan:** 1 to add")
    with pytest.raises(ValueError, match="'yaml': unknown plan format"):
        render_plan(plan, "yaml")


def test_an_object_of_another_stack_is_said_to_be_taken_over() -> None:
    change = ObjectChange(
        ObjectKey("", "ConfigMap", "web", "c"),
        Action.ADOPT,
        "v1",
        reasons=(ChangeReason(Reason.OWNED, stack="a"),),
    )
    assert headline(change) == TAKEN_FROM_ANOTHER_STACK
    assert f"ConfigMap/web/c {TAKEN_FROM_ANOTHER_STACK}" in render_text(
        plan_of(change), color=False
    )
