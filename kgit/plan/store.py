"""The plan file: the one place that turns a :class:`Plan` into JSON and back.

Format (``format_version`` 2, described by ``plan.schema.json`` beside this module):

- a JSON object mirroring :class:`~kgit.plan.model.Plan`, field for field;
- object keys as their ``group/kind/namespace/name`` string, enums as their ``.value``;
- ``FieldChange.before`` is written only for ``remove`` and ``change``, ``after`` only for
  ``add`` and ``change`` (a side that is absent by definition is never written as null);
  likewise a reason's ``paths`` and ``stack`` only for the reasons that have them;
- every other field is always written, except the fields added to format 2 later
  (``source.recorded_paths``, ``source.reads``, ``source.tools`` and the later options),
  written only when set so that the digest of a plan without them stays the same; on
  reading, fields the model gives a default may be missing (they take the default),
  unknown fields are refused;
- the text is canonical: keys sorted, two-space indent, UTF-8, a trailing newline, so the
  file's sha256 (``sha256sum plans/x.json``) is :func:`plan_digest` of the plan it holds.

Anything wrong with a file is a :class:`~kgit.errors.PlanFileError` naming the file and
the field, never a ``KeyError`` (:mod:`kgit.plan.jsonread` checks each field). A file of an
older format is refused, never converted: its plan was computed by another kgit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from kgit.errors import PlanFileError
from kgit.plan.decode import plan_from_dict
from kgit.plan.model import (
    ChangeReason,
    FieldChange,
    FieldOp,
    ObjectChange,
    Plan,
    PlanSource,
)

if TYPE_CHECKING:
    from kgit.plan.inputs import PlanOptions

PLANS_DIR = Path("plans")
SCHEMA_RESOURCE = "plan.schema.json"
# A stack name becomes part of a file name: it must not climb out of plans/.
_SAFE_STACK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# --- writing -------------------------------------------------------------------------


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON-ready data (the plan file's content before encoding)."""
    return {
        "format_version": plan.format_version,
        "stack": plan.stack,
        "created_at": plan.created_at,
        "source": {
            "url": plan.source.url,
            "commit": plan.source.commit,
            "paths": list(plan.source.paths),
            "ref": plan.source.ref,
            "dirty": plan.source.dirty,
            # Written only when set, like the options added since format 2 came out.
            **(
                {"recorded_paths": list(plan.source.recorded_paths)}
                if plan.source.recorded_paths
                else {}
            ),
            **_later_source_fields(plan.source),
        },
        "state_serial": plan.state_serial,
        "state_lineage": plan.state_lineage,
        "changes": [_change_to_dict(c) for c in plan.changes],
        "unchanged": plan.unchanged,
        "warnings": list(plan.warnings),
        "ignored": list(plan.ignored),
        "options": _options_to_dict(plan.options),
        **(
            {"cascade": [{"key": str(c.key), "stack": c.stack} for c in plan.cascade]}
            if plan.cascade
            else {}
        ),
    }


# Options added after format 2 came out are written only when set: a plan that does not
# use them keeps the bytes, and so the digest, it had before they existed.
_LATER_OPTIONS = (
    "take_over_from",
    "allow_source_change",
    "manifest_generation",
    "allow_cascade",
    "destroy",
)


def _options_to_dict(options: PlanOptions) -> dict[str, Any]:
    out = dataclasses.asdict(options)
    return {k: v for k, v in out.items() if k not in _LATER_OPTIONS or v}


def _later_source_fields(source: PlanSource) -> dict[str, Any]:
    """``reads`` and ``tools``, when the plan has them (see the module's docstring)."""
    fields: dict[str, Any] = {}
    if source.reads:
        fields["reads"] = [dataclasses.asdict(read) for read in source.reads]
    if source.tools:
        fields["tools"] = list(source.tools)
    return fields


def _change_to_dict(change: ObjectChange) -> dict[str, Any]:
    return {
        "key": str(change.key),
        "action": change.action.value,
        "api_version": change.api_version,
        "fields": [_field_to_dict(f) for f in change.fields],
        "live_resource_version": change.live_resource_version,
        "desired_digest": change.desired_digest,
        "source": change.source,
        "reasons": [_reason_to_dict(r) for r in change.reasons],
    } | ({"live_digest": change.live_digest} if change.live_digest else {})


def _reason_to_dict(why: ChangeReason) -> dict[str, Any]:
    out: dict[str, Any] = {"reason": why.reason.value}
    if why.reason.has_paths:
        out["paths"] = list(why.paths)
    if why.reason.has_stack:
        out["stack"] = why.stack
    return out


