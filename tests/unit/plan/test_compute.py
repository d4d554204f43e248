"""compute_plan: every row of the three-way table, causes, rails and order, without a cluster."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
import yaml

from kgit.errors import PlanError
from kgit.manifests.keys import ObjectKey, key_of
from kgit.manifests.normalize import normalize, object_digest, prepare_desired
from kgit.plan.compute import compute_candidates, compute_plan
from kgit.plan.inputs import (
    DesiredObject,
    DryRun,
    LiveObject,
    PlanInputs,
    PlanOptions,
    RecordedObject,
)
from kgit.plan.model import Action, Cause, ChangeReason, FieldOp, PlanSource, Reason
from kgit.plan.rules import IgnoreRule
from kgit.render.common import change_notes

pytestmark = pytest.mark.unit

KEY = b"k" * 32
STACK = "web"
SOURCE = PlanSource(url="file:///repo", commit="a" * 40, paths=("workloads",))

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: nginx, namespace: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
        - name: nginx
          image: nginx:v1
          resources: {limits: {cpu: 1000m}}
          ports: [{containerPort: 80}]
"""


def manifest(text: str = DEPLOYMENT, **changes: Any) -> dict[str, Any]:
    obj = prepare_desired(yaml.safe_load(text), STACK)
    for path, value in changes.items():
        node: Any = obj
        *parents, last = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return obj


def desired(obj: dict[str, Any]) -> DesiredObject:
    masked = normalize(obj, KEY)
    return DesiredObject(key_of(obj, namespaced=True), masked, "w.yaml:1", object_digest(masked))


def recorded(obj: dict[str, Any]) -> RecordedObject:
    return RecordedObject(key_of(obj, namespaced=True), normalize(obj, KEY))


def server_form(obj: dict[str, Any], *, manager: str = "kgit", rv: str = "7") -> dict[str, Any]:
    """What the API server stores: defaults added, quantities canonical, metadata set."""
    live = copy.deepcopy(obj)
    live["metadata"].update(
        uid="u-1",
        resourceVersion=rv,
        generation=1,
        creationTimestamp="2026-11-25T07:00:00Z",
        managedFields=[
            {
                "manager": manager,
                "operation": "Apply",
                "time": "2026-11-25T07:00:00Z",
                "fieldsV1": {"f:spec": {"f:replicas": {}}},
            }
        ],
    )
    spec = live.get("spec", {})
    if "template" in spec:
        spec["progressDeadlineSeconds"] = 600
        for c in spec["template"]["spec"]["containers"]:
            c["terminationMessagePath"] = "/dev/termination-log"
            c["imagePullPolicy"] = "IfNotPresent"
            for port in c.get("ports", []):
                port["protocol"] = "TCP"
            limits = c.get("resources", {}).get("limits", {})
            if limits.get("cpu") == "1000m":
                limits["cpu"] = "1"
    live["status"] = {"replicas": 2}
    return live


def live(obj: dict[str, Any]) -> LiveObject:
    return LiveObject(key_of(obj, namespaced=True), obj)


def plan_of(
    g: list[dict[str, Any]],
    r: list[dict[str, Any]],
    l_: list[dict[str, Any]],
    dry: dict[ObjectKey, DryRun] | None = None,
    options: PlanOptions | None = None,
    rules: tuple[IgnoreRule, ...] = (),
    unlisted: frozenset[tuple[str, str]] = frozenset(),
    auto_dry_run: bool = True,
) -> Any:
    inputs = PlanInputs(
        stack=STACK,
        desired=tuple(desired(o) for o in g),
        recorded={recorded(o).key: recorded(o) for o in r},
        live={live(o).key: live(o) for o in l_},
        unlisted_kinds=unlisted,
    )
    if auto_dry_run and dry is None:
        # Stand in for the server: the dry-run of a desired object is its server form
        # merged over the live object.
        dry = {}
        for key in compute_candidates(inputs, rules):
            want = next(o for o in g if key_of(o, namespaced=True) == key)
            result = server_form(want)
            dry[key] = DryRun(key, normalize(result, KEY))
    inputs = PlanInputs(
        stack=inputs.stack,
        desired=inputs.desired,
        recorded=inputs.recorded,
        live=inputs.live,
        dry_runs=dry or {},
        unlisted_kinds=unlisted,
    )
    return compute_plan(
        inputs, source=SOURCE, serial=3, lineage="l", options=options or PlanOptions(), rules=rules
    )


def test_create_when_only_in_git() -> None:
    plan = plan_of([manifest()], [], [])
    (change,) = plan.changes
    assert change.action is Action.CREATE
    assert change.reasons == ()
    paths = {f.path for f in change.fields}
    assert "spec.template.spec.containers[name=nginx].image" in paths
    assert 'metadata.labels["kgit.dev/stack"]' in paths
    assert all(f.op is FieldOp.ADD for f in change.fields)


