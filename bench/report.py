"""The benchmark's results: JSON (every sample), a Markdown report and a plot."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from bench.peers import COMMAND_TITLES, TOOLS

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bench.main import Sample, SizeResult

STEP_TITLES = {
    "first_plan": "first plan (all creates)",
    "first_apply": "first apply",
    "noop_plan": "no-op plan",
    "change_plan": "plan, 1% changed + 1% drifted",
    "noop_apply": "no-op apply",
}
# Which of a tool's commands each step runs.
STEP_COMMANDS = {
    "first_plan": "plan",
    "first_apply": "apply",
    "noop_plan": "plan",
    "change_plan": "plan",
    "noop_apply": "apply",
}
PEER_TOOLS = tuple(t for t in TOOLS if t != "kgit")
STYLES = {"kgit": "o-", "kubectl": "s--", "kapp": "^-.", "flux": "D:"}


def command_title(step: str, tool: str) -> str:
    """What ``tool`` runs for ``step``: ``kubectl diff``, ``kapp deploy``..."""
    return COMMAND_TITLES[tool][STEP_COMMANDS[step]]


METHOD = (
    "- One stack per N in a Git repository: per namespace, 12 apps of a ConfigMap, a "
    "Secret, a ServiceAccount, a Role and RoleBinding, a Deployment, a headless Service "
    "and a custom resource (its CRD installed beforehand), cut at exactly N objects.",
    "- Four tools, one after the other, each from an empty cluster, on the same files: kgit, "
    "kubectl, Carvel kapp, and Flux's apply engine (`fluxcd/pkg/ssa` in a small Go program, "
    "hack/fluxssa: its `Diff` per object in order as `flux diff kustomization` does, "
    "`ApplyAllStaged` as kustomize-controller does, with its owner labels, field manager, "
    "QPS 50/burst 300 and 4 concurrent drift checks). Every first apply starts from an "
    "empty cluster (the stack deleted and waited for).",
    "- first plan: `kgit plan`, `kubectl diff --server-side`, `kapp deploy --diff-run` and "
    "the Flux engine's Diff, with the stack's namespaces already created (empty): kubectl "
    "diff stops at the first object whose namespace does not exist.",
    "- first and no-op apply: `kgit apply --auto-approve`, `kubectl apply --server-side "
    "--force-conflicts` (kgit and the Flux engine force too), `kapp deploy --yes "
    "--wait=false` (no tool waits for workloads).",
    "- After each first apply and after the drift, the bench waits until every Deployment "
    "has created its pods (the control plane runs the controllers and kwok's fake nodes), "
    "so no tool's step shares the cores with a rollout.",
    "- Every step checks the number of changed objects each tool reports: N on the first "
    "plan and apply, 0 on a no-op, exactly the edited plus drifted objects on the plan with "
    "changes (`kubectl apply` names every object it applies, changed or not: N).",
    "- plan with changes: 1% of the objects edited in a new commit (ConfigMap values, "
    "image tags) and another 1% changed live by another field manager (ConfigMap values, "
    "replicas); kgit's plan is checked to hold exactly those updates.",
    "- LIST floor: a separate Python process (standard library only) making the same "
    "LISTs as kgit's plan (per kind, per namespace up to 16 namespaces, else cluster-wide; "
    "pages of 500; 12 threads; every page parsed), and nothing else.",
    "- Wall times include each command's start-up; peak RSS is the child's maxrss.",
)


def median(samples: list[Sample]) -> float:
    """The median wall time of ``samples``."""
    return statistics.median(s.seconds for s in samples)


def spread(samples: list[Sample]) -> str:
    """``median (min-max)`` in seconds."""
    secs = [s.seconds for s in samples]
    if len(secs) == 1:
        return f"{secs[0]:.2f}"
    return f"{statistics.median(secs):.2f} ({min(secs):.2f}-{max(secs):.2f})"


def _ratio(kgit: list[Sample], peer: list[Sample]) -> str:
    a, b = median(kgit), median(peer)
    return f"**{a / b:.2f}x** ({a:.2f} s / {b:.2f} s)"


def _columns(sizes: list[SizeResult]) -> str:
    return " | ".join(f"N = {r.n:,}" for r in sizes) + " |"


def ratio_table(sizes: list[SizeResult]) -> str:
    """kgit / each peer per step and N: the README's table."""
    lines = ["| step: kgit / peer | " + _columns(sizes), "|---|" + "---|" * len(sizes)]
    for step, title in STEP_TITLES.items():
        for peer in PEER_TOOLS:
            cells = [_ratio(r.samples[step]["kgit"], r.samples[step][peer]) for r in sizes]
            row = f"| {title}: kgit / {command_title(step, peer)} | "
            lines.append(row + " | ".join(cells) + " |")
    cells = [_ratio(r.samples["noop_plan"]["kgit"], r.samples["floor"]["floor"]) for r in sizes]
    lines.append("| no-op plan: kgit / LIST floor | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def absolute_table(sizes: list[SizeResult]) -> str:
    """Median (min-max) seconds of every step, tool and N."""
    lines = ["| step | tool | " + _columns(sizes), "|---|---|" + "---|" * len(sizes)]
    for step, title in STEP_TITLES.items():
        for tool in TOOLS:
            cells = [spread(r.samples[step][tool]) for r in sizes]
            lines.append(f"| {title} | {command_title(step, tool)} | " + " | ".join(cells) + " |")
    cells = [spread(r.samples["floor"]["floor"]) for r in sizes]
    lines.append("| LIST floor (raw HTTPS, same LISTs) | — | " + " | ".join(cells) + " |")
    return "\n".join(lines)


PLANS = ("first_plan", "noop_plan", "change_plan")
APPLIES = ("first_apply", "noop_apply")


def peak_rss(r: SizeResult, tool: str, steps: tuple[str, ...]) -> float:
    """The largest peak RSS, in MB, of ``tool``'s runs of ``steps``."""
    return max(s.rss_mb for st in steps for s in r.samples[st][tool])


def resource_table(sizes: list[SizeResult]) -> str:
    """Peak RSS per tool, the recorded state's size, and the shape of each stack."""

    def rss(tool: str) -> Callable[[SizeResult], str]:
        return lambda r: f"{peak_rss(r, tool, PLANS):.0f} / {peak_rss(r, tool, APPLIES):.0f} MB"

    rows: list[tuple[str, Callable[[SizeResult], str]]] = [
        ("namespaces", lambda r: str(r.namespaces)),
        ("objects changed in Git / drifted", lambda r: f"{r.changed} / {r.drifted}"),
        *[(f"{tool} peak RSS, plans / applies", rss(tool)) for tool in TOOLS],
        (
            "kgit's recorded state (gzip JSON)",
            lambda r: f"{r.state_bytes / 1024:,.0f} KiB in {r.state_secrets} Secret(s)",
        ),
        (
            "state read back intact (load time)",
            lambda r: f"{'yes' if r.state_intact else 'NO'} ({r.state_load_seconds:.2f} s)",
        ),
    ]
    lines = ["| | " + _columns(sizes), "|---|" + "---|" * len(sizes)]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in sizes) + " |" for name, cell in rows]
    return "\n".join(lines)


