"""The plan-file reader against anything a file may hold: a PlanFileError, never a crash.

A plan file is input from outside (a CI artefact, a PR attachment): whatever its bytes,
reading it gives a Plan or a :class:`PlanFileError`, and a Plan it gives reads back the
same after writing.
"""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgit.errors import PlanFileError
from kgit.plan.decode import plan_from_dict
from kgit.plan.store import plan_from_json, plan_to_json, read_plan

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
VALID = [json.loads(path.read_text()) for path in sorted(GOLDEN.glob("*/plan.json"))]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def read_or_refuse(data: Any) -> None:
    """Read decoded plan data; a Plan must survive its own round trip."""
    try:
        plan = plan_from_dict(data, name="fuzz.json")
    except PlanFileError:
        return
    assert plan_from_json(plan_to_json(plan)) == plan


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_a_plan_file_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "plan.json"
    path.write_bytes(data)
    with contextlib.suppress(PlanFileError):
        read_plan(path)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_is_a_plan_file_error(value: Any) -> None:
    with contextlib.suppress(PlanFileError):
        plan_from_json(json.dumps(value))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID), st.data())
def test_a_valid_plan_with_one_field_changed_reads_or_is_refused(
    valid: dict[str, Any], data: st.DataObject
) -> None:
    # Any JSON value once the walk replaces the root.
    doc: object = copy.deepcopy(valid)
    # Walk to a random node, then replace it, drop it, or add an unknown key beside it.
    parent: Any = None
    key: Any = None
    node: Any = doc
    while isinstance(node, dict | list) and node and data.draw(st.booleans()):
        parent = node
        key = data.draw(
            st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node)))
        )
        node = node[key]
    edit = data.draw(st.sampled_from(["replace", "drop", "add"]))
    if parent is None:
        doc = data.draw(json_values)
    elif edit == "replace":
        parent[key] = data.draw(json_values)
    elif edit == "drop":
        del parent[key]
    elif isinstance(node, dict):
        node[data.draw(st.text(max_size=8))] = data.draw(json_values)
    read_or_refuse(doc)
