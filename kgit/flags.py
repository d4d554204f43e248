"""How a verb's options are spelled on the command line, declared once beside their type.

A verb's options are one frozen dataclass (``PlanOptions``, ``ApplyOptions``, ...) made of
shared groups (the source, the cluster connection, SSH, output) and its own fields. Each
field says how it is spelled with :func:`flag`, or is a whole group with :func:`group`;
``kgit/cli`` reads these declarations to build the typer command, so no verb declares an
option twice and every verb that plans takes the same planning options.

This module is plain data: it imports neither typer nor anything of the services.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgit.watch.modes import AutoApply

FLAG = "kgit.flag"
GROUP = "kgit.group"


@dataclass(frozen=True, slots=True)
class Flag:
    """One option (``names`` like ``("--path", "-p")``) or, with ``argument``, an argument.

    ``minimum`` bounds a number; ``envvar`` is read when the option is not given;
    ``show_default`` False hides a default that would mislead (a computed one).
    """

    names: tuple[str, ...]
    help: str
    argument: bool = False
    metavar: str | None = None
    envvar: str | None = None
    minimum: int | None = None
    show_default: bool = True
    required: bool = False


def flag(
    *names: str,
    help: str,
    default: Any = None,
    argument: bool = False,
    metavar: str | None = None,
    envvar: str | None = None,
    minimum: int | None = None,
    show_default: bool = True,
    required: bool = False,
) -> Any:
    """A dataclass field spelled ``names`` on the command line (an option, or an argument).

    A tuple field is given as a repeated option (``--path a --path b``).
    """
    spec = Flag(
        names=names,
        help=help,
        argument=argument,
        metavar=metavar,
        envvar=envvar,
        minimum=minimum,
        show_default=show_default,
        required=required,
    )
    if required:
        return dataclasses.field(metadata={FLAG: spec})
    return dataclasses.field(default=default, metadata={FLAG: spec})


def group(factory: Any) -> Any:
    """A dataclass field holding a whole group of options (its fields are flattened)."""
    return dataclasses.field(default_factory=factory, metadata={GROUP: True})


def repo_flag() -> Any:
    """``--repo/-C``: the checkout that holds the manifests (or names the stack)."""
    return flag(
        "--repo",
        "-C",
        help="The Git checkout holding the manifests (any directory inside it).",
        default=Path(),
        show_default=False,
    )


def lock_timeout_flag() -> Any:
    """``--lock-timeout``: how long to wait for a stack's lock held by someone else."""
    return flag(
        "--lock-timeout",
        "-lock-timeout",
        help="Seconds to wait for the stack's lock held by another run.",
        default=0.0,
    )


def auto_approve_flag() -> Any:
    """``--auto-approve``: do not ask before changing the cluster (automation)."""
    return flag(
        "--auto-approve",
        "-auto-approve",
        help="Do not ask for approval (automation). Without it, kgit asks on a terminal.",
        default=False,
    )


def state_namespace_flag() -> Any:
    """``--state-namespace``: where the stacks' state, lock and status live."""
    return flag(
        "--state-namespace",
        help="Namespace of the state, lock and status (default: kgit.yaml's, else kgit-system).",
    )


class OutputFormat(enum.Enum):
    """How a plan is printed: for a terminal, a pull request, or machines."""

    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


class TableFormat(enum.Enum):
    """How a table (state, history, images) is printed."""

    TEXT = "text"
    JSON = "json"


def plan_format_flag() -> Any:
    """``--format`` of the verbs that print a plan."""
    return flag(
        "--format",
        "-f",
        help="text, markdown (for pull requests) or json (the plan file).",
        default=OutputFormat.TEXT,
    )


def table_format_flag() -> Any:
    """``--format`` of the verbs that print a table."""
    return flag("--format", "-f", help="text or json.", default=TableFormat.TEXT)


def git_url_flag() -> Any:
    """``--git-url``: a repository to read instead of a checkout."""
    return flag(
        "--git-url",
        help=(
            "A Git repository to read instead of a checkout: file://, ssh://user@host:port/path, "
            "user@host:path or https://; fetched into a cache under ~/.cache/kgit/repos."
        ),
        show_default=False,
    )


def ref_flag() -> Any:
    """``--ref``: the branch, tag or commit to read."""
    return flag(
        "--ref",
        "--git-ref",
        help="Branch, tag or commit to read the manifests from (of --git-url: its HEAD by default).",
        default="HEAD",
    )


def paths_flag() -> Any:
    """``--path``: what to read inside the repository (repeatable)."""
    return flag(
        "--path",
        "-p",
        help="A directory or file inside the repo (repeatable); default: kgit.yaml's paths, else all.",
        default=(),
        show_default=False,
    )


def auto_apply_flag() -> Any:
    """``--auto-apply``: what a watch round may apply without a person."""
    return flag(
        "--auto-apply",
        help=(
            "all: apply every plan; safe: apply plans without deletions or replacements, "
            "keep the others for kgit apply; none: only plan and report."
        ),
        default=AutoApply.SAFE,
    )


def interval_flag() -> Any:
    """``--interval``: the time between watch rounds."""
    return flag("--interval", help="Time between rounds: 30s, 5m, 1h (±10% jitter).", default="5m")


def plans_dir_flag() -> Any:
    """``--plans-dir``: where a watcher keeps the plans waiting for approval."""
    return flag(
        "--plans-dir", help="Where plans waiting for approval are stored.", default=Path("plans")
    )


def workload_flag() -> Any:
    """The WORKLOAD argument of the image automation verbs."""
    return flag(
        argument=True,
        metavar="WORKLOAD",
        help="namespace:kind/name (as fluxctl writes it) or Kind/namespace/name.",
        required=True,
    )


def verbose_flag() -> Any:
    """``--verbose/-v``: the traceback of an unexpected error."""
    return flag("--verbose", "-v", help="Show the traceback of unexpected errors.", default=False)


def insecure_host_key_flag() -> Any:
    """``--insecure-skip-host-key-check``: only ever by its full name."""
    return flag(
        "--insecure-skip-host-key-check",
        help="Do not check the SSH server's host key (anyone on the way could pose as it).",
        default=False,
    )


def allow_cascade_flag() -> Any:
    """``--allow-cascade``: a Namespace delete may take objects the stack does not own."""
    return flag(
        "--allow-cascade",
        help="Allow deleting a Namespace that holds objects this stack does not own "
        "(the plan lists them).",
        default=False,
    )


def out_flag() -> Any:
    """``--out``: where a verb that plans stores its plan."""
    return flag(
        "--out",
        "-o",
        help="Store the plan as JSON in FILE (a directory, or a path ending in /: plans/<stack>-<time>.json).",
    )