def test_create_marks_objects_deleted_out_of_band() -> None:
    plan = plan_of([manifest()], [manifest()], [])
    (change,) = plan.changes
    assert change.action is Action.CREATE
    assert change.reasons == (ChangeReason(Reason.DRIFT_DELETED),)
    assert change_notes(change) == ("drift: deleted out of band",)
    assert change.drifted


def test_create_of_an_object_recorded_ahead_by_an_interrupted_apply_is_not_drift() -> None:
    obj = manifest()
    inputs = PlanInputs(
        stack=STACK,
        desired=(desired(obj),),
        recorded={recorded(obj).key: dataclasses.replace(recorded(obj), pending=True)},
        live={},
    )
    plan = compute_plan(inputs, source=SOURCE, serial=3, lineage="l", options=PlanOptions())
    (change,) = plan.changes
    assert change.action is Action.CREATE
    assert change.reasons == (ChangeReason(Reason.PENDING),)
    assert change_notes(change) == (
        "an earlier apply did not confirm this object (interrupted, or it failed)",
    )
    assert not change.drifted


def test_an_unconfirmed_record_does_not_make_a_foreign_object_ours() -> None:
    # An apply recorded the object ahead, never created it; someone else did, unlabelled.
    obj = manifest()
    theirs = server_form(manifest(spec__replicas=3))
    del theirs["metadata"]["labels"]
    pending = dataclasses.replace(recorded(obj), pending=True)
    inputs = PlanInputs(
        stack=STACK,
        desired=(desired(obj),),
        recorded={pending.key: pending},
        live={live(theirs).key: live(theirs)},
        dry_runs={pending.key: DryRun(pending.key, normalize(server_form(obj), KEY))},
    )
    plan = compute_plan(inputs, source=SOURCE, serial=3, lineage="l", options=PlanOptions())
    (change,) = plan.changes
    assert change.action is Action.ADOPT
    confirmed = dataclasses.replace(pending, uid="u-1")
    inputs = dataclasses.replace(inputs, recorded={pending.key: confirmed})
    plan = compute_plan(inputs, source=SOURCE, serial=3, lineage="l", options=PlanOptions())
    assert [c.action for c in plan.changes] == [Action.UPDATE]


def test_no_change_despite_server_defaults_and_quantities() -> None:
    obj = manifest()
    plan = plan_of([obj], [obj], [server_form(obj)])
    assert plan.changes == ()
    assert plan.unchanged == 1
    assert not plan.has_changes


def test_unchanged_object_needs_no_dry_run() -> None:
    obj = manifest()
    inputs = PlanInputs(
        stack=STACK,
        desired=(desired(obj),),
        recorded={recorded(obj).key: recorded(obj)},
        live={live(server_form(obj)).key: live(server_form(obj))},
    )
    assert compute_candidates(inputs) == set()


def test_git_change_is_an_update_caused_by_git() -> None:
    old = manifest()
    new = manifest(spec__template__spec__containers__0__image="nginx:v2")
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:v2"
    plan = plan_of([new], [old], [server_form(old)])
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    (field,) = change.fields
    assert field.path == "spec.template.spec.containers[name=nginx].image"
    assert (field.op, field.before, field.after, field.cause) == (
        FieldOp.CHANGE,
        "nginx:v1",
        "nginx:v2",
        Cause.GIT,
    )


def test_drift_names_the_manager() -> None:
    obj = manifest()
    drifted = server_form(obj, manager="kubectl-edit")
    drifted["spec"]["replicas"] = 5
    plan = plan_of([obj], [obj], [drifted])
    (change,) = plan.changes
    (field,) = change.fields
    assert (field.path, field.before, field.after) == ("spec.replicas", 5, 2)
    assert field.cause is Cause.DRIFT
    assert field.manager == "kubectl-edit"
    assert field.managed_at == "2026-11-25T07:00:00Z"


def test_both_when_git_and_cluster_moved() -> None:
    old = manifest()
    new = manifest(spec__replicas=3)
    drifted = server_form(old, manager="kubectl-scale")
    drifted["spec"]["replicas"] = 5
    plan = plan_of([new], [old], [drifted])
    (field,) = plan.changes[0].fields
    assert field.cause is Cause.BOTH
    assert (field.before, field.after) == (5, 3)


def test_field_dropped_from_git_is_removed() -> None:
    old = manifest()
    old["metadata"]["labels"]["team"] = "a"
    new = manifest()
    live_obj = server_form(old)
    plan = plan_of([new], [old], [live_obj])
    (field,) = plan.changes[0].fields
    assert (field.path, field.op, field.before) == ("metadata.labels.team", FieldOp.REMOVE, "a")


def test_adopt_when_live_is_not_ours() -> None:
    obj = manifest()
    foreign = server_form(obj)
    del foreign["metadata"]["labels"]["kgit.dev/stack"]
    plan = plan_of([obj], [], [foreign])
    (change,) = plan.changes
    assert change.action is Action.ADOPT
    assert [f.path for f in change.fields] == ['metadata.labels["kgit.dev/stack"]']
    assert any("--adopt" in w for w in plan.warnings)


