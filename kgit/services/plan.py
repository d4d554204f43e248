"""``kgit plan`` as a service: read the source, gather the three sides, dry-run, compute."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kgit.cluster.dryrun import dry_run_all
from kgit.errors import ConfigError
from kgit.manifests.applied import applied_form
from kgit.plan.compute import compute_candidates, compute_plan, ignored_fields
from kgit.plan.inputs import PlanOptions as PlanSettings
from kgit.plan.model import PlanSource
from kgit.plan.store import default_plan_path, write_plan
from kgit.services.connect import connect_cluster
from kgit.services.gather import Gathered, gather
from kgit.services.origin import check_origin, paths_changed
from kgit.services.source import check_source, open_spec
from kgit.services.target import resolve_target
from kgit.source.read import read_source

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.cluster.client import Cluster
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.model import Plan
    from kgit.services.options import PlanningOptions
    from kgit.services.target import Target
    from kgit.services.verbs import PlanOptions
    from kgit.source.read import Source


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A computed plan with what applying it needs: what was read to compute it."""

    plan: Plan
    gathered: Gathered


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """What ``kgit plan`` did: the plan, and where it was stored (if ``--out``)."""

    plan: Plan
    stored: Path | None


def run_plan(options: PlanOptions, progress: Callable[[str], None]) -> PlanOutcome:
    """Plan the source of ``options`` against its stack, storing it with ``--out``.

    Raises what reading the source, the state and the cluster raise, and
    :class:`PlanError` when the plan cannot be trusted.
    """
    if options.out is not None:
        plan_file_path(options.out, "check")  # a bad --out is refused before planning
    check_source(options.inputs.source)
    with connect_cluster(options.inputs.cluster) as cluster:
        spec, commit = open_spec(cluster, options.inputs.source)
        source = read_source(spec, commit=commit)
        target = resolve_target(options.inputs.target, spec.repo, source.config)
        plan = make_plan(cluster, source, target, options.inputs.planning, progress=progress).plan
    stored = None
    if options.out is not None:
        stored = plan_file_path(options.out, plan.stack)
        write_plan(plan, stored)
        progress(f"plan stored in {stored}")
    return PlanOutcome(plan, stored)


def plan_file_path(out: str, stack: str) -> Path:
    """``--out`` as a file: a directory (existing, or spelled with a trailing ``/``)
    gets the default name ``<stack>-<time>.json`` inside it; anything else is the file.

    Raises :class:`ConfigError` when a file stands where a directory must be.
    """
    target = Path(out)
    if out.endswith("/") or target.is_dir():
        target = target / default_plan_path(stack, datetime.now(UTC)).name
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(
                f"--out {out}: {parent} is a file, not a directory (a trailing / or an "
                "existing directory means a directory)"
            )
    return target


def make_plan(
    cluster: Cluster,
    source: Source,
    target: Target,
    planning: PlanningOptions,
    *,
    progress: Callable[[str], None] | None = None,
) -> PlanRun:
    """Compute the plan for ``source`` against the cluster and the recorded state.

    Gathers the three sides, then dry-runs the objects that may change (and the new
    ones whose namespace exists, so the server validates them now rather than at apply
    time). Raises what :func:`gather` raises, and :class:`PlanError` when the plan
    cannot be trusted.
    """
    say = progress or (lambda _: None)
    seen = gather(cluster, source, target, planning, progress=progress)
    state = seen.handle.state
    check_origin(state, source, allow_change=planning.allow_source_change)
    to_check = _to_dry_run(seen)
    say(f"dry-running {len(to_check)} objects")
    inputs, rules = seen.inputs, seen.rules
    dry_runs = dry_run_all(
        cluster,
        {
            key: applied_form(seen.desired[key], ignored_fields(key, rules), key in inputs.live)
            for key in to_check
        },
        seen.handle.state.hmac_key,
        seen.sensitive,
    )
    max_delete = planning.max_delete
    plan = compute_plan(
        dataclasses.replace(inputs, dry_runs=dry_runs),
        source=PlanSource(
            url=source.url,
            commit=source.commit,
            paths=source.paths,
            ref=source.ref,
            dirty=source.dirty,
            recorded_paths=paths_changed(state, source),
            reads=source.layout.reads,
            tools=seen.built.tools if seen.built else (),
        ),
        serial=seen.handle.serial,
        lineage=seen.handle.lineage,
        options=PlanSettings(
            allow_empty=planning.allow_empty,
            max_delete=max_delete if max_delete is not None else source.config.max_delete,
            adopt=planning.adopt,
            default_namespace=planning.default_namespace or source.config.default_namespace,
            state_namespace=target.state_namespace,
            take_over_from=planning.take_over_from,
            allow_source_change=planning.allow_source_change,
            manifest_generation=planning.manifest_generation,
            allow_cascade=planning.allow_cascade,
        ),
        rules=rules,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if seen.built and seen.built.warnings:
        # What rendering left out (Helm hooks) is said before what the plan found.
        plan = dataclasses.replace(plan, warnings=(*seen.built.warnings, *plan.warnings))
    return PlanRun(plan=plan, gathered=seen)


def _to_dry_run(seen: Gathered) -> set[ObjectKey]:
    """Objects that may change, and new ones the server can validate now (namespace exists)."""
    inputs = seen.inputs
    return compute_candidates(inputs, seen.rules) | {
        key
        for key in seen.desired
        if key not in inputs.live
        and (key.group, key.kind) not in inputs.pending_kinds
        and (key.group, key.kind) not in inputs.unlisted_kinds
        and (not key.namespace or key.namespace in seen.existing_namespaces)
    }
