"""compute_plan's edges: pending CRDs and records, refusals, limits, converged drift, order."""

from __future__ import annotations

import pytest
from test_compute import (
    KEY,
    SOURCE,
    STACK,
    desired,
    live,
    manifest,
    plan_of,
    recorded,
    server_form,
)

from kgit.errors import PlanError
from kgit.manifests.keys import ObjectKey, key_of
from kgit.manifests.normalize import normalize
from kgit.plan.compute import compute_candidates, compute_plan, max_delete
from kgit.plan.inputs import (
    ContainedObject,
    DryRun,
    LiveObject,
    PlanInputs,
    PlanOptions,
    RecordedObject,
)
from kgit.plan.model import Action, Cause, ChangeReason, FieldOp, Reason
from kgit.plan.rules import IgnoreRule
from kgit.render.common import cause_label, change_notes

pytestmark = pytest.mark.unit

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: web}\ndata: {a: '1'}"
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: web}"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}"


def test_custom_resource_of_a_crd_in_the_same_plan_is_created_pending() -> None:
    widget = manifest(WIDGET)
    inputs = PlanInputs(
        stack=STACK,
        desired=(desired(widget),),
        recorded={},
        live={},
        pending_kinds=frozenset({("example.com", "Widget")}),
    )
    plan = compute_plan(inputs, source=SOURCE, serial=0, lineage="l", options=PlanOptions())
    (change,) = plan.changes
    assert change.action is Action.CREATE
    assert change.reasons == (ChangeReason(Reason.CRD_PENDING),)
    assert change_notes(change) == (
        "CRD pending: its CustomResourceDefinition is created by this plan",
    )


def test_a_desired_kind_the_cluster_could_not_list_fails_the_plan() -> None:
    with pytest.raises(PlanError, match="Deployment/web/nginx: the cluster could not list"):
        plan_of([manifest()], [], [], unlisted=frozenset({("apps", "Deployment")}))


def test_why_a_kind_could_not_be_listed_is_said() -> None:
    forbidden = (
        'LIST Deployment/web: deployments.apps is forbidden: User "system:serviceaccount:x:kgit" '
        'cannot list resource "deployments" in API group "apps" in the namespace "web"'
    )
    inputs = PlanInputs(
        stack=STACK,
        desired=(desired(manifest()),),
        recorded={},
        live={},
        unlisted_kinds=frozenset({("apps", "Deployment")}),
        unlisted_reasons={("apps", "Deployment"): forbidden},
    )
    with pytest.raises(PlanError) as refused:
        compute_plan(inputs, source=SOURCE, serial=0, lineage="l", options=PlanOptions())
    assert (
        "Deployment/web/nginx: the cluster could not list Deployment; cannot tell whether it "
        f"exists: {forbidden}"
    ) in str(refused.value)


def test_a_foreign_object_that_was_not_dry_run_fails_the_plan() -> None:
    foreign = server_form(manifest())
    del foreign["metadata"]["labels"]["kgit.dev/stack"]
    with pytest.raises(PlanError, match="exists in the cluster but was not dry-run"):
        plan_of([manifest()], [], [foreign], dry={}, auto_dry_run=False)


def test_adopting_with_adopt_given_warns_no_more() -> None:
    foreign = server_form(manifest())
    del foreign["metadata"]["labels"]["kgit.dev/stack"]
    plan = plan_of([manifest()], [], [foreign], options=PlanOptions(adopt=True))
    assert [c.action for c in plan.changes] == [Action.ADOPT]
    assert plan.warnings == ()


def test_ours_but_unrecorded_with_a_difference_is_an_update_caused_by_git() -> None:
    obj = manifest()
    drifted = server_form(obj, manager="kubectl")
    drifted["spec"]["replicas"] = 5
    plan = plan_of([obj], [], [drifted])
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    (field,) = change.fields
    # Without a record nothing tells Git's changes from the cluster's: Git is the cause.
    assert (field.path, field.cause, field.manager) == ("spec.replicas", Cause.GIT, None)


def test_git_and_cluster_moving_to_the_same_value_is_no_change() -> None:
    old = manifest()
    new = manifest(spec__replicas=3)
    moved = server_form(old, manager="kubectl-scale")
    moved["spec"]["replicas"] = 3
    plan = plan_of([new], [old], [moved])
    assert plan.changes == () and plan.unchanged == 1


def test_a_field_removed_out_of_band_is_drift_naming_no_manager() -> None:
    obj = manifest()
    obj["metadata"]["labels"]["team"] = "a"
    stripped = server_form(obj)
    del stripped["metadata"]["labels"]["team"]
    stripped["metadata"]["managedFields"].append(
        {
            "manager": "kubectl-label",
            "operation": "Update",
            "time": "2026-11-25T08:00:00Z",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:other": {}}}},
        }
    )
    plan = plan_of([obj], [obj], [stripped])
    (field,) = plan.changes[0].fields
    assert (field.path, field.op, field.after) == ("metadata.labels.team", FieldOp.ADD, "a")
    # kubectl-label touched the object last, but nothing says it removed this label.
    assert (field.cause, field.manager, field.managed_at) == (Cause.DRIFT, None, None)
    assert change_notes(plan.changes[0]) == ()
    assert cause_label(field) == "(drift: removed in the cluster)"


