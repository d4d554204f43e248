"""Views of a plan: pure functions ``Plan -> str`` that show only what the plan file holds.

``render_text`` for a terminal, ``render_markdown`` for a pull-request comment,
``render_json`` for machines (the plan file itself); :func:`render_plan` picks one by
the name a ``--format`` option carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.render.common import render_summary_line
from kgit.render.json_view import render_json
from kgit.render.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from kgit.render.text import render_text

if TYPE_CHECKING:
    from kgit.plan.model import Plan

FORMATS = ("text", "markdown", "json")

__all__ = [
    "FORMATS",
    "GITHUB_COMMENT_LIMIT",
    "render_json",
    "render_markdown",
    "render_plan",
    "render_summary_line",
    "render_text",
]


def render_plan(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """Render ``plan`` in the format named ``fmt`` (one of :data:`FORMATS`).

    ``color`` only affects ``text``. Raises ``ValueError`` for an unknown format.
    """
    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "markdown":
        return render_markdown(plan)
    if fmt == "json":
        return render_json(plan)
    raise ValueError(f"{fmt!r}: unknown plan format (expected one of {', '.join(FORMATS)})")
