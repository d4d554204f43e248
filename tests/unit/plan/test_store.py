"""The plan file: round trip, schema, version refusal, clear errors, digest, atomic write."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgit.errors import PlanFileError
from kgit.manifests.keys import ObjectKey
from kgit.plan.decode import plan_from_dict
from kgit.plan.inputs import PlanOptions
from kgit.plan.model import (
    FORMAT_VERSION,
    Action,
    Cause,
    ChangeReason,
    FieldChange,
    FieldOp,
    ObjectChange,
    PathRead,
    Plan,
    PlanSource,
    Reason,
)
from kgit.plan.store import (
    default_plan_path,
    load_plan_schema,
    plan_digest,
    plan_from_json,
    plan_to_dict,
    plan_to_json,
    read_plan,
    write_plan,
)

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def rich_plan() -> Plan:
    """A plan using every action, op, cause, reason, optional field and some unicode."""
    return Plan(
        stack="web",
        source=PlanSource(
            url="https://git.example/platform.git",
            commit="1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
            paths=("namespaces", "workloads"),
            ref="main",
            dirty=True,
            recorded_paths=("manifests",),
        ),
        state_serial=7,
        state_lineage="5f0c6c1e-8f1a-4b9e-9d55-0c2f1b7e4a11",
        changes=(
            ObjectChange(
                ObjectKey("", "Namespace", "", "web"),
                Action.CREATE,
                "v1",
                fields=(FieldChange("metadata.name", FieldOp.ADD, after="web"),),
                desired_digest="sha256:" + "1" * 64,
                source="namespaces/web.yaml",
                reasons=(ChangeReason(Reason.CRD_PENDING), ChangeReason(Reason.DRIFT_DELETED)),
            ),
            ObjectChange(
                ObjectKey("apps", "Deployment", "web", "nginx"),
                Action.UPDATE,
                "apps/v1",
                fields=(
                    FieldChange(
                        "spec.replicas", FieldOp.CHANGE, 3, 2, Cause.DRIFT, "kubectl", "t0"
                    ),
                    FieldChange("spec.x", FieldOp.CHANGE, None, {"a": [1, 2.5, None]}, Cause.BOTH),
                    FieldChange(
                        "metadata.annotations[note]", FieldOp.REMOVE, "ünïcødé ✓", cause=Cause.GIT
                    ),
                ),
                live_resource_version="42",
                desired_digest="sha256:" + "2" * 64,
                reasons=(ChangeReason(Reason.PENDING),),
            ),
            ObjectChange(
                ObjectKey("", "Secret", "web", "db"),
                Action.REPLACE,
                "v1",
                fields=(
                    FieldChange("data[pw]", FieldOp.CHANGE, "hmac:aa", "hmac:bb", sensitive=True),
                ),
                reasons=(ChangeReason(Reason.IMMUTABLE, paths=("type", "data[pw]")),),
            ),
            ObjectChange(ObjectKey("", "Service", "web", "old"), Action.DELETE, "v1"),
            ObjectChange(
                ObjectKey("", "ConfigMap", "web", "x"),
                Action.ADOPT,
                "v1",
                reasons=(ChangeReason(Reason.ADOPT),),
            ),
            ObjectChange(
                ObjectKey("", "ConfigMap", "web", "y"),
                Action.FORGET,
                "v1",
                reasons=(ChangeReason(Reason.NOT_OWNED),),
            ),
            ObjectChange(
                ObjectKey("", "ConfigMap", "web", "w"),
                Action.FORGET,
                "v1",
                reasons=(ChangeReason(Reason.GONE),),
            ),
            ObjectChange(ObjectKey("", "ConfigMap", "web", "z"), Action.NOOP, "v1"),
            ObjectChange(
                ObjectKey("", "ConfigMap", "web", "o"),
                Action.ADOPT,
                "v1",
                reasons=(ChangeReason(Reason.OWNED, stack="a"),),
            ),
            ObjectChange(
                ObjectKey("", "ConfigMap", "web", "t"),
                Action.ADOPT,
                "v1",
                reasons=(ChangeReason(Reason.TAKE_OVER, stack="a"),),
            ),
            ObjectChange(
                ObjectKey("", "ConfigMap", "web", "u"),
                Action.FORGET,
                "v1",
                reasons=(ChangeReason(Reason.TAKEN_OVER, stack="b"),),
            ),
        ),
        unchanged=5,
        warnings=("a warning",),
        ignored=("spec.replicas of Deployment",),
        created_at="2026-11-25T07:00:00Z",
        options=PlanOptions(
            adopt=True,
            max_delete=None,
            default_namespace="apps",
            state_namespace="kgit-ops",
            take_over_from="a",
            allow_source_change=True,
        ),
    )


def minimal_doc() -> dict[str, Any]:
    """The smallest plan file the reader accepts: only the required fields."""
    return {
        "format_version": FORMAT_VERSION,
        "stack": "web",
        "source": {"url": "u", "commit": "c", "paths": []},
        "state_serial": 0,
        "state_lineage": "",
        "changes": [{"key": "/ConfigMap/web/a", "action": "create", "api_version": "v1"}],
    }


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_plan_schema())


# --- round trip and format -------------------------------------------------------------


def test_round_trip_is_equal() -> None:
    plan = rich_plan()
    assert plan_from_json(plan_to_json(plan)) == plan
    assert plan_from_dict(plan_to_dict(plan)) == plan


def test_json_is_canonical() -> None:
    text = plan_to_json(rich_plan())
    assert text.endswith("}\n")
    assert text.startswith('{\n  "changes": [\n')
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "ünïcødé" in text


def test_keys_and_enums_are_stored_as_strings() -> None:
    data = plan_to_dict(rich_plan())
    keys = [c["key"] for c in data["changes"]]
    assert keys[:2] == ["/Namespace//web", "apps/Deployment/web/nginx"]
    assert [c["action"] for c in data["changes"]] == [
        "create",
        "update",
        "replace",
        "delete",
        "adopt",
        "forget",
        "forget",
        "no-op",
        "adopt",
        "adopt",
        "forget",
    ]
    assert data["changes"][1]["fields"][0]["cause"] == "drift"
    assert [r["reason"] for c in data["changes"] for r in c["reasons"]] == [
        "crd-pending",
        "drift-deleted",
        "pending",
        "immutable",
        "adopt",
        "not-owned",
        "gone",
        "owned",
        "take-over",
        "taken-over",
    ]


def test_only_an_immutable_reason_writes_paths_and_ownership_reasons_a_stack() -> None:
    data = plan_to_dict(rich_plan())
    reasons = [r for c in data["changes"] for r in c["reasons"]]
    assert reasons[3] == {"reason": "immutable", "paths": ["type", "data[pw]"]}
    assert reasons[-3:] == [
        {"reason": "owned", "stack": "a"},
        {"reason": "take-over", "stack": "a"},
        {"reason": "taken-over", "stack": "b"},
    ]
    assert all(set(r) == {"reason"} for r in reasons[:3] + reasons[4:-3])


def test_options_are_written_whole() -> None:
    assert plan_to_dict(rich_plan())["options"] == {
        "adopt": True,
        "allow_empty": False,
        "max_delete": None,
        "default_namespace": "apps",
        "state_namespace": "kgit-ops",
        "take_over_from": "a",
        "allow_source_change": True,
    }


def test_absent_sides_are_omitted_never_null() -> None:
    fields = [f for c in plan_to_dict(rich_plan())["changes"] for f in c["fields"]]
    by_op = {f["op"]: f for f in fields}
    assert "before" not in by_op["add"]
    assert "after" not in by_op["remove"]
    # A change from the value null keeps its null: it is a value, not an absence.
    change_from_null = fields[2]
    assert change_from_null["before"] is None
    assert "after" in change_from_null


def test_optional_fields_take_model_defaults() -> None:
    plan = plan_from_dict(minimal_doc())
    assert plan.unchanged == 0
    assert plan.warnings == ()
    assert plan.options == PlanOptions()
    assert plan.source.ref == ""
    assert plan.source.dirty is False
    change = plan.changes[0]
    assert change.key == ObjectKey("", "ConfigMap", "web", "a")
    assert change.fields == ()
    assert change.reasons == ()


# --- the schema --------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_plan_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_written_plans_validate_against_the_schema() -> None:
    validator().validate(json.loads(plan_to_json(rich_plan())))
    validator().validate(minimal_doc())


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_golden_plans_validate_against_the_schema(case: str) -> None:
    validator().validate(json.loads((GOLDEN / case / "plan.json").read_text(encoding="utf-8")))


def _reasons(*reasons: dict[str, Any]) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def edit(doc: dict[str, Any], _field: dict[str, Any]) -> None:
        doc["changes"][0]["reasons"] = list(reasons)

    return edit


def _top(key: str, value: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def edit(doc: dict[str, Any], _field: dict[str, Any]) -> None:
        doc[key] = value

    return edit


def _change(key: str, value: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def edit(doc: dict[str, Any], _field: dict[str, Any]) -> None:
        doc["changes"][0][key] = value

    return edit


# Each edit breaks a valid plan file in one way; field is its one field change.
BROKEN: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "add with before": lambda _doc, field: field.update(before=1),
    "remove with after": lambda _doc, field: field.update(op="remove", before=1),
    "change without before": lambda _doc, field: field.update(op="change"),
    "unknown top-level field": _top("extra", 1),
    "bad action": _change("action", "destroy"),
    "bad key": _change("key", "ConfigMap/a"),
    "bool as serial": _top("state_serial", True),
    "negative unchanged": _top("unchanged", -1),
    "missing stack": lambda doc, _field: doc.pop("stack"),
    "bad reason": _reasons({"reason": "because"}),
    "immutable without paths": _reasons({"reason": "immutable"}),
    "immutable with no path": _reasons({"reason": "immutable", "paths": []}),
    "paths on a reason without": _reasons({"reason": "gone", "paths": ["spec"]}),
    "unknown option": _top("options", {"allow_replace": True}),
    "negative max_delete": _top("options", {"max_delete": -1}),
}


def _broken(edit: str) -> dict[str, Any]:
    doc = copy.deepcopy(minimal_doc())
    field: dict[str, Any] = {"path": "p", "op": "add", "after": 1}
    doc["changes"][0]["fields"] = [field]
    BROKEN[edit](doc, field)
    return doc


@pytest.mark.parametrize("edit", sorted(BROKEN))
def test_schema_and_reader_refuse_the_same_files(edit: str) -> None:
    doc = _broken(edit)
    assert not validator().is_valid(doc)
    with pytest.raises(PlanFileError):
        plan_from_dict(doc, name="p.json")


# --- refusals and errors -----------------------------------------------------------------


def test_another_format_version_is_refused() -> None:
    doc = plan_to_dict(rich_plan())
    doc["format_version"] = 7
    with pytest.raises(PlanFileError) as err:
        plan_from_json(json.dumps(doc), name="plans/x.json")
    assert str(err.value) == (
        "plans/x.json: plan format version 7 is not supported by this kgit (reads 2)"
    )


def test_version_is_checked_before_anything_else() -> None:
    # A future format may look entirely different: say "version", not "missing field".
    with pytest.raises(PlanFileError, match="plan format version 3 is not supported"):
        plan_from_json('{"format_version": 3, "whatever": []}')


def test_a_format_1_file_is_refused_as_older() -> None:
    # Its reasons were prose and its options untyped: refused, never converted.
    doc = {**minimal_doc(), "format_version": 1, "options": {"allow_replace": True}}
    doc["changes"][0]["notes"] = ["drift: deleted out of band"]
    with pytest.raises(PlanFileError) as err:
        plan_from_json(json.dumps(doc), name="plans/x.json")
    assert str(err.value) == "plans/x.json: plan file format 1 is from an older kgit; plan again"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^p\.json: not valid JSON \(line 1 column 1: Expecting value\)$"),
        ('{"format_version": 1,', r"^p\.json: not valid JSON \(line 1 column 22: "),
        ("[1, 2]", r"^p\.json: not a plan file \(expected a JSON object, got an array\)$"),
        ("{}", r"^p\.json: missing field 'format_version' \(not a kgit plan file\?\)$"),
        ('{"format_version": "1"}', r"^p\.json: format_version: expected an integer, got a string"),
        ('{"format_version": NaN}', r"^p\.json: not valid JSON \(NaN is not a JSON value\)$"),
        # Valid JSON that reads as infinity: no plan holds it, and none could be written back.
        ('{"format_version": 1e999}', r"^p\.json: not valid JSON \(1e999 is out of range\)$"),
    ],
)
def test_malformed_text_names_file_and_problem(text: str, message: str) -> None:
    with pytest.raises(PlanFileError, match=message):
        plan_from_json(text, name="p.json")


def test_absurd_nesting_is_a_plan_file_error() -> None:
    with pytest.raises(PlanFileError, match="nested too deeply"):
        plan_from_json("[" * 100_000 + "]" * 100_000, name="p.json")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("missing stack", "p.json: missing field 'stack'"),
        ("bad action", "p.json: changes[0].action: expected one of create, update, delete"),
        ("bad key", "p.json: changes[0].key: 'ConfigMap/a' is not an object key"),
        ("bool as serial", "p.json: state_serial: expected an integer, got a boolean (true)"),
        ("add with before", "p.json: changes[0].fields[0].before: not allowed for op 'add'"),
        ("remove with after", "p.json: changes[0].fields[0].after: not allowed for op 'remove'"),
        ("change without before", "p.json: changes[0].fields[0]: missing field 'before'"),
        ("unknown top-level field", "p.json: unknown field 'extra'"),
        ("negative unchanged", "p.json: unchanged: expected a count (>= 0), got -1"),
        ("bad reason", "p.json: changes[0].reasons[0].reason: expected one of adopt, "),
        ("immutable without paths", "p.json: changes[0].reasons[0]: missing field 'paths'"),
        (
            "immutable with no path",
            "p.json: changes[0].reasons[0].paths: reason 'immutable' names at least one field",
        ),
        (
            "paths on a reason without",
            "p.json: changes[0].reasons[0].paths: not allowed for reason 'gone'",
        ),
        ("unknown option", "p.json: options: unknown field 'allow_replace'"),
        ("negative max_delete", "p.json: options.max_delete: expected a count (>= 0), got -1"),
    ],
)
def test_malformed_fields_name_the_field(edit: str, message: str) -> None:
    with pytest.raises(PlanFileError) as err:
        plan_from_dict(_broken(edit), name="p.json")
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("source",), "here", "source: expected an object, got a string"),
        (("source", "paths"), ["a", 1], "source.paths[1]: expected a string, got an integer (1)"),
        (("source", "dirty"), "yes", "source.dirty: expected true or false"),
        (("changes",), {}, "changes: expected an array, got an object"),
        (("changes", 0), 5, "changes[0]: expected an object, got an integer"),
        (("warnings",), "w", "warnings: expected an array"),
        (("options",), [], "options: expected an object, got an array"),
        (("options",), {"adopt": "yes"}, "options.adopt: expected true or false"),
        (("options",), {"max_delete": 1.5}, "options.max_delete: expected an integer"),
        (("options",), {"state_namespace": 1}, "options.state_namespace: expected a string or"),
        (("changes", 0, "reasons"), [{}], "changes[0].reasons[0]: missing field 'reason'"),
        (
            ("changes", 0, "reasons"),
            [{"reason": "immutable", "paths": [1]}],
            "changes[0].reasons[0].paths[0]: expected a string, got an integer (1)",
        ),
    ],
)
def test_wrong_types_name_the_field(path: tuple[Any, ...], value: Any, message: str) -> None:
    doc = minimal_doc()
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(PlanFileError, match="^" + re.escape("p.json: " + message)):
        plan_from_dict(doc, name="p.json")


def test_field_errors_inside_fields_have_a_full_path() -> None:
    doc = minimal_doc()
    doc["changes"][0]["fields"] = [{"path": "p", "op": "add", "after": 1, "cause": "gut"}]
    with pytest.raises(
        PlanFileError, match=r"changes\[0\]\.fields\[0\]\.cause: expected one of git"
    ):
        plan_from_dict(doc, name="p.json")
    doc["changes"][0]["fields"] = [{"path": "p", "op": "add", "after": 1, "manager": 3}]
    with pytest.raises(PlanFileError, match=r"fields\[0\]\.manager: expected a string or null"):
        plan_from_dict(doc, name="p.json")


# --- digest ------------------------------------------------------------------------------


def test_digest_is_sha256_of_the_file_text() -> None:
    plan = rich_plan()
    digest = plan_digest(plan)
    assert len(digest) == 64
    assert digest == hashlib.sha256(plan_to_json(plan).encode("utf-8")).hexdigest()
    assert digest == plan_digest(plan_from_json(plan_to_json(plan)))


def test_digest_ignores_dict_order_but_not_content() -> None:
    plan = rich_plan()

    def with_value(value: dict[str, Any]) -> Plan:
        added = FieldChange("data", FieldOp.ADD, after=value)
        change = ObjectChange(ObjectKey("", "ConfigMap", "web", "v"), Action.CREATE, "v1", (added,))
        return dataclasses.replace(plan, changes=(*plan.changes, change))

    value = {"a": 1, "b": [2]}
    reordered = dict(reversed(list(value.items())))
    assert plan_digest(with_value(reordered)) == plan_digest(with_value(value))
    tampered = Plan(**{**_fields(plan), "state_serial": plan.state_serial + 1})
    assert plan_digest(tampered) != plan_digest(plan)


def test_digest_is_stable_across_releases() -> None:
    # Recorded in the state history: a change here breaks comparing old entries.
    text = (GOLDEN / "no_changes" / "plan.json").read_text(encoding="utf-8")
    assert plan_digest(plan_from_json(text)) == hashlib.sha256(text.encode()).hexdigest()


def _fields(plan: Plan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in Plan.__slots__}


# --- files -------------------------------------------------------------------------------


def test_write_then_read(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "plans" / "web.json"
    write_plan(rich_plan(), path)
    assert read_plan(path) == rich_plan()
    assert path.read_text(encoding="utf-8") == plan_to_json(rich_plan())
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["web.json"]


def test_write_replaces_an_existing_plan(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("old", encoding="utf-8")
    write_plan(rich_plan(), path)
    assert read_plan(path) == rich_plan()
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_write_failure_is_a_plan_file_error_and_leaves_no_temp(tmp_path: Path) -> None:
    blocker = tmp_path / "plans"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(PlanFileError, match=r"plans/p\.json: cannot write plan: "):
        write_plan(rich_plan(), blocker / "p.json")
    target = tmp_path / "dir-target"
    target.mkdir()
    with pytest.raises(PlanFileError, match="cannot write plan"):
        write_plan(rich_plan(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir-target", "plans"]


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(PlanFileError, match=f"^{missing}: no such plan file$"):
        read_plan(missing)
    with pytest.raises(PlanFileError, match="is a directory"):
        read_plan(tmp_path)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PlanFileError, match=r"not a plan file \(not UTF-8 text\)"):
        read_plan(binary)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 2}', encoding="utf-8")
    with pytest.raises(PlanFileError, match=f"^{bad}: missing field 'stack'$"):
        read_plan(bad)


def test_default_plan_path_is_utc() -> None:
    at = datetime(2026, 11, 25, 9, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    assert default_plan_path("web", at) == Path("plans/web-20261125T073005Z.json")
    assert default_plan_path("a.b_c-1", datetime(2026, 1, 2, tzinfo=UTC)).name == (
        "a.b_c-1-20260102T000000Z.json"
    )


@pytest.mark.parametrize("stack", ["", "../x", "a/b", ".hidden"])
def test_default_plan_path_refuses_unsafe_stack_names(stack: str) -> None:
    with pytest.raises(ValueError, match="not a stack name"):
        default_plan_path(stack, datetime(2026, 1, 2, tzinfo=UTC))


def test_default_plan_path_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        default_plan_path("web", datetime(2026, 1, 2))


# --- property: any plan survives the trip ------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
names = st.text(alphabet="abcxyz-.0", min_size=1, max_size=6)


@st.composite
def field_changes(draw: st.DrawFn) -> FieldChange:
    op = draw(st.sampled_from(FieldOp))
    return FieldChange(
        path=draw(st.text(max_size=12)),
        op=op,
        before=None if op is FieldOp.ADD else draw(json_values),
        after=None if op is FieldOp.REMOVE else draw(json_values),
        cause=draw(st.none() | st.sampled_from(Cause)),
        manager=draw(st.none() | st.text(max_size=6)),
        managed_at=draw(st.none() | st.text(max_size=6)),
        sensitive=draw(st.booleans()),
    )


@st.composite
def change_reasons(draw: st.DrawFn) -> ChangeReason:
    reason = draw(st.sampled_from(Reason))
    if reason.has_stack:
        return ChangeReason(reason, stack=draw(st.text(min_size=1, max_size=8)))
    if not reason.has_paths:
        return ChangeReason(reason)
    return ChangeReason(reason, tuple(draw(st.lists(st.text(max_size=8), min_size=1, max_size=2))))


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    changes = tuple(
        ObjectChange(
            key=ObjectKey(
                draw(st.text("abc.", max_size=4)),
                draw(names),
                draw(st.text("ab", max_size=3)),
                draw(names),
            ),
            action=draw(st.sampled_from(Action)),
            api_version=draw(st.text(max_size=6)),
            fields=tuple(draw(st.lists(field_changes(), max_size=3))),
            live_resource_version=draw(st.text(max_size=4)),
            desired_digest=draw(st.text(max_size=4)),
            source=draw(st.text(max_size=4)),
            reasons=tuple(draw(st.lists(change_reasons(), max_size=2))),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    return Plan(
        stack=draw(st.text(max_size=6)),
        source=PlanSource(
            url=draw(st.text(max_size=6)),
            commit=draw(st.text(max_size=6)),
            paths=tuple(draw(st.lists(st.text(max_size=4), max_size=2))),
            ref=draw(st.text(max_size=4)),
            dirty=draw(st.booleans()),
            recorded_paths=tuple(draw(st.lists(st.text(max_size=4), max_size=2))),
        ),
        state_serial=draw(st.integers()),
        state_lineage=draw(st.text(max_size=6)),
        changes=changes,
        unchanged=draw(st.integers(0, 10**6)),
        warnings=tuple(draw(st.lists(st.text(max_size=6), max_size=2))),
        ignored=tuple(draw(st.lists(st.text(max_size=6), max_size=2))),
        created_at=draw(st.text(max_size=6)),
        options=PlanOptions(
            allow_empty=draw(st.booleans()),
            max_delete=draw(st.none() | st.integers(0, 10**6)),
            adopt=draw(st.booleans()),
            default_namespace=draw(st.none() | st.text(max_size=6)),
            state_namespace=draw(st.none() | st.text(max_size=6)),
            take_over_from=draw(st.none() | st.text(min_size=1, max_size=6)),
            allow_source_change=draw(st.booleans()),
        ),
    )


@settings(max_examples=60, deadline=None)
@given(plans())
def test_any_plan_round_trips_and_validates(plan: Plan) -> None:
    text = plan_to_json(plan)
    assert plan_from_json(text) == plan
    assert plan_to_json(plan_from_json(text)) == text
    validator().validate(json.loads(text))


def test_reads_tools_and_manifest_generation_round_trip_and_are_left_out_when_empty() -> None:
    plain = rich_plan()
    assert "reads" not in plan_to_dict(plain)["source"]
    assert "manifest_generation" not in plan_to_dict(plain)["options"]
    rendered = dataclasses.replace(
        plain,
        source=dataclasses.replace(
            plain.source,
            reads=(
                PathRead("apps/web", "kustomize"),
                PathRead("charts/shop", "helm", "release shop"),
            ),
            tools=("kustomize v5.8.2",),
        ),
        options=dataclasses.replace(plain.options, manifest_generation=True),
    )
    data = plan_to_dict(rendered)
    assert data["source"]["reads"][1] == {
        "path": "charts/shop",
        "kind": "helm",
        "detail": "release shop",
    }
    assert data["options"]["manifest_generation"] is True
    validator().validate(data)
    assert plan_from_json(plan_to_json(rendered)) == rendered
