"""The pull-request view: structure, escaping and truncation under the comment limit."""

from __future__ import annotations

import re

import pytest

from kgit.manifests.keys import ObjectKey
from kgit.plan.model import Action, Cause, FieldChange, FieldOp, ObjectChange, Plan, PlanSource
from kgit.render import GITHUB_COMMENT_LIMIT, render_markdown
from kgit.render.markdown import MIN_LIMIT

pytestmark = pytest.mark.unit

SOURCE = PlanSource(url="https://git.example/r.git", commit="abcdef0123456789", paths=("apps",))


def plan_of(*changes: ObjectChange, warnings: tuple[str, ...] = ()) -> Plan:
    return Plan(
        stack="web",
        source=SOURCE,
        state_serial=1,
        state_lineage="l",
        changes=changes,
        warnings=warnings,
    )


def cm(name: str, action: Action = Action.UPDATE, *fields: FieldChange) -> ObjectChange:
    return ObjectChange(ObjectKey("", "ConfigMap", "web", name), action, "v1", fields=fields)


def huge_plan(objects: int = 3000) -> Plan:
    """Thousands of objects, each a few field changes: megabytes of Markdown untruncated."""
    actions = [Action.CREATE, Action.UPDATE, Action.DELETE, Action.REPLACE]
    changes = tuple(
        cm(
            f"cm-{i:05d}",
            actions[i % len(actions)],
            FieldChange(
                f"data[key-{i}]", FieldOp.CHANGE, f"old-{i}" * 5, f"new-{i}" * 5, Cause.GIT
            ),
            FieldChange("spec.replicas", FieldOp.CHANGE, 1, 2, Cause.DRIFT, "kubectl-edit", "T"),
        )
        for i in range(objects)
    )
    return plan_of(*changes, warnings=("the last warning",))


def assert_well_formed(md: str) -> None:
    """Every <details> and code fence that opens also closes, in order (text inside a
    code block, even ``</details>``, does not count)."""
    depth = 0
    fence = ""
    for line in md.splitlines():
        if fence:
            if line == fence:
                fence = ""
            continue
        opened = re.match(r"^(`{3,})\w*$", line)
        if opened:
            fence = opened.group(1)
        elif line.startswith("<details>"):
            depth += 1
            assert depth == 1
        elif line == "</details>":
            depth -= 1
    assert fence == ""
    assert depth == 0


def test_shape() -> None:
    plan = plan_of(
        cm("a", Action.CREATE, FieldChange("data.x", FieldOp.ADD, after="1")),
        cm(
            "b",
            Action.UPDATE,
            FieldChange("data.x", FieldOp.CHANGE, "1", "2", Cause.DRIFT, "kubectl", "T"),
        ),
        cm("c", Action.DELETE),
    )
    md = render_markdown(plan)
    assert md.startswith("**Plan:** 1 to add, 1 to change, 1 to delete.\n\n> [!WARNING]\n")
    assert "> - `ConfigMap/web/c` will be deleted\n" in md
    assert "commit abcdef0123456789" in md
    assert "**Create** (1)\n- `ConfigMap/web/a`\n" in md
    assert (
        "### Objects changed outside of Git\n- `ConfigMap/web/b`: `data.x` changed by kubectl at T\n"
        in md
    )
    assert (
        "<details><summary>~ ConfigMap/web/b</summary>\n\n```diff\n"
        "# ConfigMap/web/b will be updated in place\n~ v1 ConfigMap/web/b\n"
        '~     data.x:   (drift: changed by kubectl at T)\n-         "1"\n+         "2"\n'
        "```\n\n</details>"
    ) in md
    assert_well_formed(md)


def test_no_banner_without_destruction() -> None:
    md = render_markdown(plan_of(cm("a", Action.CREATE)))
    assert "[!WARNING]" not in md
    assert "Objects changed outside of Git" not in md


def test_no_changes() -> None:
    md = render_markdown(plan_of(cm("a", Action.NOOP)))
    assert md.startswith(
        "**Plan:** No changes. The cluster matches Git at commit `abcdef0` (1 object unchanged).\n"
    )
    assert "<details>" not in md


def test_backticks_and_html_cannot_break_out() -> None:
    value = "```\n</details>\n<script>x</script>"
    plan = plan_of(
        cm("a", Action.UPDATE, FieldChange("data.x", FieldOp.CHANGE, "````", value)),
        warnings=("<img src=x onerror=alert(1)> and `code`",),
    )
    md = render_markdown(plan)
    assert "`````diff\n" in md  # longer than the longest backtick run inside
    assert "- &lt;img src=x onerror=alert(1)&gt; and `code`" in md
    assert_well_formed(md)


def test_sensitive_values_never_appear() -> None:
    plan = plan_of(
        cm(
            "s",
            Action.UPDATE,
            FieldChange("data[pw]", FieldOp.CHANGE, "hmac:aaaa", "hmac:bbbb", sensitive=True),
        )
    )
    md = render_markdown(plan)
    assert "~     data[pw]: (sensitive value changed)" in md
    assert "hmac:" not in md


def test_fits_untruncated_when_it_can() -> None:
    md = render_markdown(huge_plan(5))
    assert "omitted" not in md
    assert len(md) < GITHUB_COMMENT_LIMIT


def test_huge_plan_keeps_head_and_tail_under_the_limit() -> None:
    plan = huge_plan()
    md = render_markdown(plan)
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert len(md) > GITHUB_COMMENT_LIMIT * 0.9  # the room is used, not wasted
    assert_well_formed(md)
    assert md.startswith("**Plan:** 1500 to add, 750 to change, 1500 to delete.\n")
    assert "> - … and " in md  # the banner is shortened, not dropped
    first, last = plan.changes[0].key.subject, plan.changes[-1].key.subject
    assert f"<details><summary>+ {first}</summary>" in md
    assert f"<details><summary>-/+ {last}</summary>" in md
    note = re.search(
        r"^… (\d+) objects omitted; run `kgit show PLAN` for the whole plan …$", md, re.M
    )
    assert note is not None
    shown = md.count("<details>")
    assert int(note.group(1)) == len(plan.changes) - shown
    assert "- the last warning" in md
    assert md.rstrip().endswith("</sub>")


def test_one_enormous_value_is_cut_inside_its_block() -> None:
    blob = "x" * 300_000
    plan = plan_of(
        cm("big", Action.UPDATE, FieldChange("data[blob]", FieldOp.CHANGE, "", blob)), cm("small")
    )
    md = render_markdown(plan)
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert_well_formed(md)
    assert "<details><summary>~ ConfigMap/web/big</summary>" in md
    assert "more characters)" in md
    assert "<details><summary>~ ConfigMap/web/small</summary>" in md


@pytest.mark.parametrize("limit", [MIN_LIMIT, 700, 1000, 2500, 10_000, 40_000])
def test_any_limit_is_respected(limit: int) -> None:
    for plan in (huge_plan(200), huge_plan(3)):
        md = render_markdown(plan, limit=limit)
        assert len(md) <= limit
        assert md.startswith("**Plan:**")
        assert_well_formed(md)


def test_limit_below_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="below"):
        render_markdown(plan_of(), limit=MIN_LIMIT - 1)
