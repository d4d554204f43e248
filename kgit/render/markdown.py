"""The pull-request view of a plan: Markdown in the shape Atlantis and tfcmt made familiar.

Summary line first; a ``> [!WARNING]`` banner naming what is deleted or replaced; the
source; lists by action; "Objects changed outside of Git"; one ``<details>`` with a
``diff`` block per object; ignore rules, warnings and a footer. Over ``limit``
characters (GitHub refuses comments over 65,536), the middle is cut at block
boundaries, so code fences and ``<details>`` stay closed and head and tail are kept.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.plan.model import Action
from kgit.render.common import (
    ACTION_LABELS,
    DIRTY,
    PATHS_CHANGED,
    cascade_owner,
    change_notes,
    drift_items,
    field_lines,
    headline,
    no_changes_sentence,
    plural,
    render_summary_line,
    short_commit,
    source_paths,
    visible_changes,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kgit.plan.model import ObjectChange, Plan

GITHUB_COMMENT_LIMIT = 65536
# Below this a truncated plan could not even hold its summary and the omission note.
MIN_LIMIT = 512

# When cutting, lists stop after this many entries ("… and N more") so that the
# per-object diffs, not a list of 5,000 names, fill the comment.
_COMPACT_BANNER = 20
_COMPACT_LIST = 50
_NOTE_RESERVE = 120


@dataclass(frozen=True, slots=True)
class _Item:
    """A self-contained piece of Markdown: dropping it never breaks the document."""

    text: str
    subject: str = ""
    detail: bool = False  # an object's <details> block: dropping it hides the object


@dataclass(frozen=True, slots=True)
class _Section:
    """A heading (or banner opening) and its items; re-opened if a cut splits it."""

    head: str
    items: tuple[_Item, ...]
    sep: str = "\n"

    def render(self, items: Sequence[_Item]) -> str:
        body = self.sep.join(i.text for i in items)
        return f"{self.head}\n{body}" if self.head else body


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The plan as Markdown for a pull-request comment, never longer than ``limit``.

    When the whole plan does not fit, lists are shortened, very long diffs are cut, and
    a middle run of blocks is replaced by ``… N objects omitted; run `kgit show PLAN`
    for the whole plan …``. Raises ``ValueError`` when ``limit`` < :data:`MIN_LIMIT`.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"render_markdown: limit {limit} is below {MIN_LIMIT} characters")
    first = _summary(plan)
    sections = _sections(plan, compact=False, detail_limit=None)
    flat = [item for sec in sections for item in sec.items]
    whole = _assemble(first, sections, len(flat), len(flat), "")
    if len(whole) <= limit:
        return whole
    return _truncate(plan, first, limit)


def _truncate(plan: Plan, first: str, limit: int) -> str:
    budget = limit - len(first) - _NOTE_RESERVE
    sections = _sections(plan, compact=True, detail_limit=max(budget // 3, 256))
    flat: list[tuple[int, _Item]] = [
        (s, item) for s, sec in enumerate(sections) for item in sec.items
    ]
    n = len(flat)

    def cost(index: int, opened: set[int]) -> int:
        s, item = flat[index]
        if s in opened:
            return len(item.text) + len(sections[s].sep)
        return len(item.text) + len(sections[s].head) + 3  # "\n" after head, "\n\n" between

    # Head first up to half, then the tail, then whatever room the tail left to the head.
    head, used, opened_head = 0, 0, set[int]()
    while head < n and used + cost(head, opened_head) <= budget // 2:
        used += cost(head, opened_head)
        opened_head.add(flat[head][0])
        head += 1
    tail, opened_tail = n, set[int]()
    while tail > head and used + cost(tail - 1, opened_tail) <= budget:
        used += cost(tail - 1, opened_tail)
        opened_tail.add(flat[tail - 1][0])
        tail -= 1
    while head < tail and used + cost(head, opened_head) <= budget:
        used += cost(head, opened_head)
        opened_head.add(flat[head][0])
        head += 1

    # The estimate is close; the real text decides.
    while True:
        text = _assemble(
            first, sections, head, tail, _omission_note([i for _, i in flat[head:tail]])
        )
        if len(text) <= limit:
            return text
        if tail < n - 1:
            tail += 1
        elif head > 0:
            head -= 1
        elif tail < n:
            tail += 1
        else:
            return f"{first}\n\n{_omission_note([i for _, i in flat])}\n"


def _omission_note(omitted: list[_Item]) -> str:
    hidden = {i.subject for i in omitted if i.detail}
    if hidden:
        what = plural(len(hidden), "object")
    else:
        what = "1 entry" if len(omitted) == 1 else f"{len(omitted)} entries"
    return f"… {what} omitted; run `kgit show PLAN` for the whole plan …"


def _assemble(first: str, sections: list[_Section], head: int, tail: int, note: str) -> str:
    """Items ``[0, head)`` and ``[tail, n)``, with ``note`` where the cut is."""
    blocks = [first]
    start = 0
    noted = head >= tail
    for sec in sections:
        end = start + len(sec.items)
        before = sec.items[: max(0, min(len(sec.items), head - start))]
        after = sec.items[max(0, tail - start) :] if tail < end else ()
        if before:
            blocks.append(sec.render(before))
        if not noted and head < end:
            blocks.append(note)
            noted = True
        if after:
            blocks.append(sec.render(after))
        start = end
    return "\n\n".join(blocks) + "\n"


# --- the pieces ----------------------------------------------------------------------


def _summary(plan: Plan) -> str:
    if not visible_changes(plan):
        return "**Plan:** " + no_changes_sentence(plan, _code(short_commit(plan.source.commit)))
    return "**Plan:**" + render_summary_line(plan).removeprefix("Plan:")


def _sections(plan: Plan, *, compact: bool, detail_limit: int | None) -> list[_Section]:
    changes = visible_changes(plan)
    sections: list[_Section] = []

    doomed = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
    if doomed:
        shown = _capped(
            [_Item(f"> - {_code(c.key.subject)} {headline(c)}", c.key.subject) for c in doomed]
            + [
                _Item(
                    f"> - {_code(c.key.subject)} will be deleted with "
                    f"{_code('Namespace/' + c.key.namespace)} "
                    f"({_plain(cascade_owner(c, plan.stack))})",
                    c.key.subject,
                )
                for c in plan.cascade
            ],
            _COMPACT_BANNER if compact else None,
            lambda more: f"> - … and {more} more",
        )
        sections.append(
            _Section("> [!WARNING]\n> This plan deletes or replaces objects:", tuple(shown))
        )

    sections.append(_Section("", (_Item(_source_line(plan)),)))

    for action, label in ACTION_LABELS:
        of_action = [c for c in changes if c.action is action]
        if of_action:
            shown = _capped(
                [_Item(f"- {_code(c.key.subject)}", c.key.subject) for c in of_action],
                _COMPACT_LIST if compact else None,
                lambda more: f"- … and {more} more",
            )
            sections.append(_Section(f"**{label}** ({len(of_action)})", tuple(shown)))

    drifted = [_drift_item(c) for c in changes if c.drifted]
    if drifted:
        shown = _capped(drifted, _COMPACT_LIST if compact else None, lambda m: f"- … and {m} more")
        sections.append(_Section("### Objects changed outside of Git", tuple(shown)))

    if changes:
        sections.append(
            _Section(
                "### Changes",
                tuple(_details(c, detail_limit) for c in changes),
                sep="\n\n",
            )
        )
    if plan.ignored:
        sections.append(
            _Section("### Ignored fields", tuple(_Item(f"- {_plain(i)}") for i in plan.ignored))
        )
    if plan.warnings:
        sections.append(
            _Section("### Warnings", tuple(_Item(f"- {_plain(w)}") for w in plan.warnings))
        )
    sections.append(_Section("", (_Item(_footer(plan)),)))
    return sections


def _capped(items: list[_Item], cap: int | None, more: Callable[[int], str]) -> list[_Item]:
    """The first ``cap`` items and a line saying how many more there are."""
    if cap is None or len(items) <= cap:
        return items
    return [*items[:cap], _Item(more(len(items) - cap))]


def _source_line(plan: Plan) -> str:
    src = plan.source
    # The full commit, unquoted: GitHub links a bare SHA to the commit.
    parts = [f"Stack {_code(plan.stack)}", f"commit {src.commit or '(unknown)'}"]
    if src.ref:
        parts.append(f"ref {_code(src.ref)}")
    if src.paths:
        parts.append("paths " + ", ".join(_code(p) for p in source_paths(src)))
    if src.recorded_paths:
        was = ", ".join(_code(p) for p in src.recorded_paths)
        parts.append(f"**{PATHS_CHANGED}** {was}")
    if src.tools:
        parts.append("rendered with " + ", ".join(src.tools))
    if src.url:
        parts.append(f"from {_code(src.url)}")
    if src.dirty:
        parts.append(f"**{DIRTY}**")
    return " · ".join(parts)


def _drift_item(change: ObjectChange) -> _Item:
    what = "; ".join(
        f"{_code(path)} {_plain(text)}" if path else _plain(text)
        for path, text in drift_items(change)
    )
    return _Item(f"- {_code(change.key.subject)}: {what}", change.key.subject)


def _details(change: ObjectChange, limit: int | None) -> _Item:
    subject = change.key.subject
    lines = [f"# {subject} {headline(change)}"]
    lines += [f"# ({_one_line(note)})" for note in change_notes(change)]
    lines.append(f"{change.action.symbol} {change.api_version} {subject}")
    for fc in change.fields:
        drawn = field_lines(fc, split=True)
        cause = f"   {drawn.cause}" if drawn.cause else ""
        # The symbol in column 0 is what makes GitHub colour a diff line.
        lines.append(f"{drawn.symbol}     {drawn.head}{cause}")
        if drawn.before is not None and drawn.after is not None:
            lines += [f"-         {drawn.before}", f"+         {drawn.after}"]
    if limit is not None:
        lines = _fit_lines(lines, limit)
    body = "\n".join(lines)
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    summary = html.escape(f"{change.action.symbol} {subject}", quote=False)
    text = f"<details><summary>{summary}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>"
    return _Item(text, subject, detail=True)


def _fit_lines(lines: list[str], limit: int) -> list[str]:
    """Keep the first lines of a diff within ``limit`` characters, saying what was cut."""
    overhead = 200  # <details>, fences and the closing note
    width = max(80, (limit - overhead) // 4)
    kept: list[str] = []
    used = 0
    for index, whole in enumerate(lines):
        line = whole
        if len(line) > width:
            line = f"{line[:width]} … ({len(line) - width} more characters)"
        if used + len(line) + 1 > limit - overhead:
            kept.append(f"# … {plural(len(lines) - index, 'more line')}; run kgit show PLAN")
            break
        kept.append(line)
        used += len(line) + 1
    return kept


def _footer(plan: Plan) -> str:
    parts = [f"state serial {plan.state_serial}"]
    if plan.state_lineage:
        parts.append(f"lineage {_code(plan.state_lineage)}")
    if plan.created_at:
        parts.append(f"planned at {_plain(plan.created_at)}")
    return f"<sub>kgit plan for stack {_code(plan.stack)} · {' · '.join(parts)}</sub>"


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _code(text: str) -> str:
    """Inline code that survives backticks in ``text`` (CommonMark: a longer fence)."""
    text = _one_line(text)
    run = _longest_backtick_run(text)
    if run == 0:
        return f"`{text}`"
    fence = "`" * (run + 1)
    return f"{fence} {text} {fence}"


def _plain(text: str) -> str:
    """Free text (warnings, notes) on one line, with HTML neutralised."""
    return html.escape(_one_line(text), quote=False)


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))
