"""The machine view of a plan: the plan file itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.plan.store import plan_to_json

if TYPE_CHECKING:
    from kgit.plan.model import Plan


def render_json(plan: Plan) -> str:
    """The plan as its plan file holds it (canonical JSON, see :mod:`kgit.plan.store`)."""
    return plan_to_json(plan)