@pytest.mark.parametrize(("path", "value"), [("replicas", 3), ("revisionHistoryLimit", 5)])
def test_setting_a_field_the_server_defaulted_is_a_git_change(path: str, value: int) -> None:
    old = manifest()
    del old["spec"]["replicas"]
    new = manifest()
    del new["spec"]["replicas"]
    new["spec"][path] = value
    defaulted = server_form(old)
    defaulted["spec"].update(replicas=1, revisionHistoryLimit=10)
    plan = plan_of([new], [old], [defaulted])
    (change,) = plan.changes
    (field,) = change.fields
    assert (field.path, field.cause, field.manager) == (f"spec.{path}", Cause.GIT, None)
    assert not change.drifted


def test_setting_a_field_another_manager_set_is_both() -> None:
    old = manifest()
    del old["spec"]["replicas"]
    new = manifest(spec__replicas=3)
    scaled = server_form(old, manager="kubectl-scale")
    scaled["spec"]["replicas"] = 5
    plan = plan_of([new], [old], [scaled])
    (field,) = plan.changes[0].fields
    assert (field.cause, field.manager) == (Cause.BOTH, "kubectl-scale")


def test_an_ignore_rule_on_a_list_item_hides_its_drift() -> None:
    obj = manifest()
    drifted = server_form(obj, manager="image-updater")
    drifted["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:v9"
    rule = IgnoreRule(fields=("spec.template.spec.containers[name=nginx].image",))
    assert plan_of([obj], [obj], [drifted], rules=(rule,)).changes == ()
    assert [f.path for f in plan_of([obj], [obj], [drifted]).changes[0].fields] == [
        "spec.template.spec.containers[name=nginx].image"
    ]


def test_candidates_are_pending_records_ignore_rules_and_moved_objects() -> None:
    obj = manifest()
    key = key_of(obj, namespaced=True)
    same_live = {key: live(server_form(obj))}

    def candidates(rec: RecordedObject, rules: tuple[IgnoreRule, ...] = ()) -> set[ObjectKey]:
        inputs = PlanInputs(STACK, (desired(obj),), {key: rec}, same_live)
        return compute_candidates(inputs, rules)

    assert candidates(recorded(obj)) == set()
    assert candidates(RecordedObject(key, normalize(obj, KEY), pending=True)) == {key}
    assert candidates(recorded(obj), (IgnoreRule(fields=("spec.replicas",)),)) == {key}
    # An object that is not live needs no dry-run here: it is created.
    assert compute_candidates(PlanInputs(STACK, (desired(obj),), {}, {})) == set()


def test_a_replace_counts_as_a_deletion_and_a_forget_does_not() -> None:
    old = manifest()
    new = manifest()
    new["spec"]["selector"]["matchLabels"]["app"] = "web"
    key = key_of(new, namespaced=True)
    dry = {key: DryRun(key, immutable=("spec.selector",))}
    none = PlanOptions(max_delete=0)
    with pytest.raises(PlanError, match=r"deletes 1 objects \(Deployment/web/nginx\)"):
        plan_of([new], [old], [server_form(old)], dry=dry, options=none)
    gone = manifest(CONFIGMAP)
    plan = plan_of([old], [old, gone], [server_form(old)], options=none)
    assert [c.action for c in plan.changes] == [Action.FORGET]


def test_an_empty_source_may_forget_what_is_already_gone() -> None:
    assert plan_of([], [], []).changes == ()
    plan = plan_of([], [manifest(CONFIGMAP)], [])
    assert [c.action for c in plan.changes] == [Action.FORGET]


def test_default_deletion_limit_is_30_percent_but_at_least_10() -> None:
    assert max_delete(0, PlanOptions()) == 10
    assert max_delete(100, PlanOptions()) == 30
    assert max_delete(101, PlanOptions()) == 31
    assert max_delete(100, PlanOptions(max_delete=0)) == 0


def test_deletions_come_last_namespace_after_its_contents() -> None:
    ns = manifest(NAMESPACE)
    ns_key = ObjectKey("", "Namespace", "", "web")
    deployment, keep = manifest(), manifest(CONFIGMAP.replace("web", "other"))
    inputs = PlanInputs(
        stack=STACK,
        desired=(desired(keep),),
        recorded={
            ns_key: RecordedObject(ns_key, normalize(ns, KEY)),
            recorded(deployment).key: recorded(deployment),
        },
        live={
            ns_key: LiveObject(ns_key, server_form(ns)),
            recorded(deployment).key: live(server_form(deployment)),
        },
        namespace_contents={"web": (ContainedObject(recorded(deployment).key, STACK),)},
    )
    plan = compute_plan(inputs, source=SOURCE, serial=1, lineage="l", options=PlanOptions())
    assert [(c.action, c.key.kind) for c in plan.changes] == [
        (Action.CREATE, "ConfigMap"),
        (Action.DELETE, "Deployment"),
        (Action.DELETE, "Namespace"),
    ]
