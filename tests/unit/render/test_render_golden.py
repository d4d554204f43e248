"""Rendered plans against the golden files in tests/golden/<case>/."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import pytest

from kgit.plan.store import plan_to_json
from kgit.render import render_json, render_markdown, render_text

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from kgit.plan.model import Plan

pytestmark = pytest.mark.unit

VIEWS: dict[str, Callable[[Plan], str]] = {
    "text.txt": lambda plan: render_text(plan, color=False),
    "text-color.txt": lambda plan: render_text(plan, color=True),
    "markdown.md": render_markdown,
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_matches_golden(
    case: str,
    view: str,
    golden_root: Path,
    golden_plan: Callable[[str], Plan],
    update_golden: bool,
) -> None:
    rendered = VIEWS[view](golden_plan(case))
    path = golden_root / case / view
    if update_golden:
        path.write_text(rendered, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; write it with KGIT_UPDATE_GOLDEN=1", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if rendered != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                rendered.splitlines(keepends=True),
                str(path),
                "rendered",
            )
        )
        pytest.fail(
            f"{path} differs from what kgit renders now; if the change is intended, "
            f"rerun with KGIT_UPDATE_GOLDEN=1 and review the diff:\n{diff}",
            pytrace=False,
        )


def test_plan_file_is_canonical(
    case: str, golden_root: Path, golden_plan: Callable[[str], Plan]
) -> None:
    # The inputs are plan files too: a format change shows up here first.
    text = (golden_root / case / "plan.json").read_text(encoding="utf-8")
    assert plan_to_json(golden_plan(case)) == text
    assert render_json(golden_plan(case)) == text


def test_sensitive_values_never_rendered(case: str, golden_plan: Callable[[str], Plan]) -> None:
    plan = golden_plan(case)
    digests = [
        str(value)
        for change in plan.changes
        for fc in change.fields
        if fc.sensitive
        for value in (fc.before, fc.after)
        if value is not None
    ]
    for view in VIEWS.values():
        out = view(plan)
        for digest in digests:
            assert digest not in out
            # Nor a recognisable piece of one.
            assert digest[-16:] not in out


def test_secret_case_says_sensitive(golden_plan: Callable[[str], Plan]) -> None:
    text = render_text(golden_plan("secret_change"), color=False)
    assert "~ data[password]: (sensitive value changed)" in text
    assert "+ data[username]: (sensitive value)" in text
    assert "- data[token]: (sensitive value)" in text
    assert "hmac-sha256" not in text
    assert "hmac-sha256" not in render_markdown(golden_plan("secret_change"))
