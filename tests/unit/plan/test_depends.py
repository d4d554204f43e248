"""``kgit.dev/depends-on``: the names it gives, and the steps it makes."""

from __future__ import annotations

from typing import Any

import pytest

from kgit.errors import ApplyError
from kgit.manifests.keys import ObjectKey
from kgit.plan.depends import DEPENDS_ON, compute_dependencies, dependency_steps
from kgit.plan.model import Action, ObjectChange
from kgit.plan.order import sort_changes

pytestmark = pytest.mark.unit

DB = ObjectKey("apps", "StatefulSet", "web", "db")
SETTINGS = ObjectKey("", "ConfigMap", "web", "settings")
API = ObjectKey("apps", "Deployment", "web", "api")
NS = ObjectKey("", "Namespace", "", "web")


def manifest(depends: str = "") -> dict[str, Any]:
    return {"metadata": {"annotations": {DEPENDS_ON: depends}} if depends else {}}


def groups(kind: str) -> str | None:
    return {"Service": "", "Widget": "example.com"}.get(kind)


def test_names_resolve_to_the_plan_s_objects_then_to_discovery() -> None:
    desired = {
        DB: manifest(),
        API: manifest("StatefulSet/web/db, Service/web/cache,Widget/web/w"),
        SETTINGS: manifest(),
    }
    assert compute_dependencies(desired, groups) == {
        API: (
            DB,
            ObjectKey("", "Service", "web", "cache"),
            ObjectKey("example.com", "Widget", "web", "w"),
        )
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("db", "'db' is not Kind/namespace/name"),
        ("StatefulSet//db", "is not Kind/namespace/name"),
        ("Gadget/web/g", "the cluster serves no kind Gadget"),
        ("Deployment/web/api", "it cannot depend on itself"),
    ],
)
def test_bad_names_are_refused_naming_the_object(text: str, error: str) -> None:
    with pytest.raises(ApplyError, match=error) as raised:
        compute_dependencies({API: manifest(text)}, groups)
    assert str(raised.value).startswith("Deployment/web/api: kgit.dev/depends-on: ")


def change(key: ObjectKey, action: Action = Action.CREATE) -> ObjectChange:
    return ObjectChange(key, action, "v1")


def test_without_dependencies_the_steps_are_the_kind_order() -> None:
    changes = sort_changes([change(API), change(SETTINGS), change(NS), change(DB)])
    steps = dependency_steps(changes, {})
    assert [[c.key for c in step] for step in steps] == [[NS], [SETTINGS], [API, DB]]


def test_an_object_moves_after_what_it_depends_on() -> None:
    changes = sort_changes([change(API), change(SETTINGS), change(NS), change(DB)])
    # The ConfigMap (an early kind) waits for the StatefulSet; the Deployment for both.
    steps = dependency_steps(changes, {SETTINGS: (DB,), API: (SETTINGS,)})
    assert [[c.key for c in step] for step in steps] == [[NS], [DB], [SETTINGS], [API]]


def test_dependencies_outside_the_plan_or_on_deletions_move_nothing() -> None:
    changes = sort_changes([change(API), change(DB, Action.DELETE)])
    steps = dependency_steps(changes, {API: (DB, SETTINGS)})
    assert [[c.key for c in step] for step in steps] == [[API], [DB]]


def test_a_cycle_is_refused_naming_it() -> None:
    changes = sort_changes([change(API), change(DB)])
    with pytest.raises(ApplyError, match="makes a cycle: "):
        dependency_steps(changes, {API: (DB,), DB: (API,)})