def slower_steps(r: SizeResult) -> list[tuple[float, str]]:
    """(kgit / peer, "step vs peer") for each pair where kgit's median is not the lower."""
    pairs = []
    for step, title in STEP_TITLES.items():
        for peer in PEER_TOOLS:
            ratio = median(r.samples[step]["kgit"]) / median(r.samples[step][peer])
            if ratio >= 1:
                pairs.append((ratio, f"{title} vs {command_title(step, peer)}"))
    return sorted(pairs, reverse=True)


def floor_ratio(r: SizeResult) -> float:
    """kgit's no-op plan over the LIST floor."""
    return median(r.samples["noop_plan"]["kgit"]) / median(r.samples["floor"]["floor"])


Target = tuple[str, str, bool | None]


def targets(sizes: list[SizeResult], startup: dict[str, list[Sample]]) -> list[Target]:
    """The bench's targets (issue 15): (target, measured, met); met None: not measured."""
    by_n = {r.n: r for r in sizes}
    out: list[Target] = []
    for n in (10, 100):
        r = by_n.get(n)
        if r:
            slower = slower_steps(r)
            total = len(STEP_TITLES) * len(PEER_TOOLS)
            measured = (
                f"slower in {len(slower)} of {total} step-peer pairs; the worst "
                f"{slower[0][0]:.1f}x ({slower[0][1]})"
                if slower
                else f"faster in all {total} step-peer pairs"
            )
            out.append(
                (f"N = {n}: kgit faster than every peer in every step", measured, not slower)
            )
    r = by_n.get(10)
    if r:
        t = median(r.samples["noop_plan"]["kgit"])
        c = median(r.samples["change_plan"]["kgit"])
        out.append(
            (
                "`kgit plan` of a 10-object stack under 0.3 s",
                f"no-op {t:.2f} s, with changes {c:.2f} s",
                max(t, c) < 0.3,
            )
        )
    big = [r for r in sizes if r.n >= 1000]
    if big:
        ratios = [floor_ratio(r) for r in big]
        out.append(
            (
                "no-op plan <= 2x the LIST floor at N >= 1,000",
                ", ".join(f"{x:.1f}x (N = {r.n:,})" for x, r in zip(ratios, big, strict=True)),
                max(ratios) <= 2,
            )
        )
    r = by_n.get(10000)
    if r:
        t = median(r.samples["noop_plan"]["kgit"])
        out.append(("no-op plan at 10,000 under 3 s", f"{t:.2f} s", t < 3))
        rss = peak_rss(r, "kgit", PLANS + APPLIES)
        out.append(("kgit peak RSS at 10,000 under 150 MB", f"{rss:.0f} MB", rss < 150))
    r = by_n.get(1000)
    if r:
        ratio = median(r.samples["first_plan"]["kubectl"]) / median(r.samples["first_plan"]["kgit"])
        out.append(
            (
                "first plan at 1,000 >= 5x faster than kubectl diff",
                f"{ratio:.1f}x faster",
                ratio >= 5,
            )
        )
    out.append(
        ("a watcher's no-op round at 1,000 <= 1.2x the LIST floor", "not in this bench", None)
    )
    out.append(("Kustomize stack no-op plan <= 1.3x plain YAML", "not in this bench", None))
    v = median(startup["version"])
    out.append(("kgit --version under 0.3 s (issue 7)", f"{v:.3f} s", v < 0.3))
    return out


