"""What a Namespace delete takes with it: refused while in Git or not owned, listed with
--allow-cascade, refused when its contents could not be listed."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest
from test_compute import KEY, SOURCE, STACK, desired, live, manifest, recorded, server_form

from kgit.errors import PlanError
from kgit.manifests.keys import ObjectKey, key_of
from kgit.manifests.normalize import normalize
from kgit.plan.cascade import compute_cascade, is_derived
from kgit.plan.compute import compute_plan
from kgit.plan.inputs import ContainedObject, LiveObject, PlanInputs, PlanOptions, RecordedObject
from kgit.plan.model import Action, CascadeDelete, Plan
from kgit.plan.store import load_plan_schema, plan_from_json, plan_to_dict, plan_to_json
from kgit.render import render_markdown, render_text
from kgit.render.common import render_summary_line

pytestmark = pytest.mark.unit

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}"
NS_KEY = ObjectKey("", "Namespace", "", "web")
HANDMADE = ObjectKey("", "ConfigMap", "web", "handmade")
OTHERS = ObjectKey("", "Service", "web", "theirs")


def inputs_deleting_web(
    *contents: ContainedObject, keep_deployment: bool = False, unlisted: str = ""
) -> PlanInputs:
    """The stack had Namespace/web and Deployment/web/nginx; Git drops the Namespace."""
    ns, deployment = manifest(NAMESPACE), manifest()
    dep_key = key_of(deployment, namespaced=True)
    return PlanInputs(
        stack=STACK,
        desired=(desired(deployment),) if keep_deployment else (),
        recorded={
            NS_KEY: RecordedObject(NS_KEY, normalize(ns, KEY)),
            dep_key: recorded(deployment),
        },
        live={NS_KEY: LiveObject(NS_KEY, server_form(ns)), dep_key: live(server_form(deployment))},
        namespace_contents={"web": (ContainedObject(dep_key, STACK), *contents)},
        namespace_unlisted={"web": unlisted} if unlisted else {},
    )


def plan(inputs: PlanInputs, *, allow_cascade: bool = False) -> Plan:
    return compute_plan(
        inputs,
        source=SOURCE,
        serial=1,
        lineage="l",
        options=PlanOptions(allow_empty=True, allow_cascade=allow_cascade),
    )


def test_deleting_a_namespace_whose_objects_are_still_in_git_is_refused() -> None:
    with pytest.raises(PlanError) as caught:
        plan(inputs_deleting_web(keep_deployment=True))
    assert "Namespace/web is removed from Git but Deployment/web/nginx is still in Git" in str(
        caught.value
    )


def test_the_stacks_own_objects_deleted_with_it_are_fine() -> None:
    done = plan(inputs_deleting_web())
    assert [(c.action, c.key.kind) for c in done.changes] == [
        (Action.DELETE, "Deployment"),
        (Action.DELETE, "Namespace"),
    ]
    assert done.cascade == ()
    assert render_summary_line(done) == "Plan: 0 to add, 0 to change, 2 to delete."


def test_objects_not_owned_refuse_the_plan_unless_allowed() -> None:
    contents = (ContainedObject(HANDMADE), ContainedObject(OTHERS, "shop"))
    with pytest.raises(PlanError) as caught:
        plan(inputs_deleting_web(*contents))
    assert (
        "Namespace/web: deleting it would also delete 2 objects not owned by this stack "
        "(ConfigMap/web/handmade, Service/web/theirs); move or delete them first, or plan "
        "with --allow-cascade"
    ) in str(caught.value)

    done = plan(inputs_deleting_web(*contents), allow_cascade=True)
    assert done.cascade == (CascadeDelete(HANDMADE), CascadeDelete(OTHERS, "shop"))
    assert done.options.allow_cascade
    assert render_summary_line(done) == (
        "Plan: 0 to add, 0 to change, 2 to delete (and 2 objects not owned by this stack "
        "deleted with Namespace/web)."
    )
    text = render_text(done, color=False)
    assert "  - ConfigMap/web/handmade (not created by kgit)" in text
    assert '  - Service/web/theirs (owned by stack "shop")' in text
    markdown = render_markdown(done)
    assert (
        "> - `ConfigMap/web/handmade` will be deleted with `Namespace/web` (not created by kgit)"
        in markdown
    )


def test_what_the_control_plane_makes_in_every_namespace_does_not_count() -> None:
    derived = (
        ContainedObject(ObjectKey("", "ServiceAccount", "web", "default")),
        ContainedObject(ObjectKey("", "ConfigMap", "web", "kube-root-ca.crt")),
        ContainedObject(ObjectKey("events.k8s.io", "Event", "web", "nginx.1")),
        ContainedObject(ObjectKey("apps", "ReplicaSet", "web", "nginx-5d"), owned=True),
    )
    assert all(is_derived(item) for item in derived)
    assert plan(inputs_deleting_web(*derived)).cascade == ()


def test_a_namespace_whose_contents_could_not_be_listed_is_not_deleted() -> None:
    with pytest.raises(PlanError, match="Namespace/web: not everything inside it could be listed"):
        plan(inputs_deleting_web(unlisted="Widget: forbidden"), allow_cascade=True)
    no_contents = dataclasses.replace(inputs_deleting_web(), namespace_contents={})
    with pytest.raises(PlanError, match="absent from an answer is not absent"):
        plan(no_contents)


def test_no_namespace_deleted_no_cascade() -> None:
    result = compute_cascade(inputs_deleting_web(), (), PlanOptions())
    assert result.deletes == () and result.errors == ()


def test_the_cascade_is_kept_in_the_plan_file() -> None:
    contents = (ContainedObject(HANDMADE), ContainedObject(OTHERS, "shop"))
    done = plan(inputs_deleting_web(*contents), allow_cascade=True)
    data = plan_to_dict(done)
    jsonschema.validate(data, load_plan_schema())
    assert data["cascade"] == [
        {"key": "/ConfigMap/web/handmade", "stack": ""},
        {"key": "/Service/web/theirs", "stack": "shop"},
    ]
    assert plan_from_json(plan_to_json(done)) == done
    # A plan without a cascade writes neither it nor the new options (digests stay).
    plain = plan_to_dict(plan(inputs_deleting_web()))
    assert "cascade" not in plain and "allow_cascade" not in plain["options"]
