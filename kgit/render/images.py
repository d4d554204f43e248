"""Views of image automation: the ``kgit images list`` table and an update round's report."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from tabulate import tabulate

if TYPE_CHECKING:
    from kgit.images.service import ImageRoundResult, PolicyEditResult


def render_image_table(result: ImageRoundResult) -> str:
    """One row per container: workload, container, current and newest allowed tag, policy."""
    if not result.containers:
        return 'No automated workloads (annotate one with kgit.dev/automated: "true").'
    rows = [
        (
            c.workload,
            f"{c.container} (init)" if c.init else c.container,
            c.current_tag or "(latest)",
            c.newest_tag or "-",
            c.policy,
            c.action,
        )
        for c in result.containers
    ]
    return tabulate(
        rows,
        headers=["WORKLOAD", "CONTAINER", "CURRENT", "NEWEST", "POLICY", "STATUS"],
        tablefmt="plain",
    )


def render_image_round(result: ImageRoundResult) -> str:
    """What ``kgit images update`` changed (or would), and the commit it made."""
    updates = result.updates
    if not updates:
        return "All automated images are up to date."
    lines = [
        f"{u.workload} ({u.container}): {u.image} -> {u.newest_tag}  [{u.policy}, {u.path}:{u.line}]"
        for u in updates
    ]
    if result.dry_run:
        lines.append(f"Dry run: {len(updates)} image(s) would change; nothing committed.")
    elif result.commit is not None:
        commit = result.commit
        where = f", pushed to {commit.pushed_to}" if commit.pushed_to else " (not pushed)"
        lines.append(f"Committed {commit.commit[:12]} on {commit.branch}{where}.")
    return "\n".join(lines)


def render_images_json(result: ImageRoundResult) -> str:
    """``--format json`` of ``kgit images list|update``: the whole result."""
    return json.dumps(dataclasses.asdict(result), indent=2, sort_keys=True, default=str)


def render_edit(result: PolicyEditResult) -> str:
    """What an annotation edit did: the change, and its commit (or that it was a dry run)."""
    line = f"{result.workload}: {result.summary} ({result.path})"
    if result.commit is not None:
        commit = result.commit
        where = f", pushed to {commit.pushed_to}" if commit.pushed_to else " (not pushed)"
        return line + f"\nCommitted {commit.commit[:12]} on {commit.branch}{where}."
    if result.changed:
        return line + "\nDry run: nothing committed."
    return line