def _met(ok: bool | None) -> str:
    return "not measured" if ok is None else "yes" if ok else "no"


def write_results(
    out: Path,
    meta: dict[str, Any],
    sizes: list[SizeResult],
    startup: dict[str, list[Sample]],
    plot: bool = True,
) -> None:
    """results.json, results.md and (with ``plot``) time-vs-n.png under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "meta": meta,
        "startup": {k: [asdict(s) for s in v] for k, v in startup.items()},
        "sizes": [asdict(r) for r in sizes],
    }
    (out / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
    lines = [
        "# kgit vs kubectl, kapp and Flux's engine: benchmark results",
        "",
        f"Run {meta['date']} with `{meta['command']}` ({meta['repeat']} repetitions per step; "
        "median, with min-max in the absolute table).",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in meta["machine"].items()],
        "",
        "## Method",
        "",
        *METHOD,
        "",
        "## kgit / each peer (median time ratio; below 1 means kgit is faster)",
        "",
        ratio_table(sizes),
        "",
        "## Absolute times (seconds: median (min-max))",
        "",
        absolute_table(sizes),
        "",
        "## Memory, state and stacks",
        "",
        resource_table(sizes),
        "",
        "## Start-up",
        "",
        f"- `kgit --version`: {spread(startup['version'])} s",
        f"- `kgit --help`: {spread(startup['help'])} s",
        "",
        "## Targets (issue 15)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[f"| {t} | {m} | {_met(ok)} |" for t, m, ok in targets(sizes, startup)],
        "",
    ]
    notes = sorted({n for r in sizes for n in r.notes})
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    (out / "results.md").write_text("\n".join(lines))
    if plot:
        write_plot(out / "time-vs-n.png", sizes)


def write_plot(path: Path, sizes: list[SizeResult]) -> None:
    """Time vs N, one panel per step: every tool and (for plans) the LIST floor; then RSS."""
    ns = [r.n for r in sizes]
    # The Figure API renders straight to PNG: no pyplot, no GUI backend, no global state.
    fig = Figure(figsize=(14, 8.5))
    axes = fig.subplots(2, 3)
    panels = list(STEP_TITLES.items())
    for ax, (step, title) in zip(axes.flat, panels, strict=False):
        for tool in TOOLS:
            samples = [r.samples[step][tool] for r in sizes]
            med = [median(s) for s in samples]
            low = [m - min(x.seconds for x in s) for m, s in zip(med, samples, strict=True)]
            high = [max(x.seconds for x in s) - m for m, s in zip(med, samples, strict=True)]
            ax.errorbar(
                ns,
                med,
                yerr=[low, high],
                fmt=STYLES[tool],
                capsize=3,
                label=command_title(step, tool),
            )
        if step in ("noop_plan", "change_plan"):
            ax.plot(
                ns, [median(r.samples["floor"]["floor"]) for r in sizes], "k:", label="LIST floor"
            )
        _axes(ax, title, "seconds", log_y=True)
    last = axes.flat[len(panels)]
    for tool in TOOLS:
        last.plot(ns, [peak_rss(r, tool, PLANS + APPLIES) for r in sizes], STYLES[tool], label=tool)
    _axes(last, "peak RSS (any step)", "MB", log_y=False)
    fig.suptitle(
        "kgit vs kubectl, kapp and Flux's engine on one local kube-apiserver (median, min-max bars)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _axes(ax: Any, title: str, unit: str, *, log_y: bool) -> None:
    ax.set_title(title)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("objects (N)")
    ax.set_ylabel(unit)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
