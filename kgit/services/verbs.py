"""Each verb's options: one frozen dataclass per verb, made of the shared groups.

Light by design (no import of the cluster client or GitPython): ``kgit --help`` reads
these declarations to build every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kgit.flags import (
    OutputFormat,
    TableFormat,
    allow_cascade_flag,
    auto_approve_flag,
    flag,
    group,
    lock_timeout_flag,
    out_flag,
    plan_format_flag,
    repo_flag,
    state_namespace_flag,
    table_format_flag,
)
from kgit.services.options import (
    ClusterOptions,
    ColorOptions,
    PlanInputOptions,
    TargetOptions,
    VerboseOptions,
)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """``kgit plan``: compute, store and render a plan."""

    inputs: PlanInputOptions = group(PlanInputOptions)
    fmt: OutputFormat = plan_format_flag()
    out: str | None = out_flag()
    detailed_exitcode: bool = flag(
        "--detailed-exitcode",
        "-detailed-exitcode",
        help="Exit 0 when there are no changes, 2 when there are, 1 on error (Terraform's codes).",
        default=False,
    )
    view: ColorOptions = group(ColorOptions)


@dataclass(frozen=True, slots=True)
class ShowOptions:
    """``kgit show``: render a stored plan."""

    plan_file: Path = flag(
        argument=True, metavar="PLAN", help="A plan file from kgit plan --out.", required=True
    )
    fmt: OutputFormat = plan_format_flag()
    view: ColorOptions = group(ColorOptions)


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """``kgit apply``: a stored plan exactly, or plan now and ask."""

    plan_file: Path | None = flag(
        argument=True, metavar="[PLAN]", help="A stored plan to apply exactly (kgit plan --out)."
    )
    pending: bool = flag(
        "--pending",
        help="Apply the plan kgit watch left for approval (in its status ConfigMap).",
        default=False,
    )
    inputs: PlanInputOptions = group(PlanInputOptions)
    auto_approve: bool = auto_approve_flag()
    lock_timeout: float = lock_timeout_flag()
    allow_replace: bool = flag(
        "--allow-replace",
        help="Delete and re-create objects whose immutable fields changed.",
        default=False,
    )
    wait: bool = flag(
        "--wait",
        help="Wait until what was created or updated is healthy (Current), deleted objects "
        "(and namespaces' contents) gone; apply kgit.dev/depends-on in order.",
        default=False,
    )
    wait_timeout: str = flag(
        "--wait-timeout",
        metavar="DURATION",
        help="How long --wait waits: 30s, 5m, 1h.",
        default="5m",
    )
    concurrency: int = flag(
        "--concurrency", help="Objects applied at once within a step.", default=8, minimum=1
    )
    view: ColorOptions = group(ColorOptions)


@dataclass(frozen=True, slots=True)
class ForceUnlockOptions:
    """``kgit force-unlock``: release a lock whose holder died."""

    lock_id: str = flag(
        argument=True,
        metavar="[ID]",
        help="The lock ID the error named (none for a Lease that has none).",
        default="",
    )
    repo: Path = repo_flag()
    target: TargetOptions = group(TargetOptions)
    cluster: ClusterOptions = group(ClusterOptions)
    force: bool = flag("--force", "-force", help="Do not ask.", default=False)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class StackTableOptions:
    """``kgit history``, ``kgit status`` and ``kgit state show``: one stack's records, as
    a table or JSON."""

    repo: Path = repo_flag()
    target: TargetOptions = group(TargetOptions)
    cluster: ClusterOptions = group(ClusterOptions)
    fmt: TableFormat = table_format_flag()
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class StateListOptions:
    """``kgit state list``: the stacks that have a state."""

    repo: Path = repo_flag()
    state_namespace: str | None = state_namespace_flag()
    orphans: bool = flag(
        "--orphans",
        help="List instead the objects labelled for stacks that have no state (lost states).",
        default=False,
    )
    cluster: ClusterOptions = group(ClusterOptions)
    fmt: TableFormat = table_format_flag()
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class StateRmOptions:
    """``kgit state rm``: stop tracking objects, leaving them in the cluster."""

    keys: tuple[str, ...] = flag(
        argument=True,
        metavar="KEY...",
        help="Object keys group/kind/namespace/name.",
        required=True,
    )
    repo: Path = repo_flag()
    target: TargetOptions = group(TargetOptions)
    cluster: ClusterOptions = group(ClusterOptions)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class StateRecoverOptions:
    """``kgit state recover``: record again the objects labelled for the stack."""

    repo: Path = repo_flag()
    target: TargetOptions = group(TargetOptions)
    cluster: ClusterOptions = group(ClusterOptions)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class DestroyOptions:
    """``kgit destroy``: delete every object the stack owns, then its state, lock and status."""

    repo: Path = repo_flag()
    target: TargetOptions = group(TargetOptions)
    allow_cascade: bool = allow_cascade_flag()
    cluster: ClusterOptions = group(ClusterOptions)
    auto_approve: bool = auto_approve_flag()
    lock_timeout: float = lock_timeout_flag()
    out: str | None = out_flag()
    fmt: OutputFormat = plan_format_flag()
    wait: bool = flag(
        "--wait",
        help="Wait for deleted objects (and namespaces' contents) to be gone.",
        default=False,
    )
    view: ColorOptions = group(ColorOptions)
