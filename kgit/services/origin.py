"""Which repository a stack belongs to: recorded at apply, checked at plan.

A stack applied from one repository and planned from another (a wrong checkout, two
checkouts that share a directory name) would plan deleting everything the first one
applied. The state records the repository's root commits, its URL and the paths; a plan
from a repository that does not hold the last applied commit is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.errors import PlanError
from kgit.source.git import has_commit, root_commits
from kgit.state.model import SourceRecord

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.plan.model import PlanSource
    from kgit.source.read import Source
    from kgit.state.model import State


def origin_of(repo: Path, source: PlanSource) -> SourceRecord:
    """What the state records of where ``source`` (read from ``repo``) came from."""
    return SourceRecord(url=source.url, roots=root_commits(repo, source.commit), paths=source.paths)


def check_origin(state: State, source: Source, *, allow_change: bool) -> None:
    """Refuse to plan ``state``'s stack from a repository without its last applied commit.

    Raises :class:`PlanError` saying where the stack was last applied from, unless
    ``allow_change`` (``--allow-source-change``). A state never applied, or a repository
    holding the commit (a later commit of the same history), passes.
    """
    if allow_change or not state.commit or has_commit(source.repo, state.commit):
        return
    recorded = state.source
    url = recorded.url or "(a repository not recorded)"
    why = ""
    if recorded.roots and not set(recorded.roots) & set(root_commits(source.repo, source.commit)):
        why = " (another repository: its first commits differ)"
    raise PlanError(
        f"stack {state.stack} was last applied from {url} at {state.commit[:12]}, which this "
        f"repository does not contain{why}; use --stack to name another stack, or "
        "--allow-source-change"
    )


def paths_changed(state: State, source: Source) -> tuple[str, ...]:
    """The paths of the last apply when this source reads others (else ``()``)."""
    was = state.source.paths
    return was if was and tuple(sorted(was)) != tuple(sorted(source.paths)) else ()