def test_ours_but_unrecorded_is_an_update_not_an_adoption() -> None:
    obj = manifest()
    plan = plan_of([obj], [], [server_form(obj)])
    assert plan.changes == ()


def test_immutable_change_is_a_replace() -> None:
    old = manifest()
    new = manifest()
    new["spec"]["selector"]["matchLabels"]["app"] = "web"
    key = key_of(new, namespaced=True)
    dry = {key: DryRun(key, immutable=("spec.selector",))}
    plan = plan_of([new], [old], [server_form(old)], dry=dry)
    (change,) = plan.changes
    assert change.action is Action.REPLACE
    assert change.reasons == (ChangeReason(Reason.IMMUTABLE, paths=("spec.selector",)),)
    assert change_notes(change) == ("immutable: spec.selector",)
    assert plan.summary.add == 1 and plan.summary.delete == 1


def test_delete_only_what_carries_our_label() -> None:
    obj = manifest()
    plan = plan_of(
        [manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: web}")],
        [obj],
        [server_form(obj)],
    )
    assert [c.action for c in plan.changes] == [Action.CREATE, Action.DELETE]
    assert plan.changes[1].live_resource_version == "7"


def test_forget_when_label_removed_or_already_gone() -> None:
    a = manifest()
    b = manifest()
    b["metadata"]["name"] = "other"
    unlabelled = server_form(a)
    del unlabelled["metadata"]["labels"]["kgit.dev/stack"]
    keep = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: web}")
    plan = plan_of([keep], [a, b], [unlabelled])
    actions = {c.key.name: c.action for c in plan.changes}
    assert actions == {"keep": Action.CREATE, "nginx": Action.FORGET, "other": Action.FORGET}
    assert any("no longer labelled" in w for w in plan.warnings)


def test_empty_desired_set_never_prunes() -> None:
    obj = manifest()
    with pytest.raises(PlanError, match="desired set is empty"):
        plan_of([], [obj], [server_form(obj)])
    plan = plan_of([], [obj], [server_form(obj)], options=PlanOptions(allow_empty=True))
    assert [c.action for c in plan.changes] == [Action.DELETE]


def test_mass_deletion_needs_max_delete() -> None:
    objs = []
    for n in range(30):
        o = manifest()
        o["metadata"]["name"] = f"n{n}"
        objs.append(o)
    keep = objs[:10]
    with pytest.raises(PlanError, match="more than the limit of 10"):
        plan_of(keep, objs, [server_form(o) for o in objs])
    plan = plan_of(keep, objs, [server_form(o) for o in objs], options=PlanOptions(max_delete=20))
    assert plan.summary.delete == 20


def test_unlisted_kind_is_not_pruned() -> None:
    obj = manifest()
    keep = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: web}")
    plan = plan_of([keep], [obj], [], unlisted=frozenset({("apps", "Deployment")}))
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert any("not pruned" in w for w in plan.warnings)


def test_dry_run_error_fails_the_plan_naming_file_and_object() -> None:
    obj = manifest()
    key = key_of(obj, namespaced=True)
    dry = {key: DryRun(key, error="Deployment/web/nginx: dry-run failed (Invalid): bad")}
    with pytest.raises(
        PlanError, match=r"w.yaml:1: Deployment/web/nginx: dry-run failed \(Invalid\)"
    ):
        plan_of([obj], [], [], dry=dry)


def test_ignore_rules_hide_fields() -> None:
    obj = manifest()
    drifted = server_form(obj, manager="hpa")
    drifted["spec"]["replicas"] = 9
    rule = IgnoreRule(fields=("spec.replicas",), kind="Deployment", reason="HPA")
    plan = plan_of([obj], [obj], [drifted], rules=(rule,))
    assert plan.changes == ()
    assert plan.ignored == ("spec.replicas of Deployment (HPA)",)


def test_secret_values_are_digests_in_the_plan() -> None:
    secret = manifest(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: web}\n"
        "stringData: {password: canary-123}"
    )
    plan = plan_of([secret], [], [])
    (change,) = plan.changes
    data = [f for f in change.fields if f.path.startswith("data")]
    assert data and all(f.sensitive for f in data)
    assert "canary-123" not in repr(plan)


def test_changes_come_in_apply_order() -> None:
    ns = manifest("apiVersion: v1\nkind: Namespace\nmetadata: {name: web}")
    ns["metadata"].pop("namespace", None)
    cm = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: web}")
    inputs = PlanInputs(
        stack=STACK,
        desired=(
            desired(manifest()),
            desired(cm),
            DesiredObject(ObjectKey("", "Namespace", "", "web"), ns, "n.yaml:1", "d"),
        ),
        recorded={},
        live={},
    )
    plan = compute_plan(inputs, source=SOURCE, serial=0, lineage="l", options=PlanOptions())
    assert [c.key.kind for c in plan.changes] == ["Namespace", "ConfigMap", "Deployment"]