def _field_to_dict(fc: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": fc.path,
        "op": fc.op.value,
        "cause": fc.cause.value if fc.cause is not None else None,
        "manager": fc.manager,
        "managed_at": fc.managed_at,
        "sensitive": fc.sensitive,
    }
    # Only the sides an operation has are written, so a reader never has to guess
    # whether null means "absent" or "the value null".
    if fc.op is not FieldOp.ADD:
        out["before"] = fc.before
    if fc.op is not FieldOp.REMOVE:
        out["after"] = fc.after
    return out


def plan_to_json(plan: Plan) -> str:
    """The plan file's text: canonical JSON (sorted keys, 2-space indent, final newline).

    Raises ``ValueError``/``TypeError`` when a field value is not JSON (NaN, an object):
    that is a bug in whoever built the plan, not a property of a file.
    """
    return (
        json.dumps(
            plan_to_dict(plan), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
        )
        + "\n"
    )


def plan_digest(plan: Plan) -> str:
    """sha256 (hex) of the plan's canonical JSON: equal to the sha256 of its plan file.

    Hashed while it is encoded: the text of a plan creating 10,000 objects is some
    35 MB, held twice (str and bytes) if built whole, during an apply's busiest moment.
    """
    digest = hashlib.sha256()
    encoder = json.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    pending: list[str] = []
    for chunk in encoder.iterencode(plan_to_dict(plan)):
        pending.append(chunk)
        if len(pending) >= 4096:
            digest.update("".join(pending).encode("utf-8"))
            pending.clear()
    pending.append("\n")
    digest.update("".join(pending).encode("utf-8"))
    return digest.hexdigest()


def write_plan(plan: Plan, path: Path) -> None:
    """Write ``plan`` to ``path``, creating parent folders; readers never see half a file.

    The text goes to a temporary file in the same folder, is flushed to disk and renamed
    over ``path``. Raises :class:`PlanFileError` when the folder or file can't be written.
    """
    text = plan_to_json(plan)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private; a plan holds no secrets and CI jobs hand it on.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise PlanFileError(f"{path}: cannot write plan: {err.strerror or err}") from err
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def default_plan_path(stack: str, now: datetime) -> Path:
    """``plans/<stack>-<yyyymmddThhmmssZ>.json`` for ``now`` in UTC.

    ``now`` must be timezone-aware (a naive time is ambiguous); raises ``ValueError`` for
    a naive time or a stack name that is not a plain file name.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("default_plan_path: `now` must be timezone-aware")
    if not _SAFE_STACK.match(stack):
        raise ValueError(f"{stack!r}: not a stack name usable in a file name")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return PLANS_DIR / f"{stack}-{stamp}.json"


# --- reading -------------------------------------------------------------------------


def read_plan(path: Path) -> Plan:
    """Read and check the plan file at ``path``.

    Raises :class:`PlanFileError` (naming ``path``) when it is missing, unreadable, not
    UTF-8 JSON, of another format version or malformed.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise PlanFileError(f"{path}: no such plan file") from err
    except IsADirectoryError as err:
        raise PlanFileError(f"{path}: is a directory, not a plan file") from err
    except OSError as err:
        raise PlanFileError(f"{path}: cannot read plan: {err.strerror or err}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PlanFileError(f"{path}: not a plan file (not UTF-8 text)") from err
    return plan_from_json(text, name=str(path))


def plan_from_json(text: str, *, name: str = "plan") -> Plan:
    """Parse plan-file text; ``name`` (the file) starts every error message.

    Raises :class:`PlanFileError` for malformed JSON, another format version, or a
    missing, unknown or wrongly typed field.
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (json.JSONDecodeError, ValueError) as err:
        detail = (
            f"line {err.lineno} column {err.colno}: {err.msg}"
            if isinstance(err, json.JSONDecodeError)
            else str(err)
        )
        raise PlanFileError(f"{name}: not valid JSON ({detail})") from err
    except RecursionError as err:
        raise PlanFileError(f"{name}: not a plan file (JSON nested too deeply)") from err
    return plan_from_dict(data, name=name)


def _refuse_constant(token: str) -> NoReturn:
    # NaN and Infinity are not JSON, and the writer never produces them.
    raise ValueError(f"{token} is not a JSON value")


def _finite_float(token: str) -> float:
    # 1e999 is valid JSON but reads as infinity, which no plan holds and none can write.
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"{token} is out of range")
    return value


def load_plan_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the plan file, shipped as package data."""
    text = resources.files("kgit.plan").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
