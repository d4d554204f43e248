"""Reading a plan file's decoded JSON back into a :class:`Plan`, field by field.

Every field is checked with :class:`~kgit.plan.jsonread.PlanReader`, so anything wrong is a
:class:`~kgit.errors.PlanFileError` naming the file and the field (the format is described
in :mod:`kgit.plan.store`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kgit.errors import PlanFileError
from kgit.manifests.keys import ObjectKey
from kgit.plan.inputs import PlanOptions
from kgit.plan.jsonread import PlanReader, describe, is_int
from kgit.plan.model import (
    FORMAT_VERSION,
    Action,
    CascadeDelete,
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


def plan_from_dict(data: Any, *, name: str = "plan") -> Plan:
    """Build a :class:`Plan` from decoded plan-file data, checking every field.

    Raises :class:`PlanFileError` (starting with ``name``) for another format version or
    any missing, unknown or wrongly typed field.
    """
    r = PlanReader(name)
    doc = r.obj(data, "")
    if "format_version" not in doc:
        r.fail("", "missing field 'format_version' (not a kgit plan file?)")
    version = doc["format_version"]
    if not is_int(version):
        r.fail("format_version", f"expected an integer, got {describe(version)}")
    if 0 < version < FORMAT_VERSION:
        r.fail("", f"plan file format {version} is from an older kgit; plan again")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"{name}: plan format version {version} is not supported by this kgit "
            f"(reads {FORMAT_VERSION})"
        )
    r.known(
        doc,
        "",
        {
            "format_version",
            "stack",
            "created_at",
            "source",
            "state_serial",
            "state_lineage",
            "changes",
            "unchanged",
            "warnings",
            "ignored",
            "options",
            "cascade",
        },
    )
    return Plan(
        stack=r.string(doc, "stack", ""),
        source=_source_from(r, r.obj(r.get(doc, "source", ""), "source")),
        state_serial=r.integer(doc, "state_serial", ""),
        state_lineage=r.string(doc, "state_lineage", ""),
        changes=tuple(
            _change_from(r, r.obj(item, f"changes[{i}]"), f"changes[{i}]")
            for i, item in enumerate(r.array(doc, "changes", ""))
        ),
        unchanged=r.count(doc, "unchanged", "", default=0),
        warnings=r.strings(doc, "warnings", "", default=()),
        ignored=r.strings(doc, "ignored", "", default=()),
        created_at=r.string(doc, "created_at", "", default=""),
        format_version=version,
        options=_options_from(r, r.obj(r.get(doc, "options", "", default={}), "options")),
        cascade=tuple(
            _cascade_from(r, r.obj(item, f"cascade[{i}]"), f"cascade[{i}]")
            for i, item in enumerate(r.array(doc, "cascade", "", default=[]))
        ),
    )


def _cascade_from(r: PlanReader, d: dict[str, Any], where: str) -> CascadeDelete:
    r.known(d, where, {"key", "stack"})
    return CascadeDelete(_key_from(r, d, where), r.string(d, "stack", where, default=""))


def _key_from(r: PlanReader, d: dict[str, Any], where: str) -> ObjectKey:
    key_text = r.string(d, "key", where)
    try:
        return ObjectKey.parse(key_text)
    except ValueError:
        r.fail(f"{where}.key", f"{key_text!r} is not an object key (group/kind/namespace/name)")


def _options_from(r: PlanReader, d: dict[str, Any]) -> PlanOptions:
    where = "options"
    r.known(d, where, {f.name for f in dataclasses.fields(PlanOptions)})
    no_limit = r.get(d, "max_delete", where, default=None) is None
    return PlanOptions(
        adopt=r.boolean(d, "adopt", where, default=False),
        allow_empty=r.boolean(d, "allow_empty", where, default=False),
        max_delete=None if no_limit else r.count(d, "max_delete", where),
        default_namespace=r.opt_string(d, "default_namespace", where),
        state_namespace=r.opt_string(d, "state_namespace", where),
        take_over_from=r.opt_string(d, "take_over_from", where),
        allow_source_change=r.boolean(d, "allow_source_change", where, default=False),
        manifest_generation=r.boolean(d, "manifest_generation", where, default=False),
        allow_cascade=r.boolean(d, "allow_cascade", where, default=False),
        destroy=r.boolean(d, "destroy", where, default=False),
    )


def _source_from(r: PlanReader, d: dict[str, Any]) -> PlanSource:
    r.known(
        d, "source", {"url", "commit", "paths", "ref", "dirty", "recorded_paths", "reads", "tools"}
    )
    return PlanSource(
        url=r.string(d, "url", "source"),
        commit=r.string(d, "commit", "source"),
        paths=r.strings(d, "paths", "source"),
        ref=r.string(d, "ref", "source", default=""),
        dirty=r.boolean(d, "dirty", "source", default=False),
        recorded_paths=r.strings(d, "recorded_paths", "source", default=()),
        reads=tuple(
            _read_from(r, r.obj(item, f"source.reads[{i}]"), f"source.reads[{i}]")
            for i, item in enumerate(r.array(d, "reads", "source", default=[]))
        ),
        tools=r.strings(d, "tools", "source", default=()),
    )


def _read_from(r: PlanReader, d: dict[str, Any], where: str) -> PathRead:
    r.known(d, where, {"path", "kind", "detail"})
    return PathRead(
        path=r.string(d, "path", where),
        kind=r.string(d, "kind", where),
        detail=r.string(d, "detail", where, default=""),
    )


def _change_from(r: PlanReader, d: dict[str, Any], where: str) -> ObjectChange:
    r.known(
        d,
        where,
        {
            "key",
            "action",
            "api_version",
            "fields",
            "live_resource_version",
            "desired_digest",
            "source",
            "reasons",
            "live_digest",
        },
    )
    key = _key_from(r, d, where)
    fields = r.array(d, "fields", where, default=[])
    reasons = r.array(d, "reasons", where, default=[])
    return ObjectChange(
        key=key,
        action=r.enum_of(d, "action", where, Action),
        api_version=r.string(d, "api_version", where),
        fields=tuple(
            _field_from(r, r.obj(item, f"{where}.fields[{i}]"), f"{where}.fields[{i}]")
            for i, item in enumerate(fields)
        ),
        live_resource_version=r.string(d, "live_resource_version", where, default=""),
        desired_digest=r.string(d, "desired_digest", where, default=""),
        source=r.string(d, "source", where, default=""),
        reasons=tuple(
            _reason_from(r, r.obj(item, f"{where}.reasons[{i}]"), f"{where}.reasons[{i}]")
            for i, item in enumerate(reasons)
        ),
        live_digest=r.string(d, "live_digest", where, default=""),
    )


def _reason_from(r: PlanReader, d: dict[str, Any], where: str) -> ChangeReason:
    r.known(d, where, {"reason", "paths", "stack"})
    reason = r.enum_of(d, "reason", where, Reason)
    for name, has in (("paths", reason.has_paths), ("stack", reason.has_stack)):
        if not has and name in d:
            r.fail(f"{where}.{name}", f"not allowed for reason '{reason.value}'")
    paths = r.strings(d, "paths", where) if reason.has_paths else ()
    if reason.has_paths and not paths:
        r.fail(f"{where}.paths", f"reason '{reason.value}' names at least one field")
    stack = r.string(d, "stack", where) if reason.has_stack else ""
    if reason.has_stack and not stack:
        r.fail(f"{where}.stack", f"reason '{reason.value}' names a stack")
    return ChangeReason(reason, paths, stack)


def _field_from(r: PlanReader, d: dict[str, Any], where: str) -> FieldChange:
    r.known(
        d, where, {"path", "op", "before", "after", "cause", "manager", "managed_at", "sensitive"}
    )
    op = r.enum_of(d, "op", where, FieldOp)
    # Mirror the writer: a side the operation does not have must not be there, and a
    # side it has must be (null is a value here, not "absent").
    if op is FieldOp.ADD and "before" in d:
        r.fail(f"{where}.before", "not allowed for op 'add'")
    if op is FieldOp.REMOVE and "after" in d:
        r.fail(f"{where}.after", "not allowed for op 'remove'")
    before = r.get(d, "before", where) if op is not FieldOp.ADD else None
    after = r.get(d, "after", where) if op is not FieldOp.REMOVE else None
    cause_value = r.get(d, "cause", where, default=None)
    return FieldChange(
        path=r.string(d, "path", where),
        op=op,
        before=before,
        after=after,
        cause=None if cause_value is None else r.enum_of(d, "cause", where, Cause),
        manager=r.opt_string(d, "manager", where),
        managed_at=r.opt_string(d, "managed_at", where),
        sensitive=r.boolean(d, "sensitive", where, default=False),
    )
