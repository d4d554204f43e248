"""The benchmark's results: JSON (every sample), a Markdown report and a plot."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

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
PEERS = {
    "first_plan": "kubectl diff",
    "first_apply": "kubectl apply --server-side",
    "noop_plan": "kubectl diff",
    "change_plan": "kubectl diff",
    "noop_apply": "kubectl apply --server-side",
}

METHOD = (
    "- One stack per N in a Git repository: per namespace, 12 apps of a ConfigMap, a "
    "Secret, a ServiceAccount, a Role and RoleBinding, a Deployment, a headless Service "
    "and a custom resource (its CRD installed beforehand), cut at exactly N objects.",
    "- kgit's steps run first, then kubectl's, each from an empty cluster, on the same files; "
    "every first apply starts from an empty cluster (the stack deleted and waited for).",
    "- first plan: `kgit plan` vs `kubectl diff --server-side`, with the stack's namespaces "
    "already created (empty): kubectl diff stops at the first object whose namespace does "
    "not exist. Both then ask the server for a dry-run of every object.",
    "- first and no-op apply: `kgit apply --auto-approve` vs `kubectl apply --server-side "
    "--force-conflicts` (kgit forces too).",
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


def ratio_table(sizes: list[SizeResult]) -> str:
    """kgit / kubectl per step and N: the README's table."""
    head = "| step (kgit vs kubectl) | " + " | ".join(f"N = {r.n:,}" for r in sizes) + " |"
    lines = [head, "|---|" + "---|" * len(sizes)]
    for step, title in STEP_TITLES.items():
        cells = [_ratio(r.samples[step]["kgit"], r.samples[step]["kubectl"]) for r in sizes]
        lines.append(f"| {title}: kgit / {PEERS[step]} | " + " | ".join(cells) + " |")
    cells = [_ratio(r.samples["noop_plan"]["kgit"], r.samples["floor"]["floor"]) for r in sizes]
    lines.append("| no-op plan: kgit / LIST floor | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def absolute_table(sizes: list[SizeResult]) -> str:
    """Median (min-max) seconds of every step, tool and N."""
    lines = [
        "| step | tool | " + " | ".join(f"N = {r.n:,}" for r in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for step, title in STEP_TITLES.items():
        for tool in ("kgit", "kubectl"):
            cells = [spread(r.samples[step][tool]) for r in sizes]
            lines.append(f"| {title} | {tool} | " + " | ".join(cells) + " |")
    cells = [spread(r.samples["floor"]["floor"]) for r in sizes]
    lines.append("| LIST floor (raw HTTPS, same LISTs) | — | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def resource_table(sizes: list[SizeResult]) -> str:
    """Peak RSS, the recorded state's size, and the shape of each stack."""

    def peak(r: SizeResult, tool: str, steps: tuple[str, ...]) -> str:
        return f"{max(s.rss_mb for st in steps for s in r.samples[st][tool]):.0f} MB"

    rows: list[tuple[str, Callable[[SizeResult], str]]] = [
        ("namespaces", lambda r: str(r.namespaces)),
        ("objects changed in Git / drifted", lambda r: f"{r.changed} / {r.drifted}"),
        (
            "kgit peak RSS, plans",
            lambda r: peak(r, "kgit", ("first_plan", "noop_plan", "change_plan")),
        ),
        ("kgit peak RSS, applies", lambda r: peak(r, "kgit", ("first_apply", "noop_apply"))),
        (
            "kubectl peak RSS, diff / apply",
            lambda r: (
                f"{peak(r, 'kubectl', ('noop_plan',))} / {peak(r, 'kubectl', ('first_apply',))}"
            ),
        ),
        (
            "recorded state (gzip JSON)",
            lambda r: f"{r.state_bytes / 1024:,.0f} KiB in {r.state_secrets} Secret(s)",
        ),
        (
            "state read back intact (load time)",
            lambda r: f"{'yes' if r.state_intact else 'NO'} ({r.state_load_seconds:.2f} s)",
        ),
    ]
    lines = [
        "| | " + " | ".join(f"N = {r.n:,}" for r in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in sizes) + " |" for name, cell in rows]
    return "\n".join(lines)


def targets(
    sizes: list[SizeResult], startup: dict[str, list[Sample]]
) -> list[tuple[str, str, bool | None]]:
    """Each target of issue 7: (target, measured, met); met is None when not measured."""
    by_n = {r.n: r for r in sizes}
    out: list[tuple[str, str, bool | None]] = []

    def at(n: int) -> SizeResult | None:
        return by_n.get(n)

    r = at(1000)
    if r:
        ratio = median(r.samples["noop_plan"]["kubectl"]) / median(r.samples["noop_plan"]["kgit"])
        out.append(
            (
                "no-op plan at 1,000 >= 10x faster than kubectl diff",
                f"{ratio:.1f}x faster",
                ratio >= 10,
            )
        )
    r = at(10000)
    if r:
        t = median(r.samples["noop_plan"]["kgit"])
        out.append(("no-op plan at 10,000 under 20 s", f"{t:.1f} s", t < 20))
        rss = max(
            s.rss_mb
            for st in ("first_plan", "noop_plan", "change_plan", "first_apply", "noop_apply")
            for s in r.samples[st]["kgit"]
        )
        out.append(("kgit peak RSS at 10,000 under 400 MB", f"{rss:.0f} MB", rss < 400))
        out.append(
            (
                "10,000-object state stored and read back intact",
                f"{r.state_bytes / 1024:,.0f} KiB gzip in {r.state_secrets} Secret(s); {'intact' if r.state_intact else 'NOT intact'}",
                r.state_intact,
            )
        )
    big = [r for r in sizes if r.n >= 1000]
    if big:
        ratios = [
            median(r.samples["noop_plan"]["kgit"]) / median(r.samples["floor"]["floor"])
            for r in big
        ]
        worst = max(ratios)
        out.append(
            (
                "no-op plan over the LIST floor <= 2x at >= 1,000",
                ", ".join(f"{x:.1f}x" for x in ratios),
                worst <= 2,
            )
        )
    r = at(1000)
    if r:
        a, b = median(r.samples["first_apply"]["kgit"]), median(r.samples["first_apply"]["kubectl"])
        out.append(
            (
                "first apply at 1,000 at least as fast as kubectl apply --server-side",
                f"{a:.2f} s vs {b:.2f} s",
                a <= b,
            )
        )
    v = median(startup["version"])
    out.append(("kgit --version under 0.3 s", f"{v:.3f} s", v < 0.3))
    return out


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
        "# kgit vs kubectl: benchmark results",
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
        "## kgit / kubectl (median time ratio; below 1 means kgit is faster)",
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
        "## Targets (issue 7)",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[f"| {t} | {m} | {'yes' if ok else 'no'} |" for t, m, ok in targets(sizes, startup)],
        "",
    ]
    notes = sorted({n for r in sizes for n in r.notes})
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    (out / "results.md").write_text("\n".join(lines))
    if plot:
        write_plot(out / "time-vs-n.png", sizes)


def write_plot(path: Path, sizes: list[SizeResult]) -> None:
    """Time vs N, one panel per step: kgit, kubectl and (for plans) the LIST floor."""
    ns = [r.n for r in sizes]
    # The Figure API renders straight to PNG: no pyplot, no GUI backend, no global state.
    fig = Figure(figsize=(13, 7.5))
    axes = fig.subplots(2, 3)
    panels = list(STEP_TITLES.items())
    for ax, (step, title) in zip(axes.flat, panels, strict=False):
        for tool, style in (("kgit", "o-"), ("kubectl", "s--")):
            samples = [r.samples[step][tool] for r in sizes]
            med = [median(s) for s in samples]
            low = [m - min(x.seconds for x in s) for m, s in zip(med, samples, strict=True)]
            high = [max(x.seconds for x in s) - m for m, s in zip(med, samples, strict=True)]
            ax.errorbar(
                ns,
                med,
                yerr=[low, high],
                fmt=style,
                capsize=3,
                label=tool if tool == "kgit" else PEERS[step],
            )
        if step.endswith("plan") and step != "first_plan":
            ax.plot(
                ns, [median(r.samples["floor"]["floor"]) for r in sizes], "k:", label="LIST floor"
            )
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("objects (N)")
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    last = axes.flat[len(panels)]
    last.set_title("kgit peak RSS")
    for step, style in (("noop_plan", "o-"), ("first_apply", "s--")):
        last.plot(
            ns,
            [max(s.rss_mb for s in r.samples[step]["kgit"]) for r in sizes],
            style,
            label=STEP_TITLES[step],
        )
    last.set_xscale("log")
    last.set_xlabel("objects (N)")
    last.set_ylabel("MB")
    last.grid(True, which="both", alpha=0.3)
    last.legend(fontsize=8)
    fig.suptitle("kgit vs kubectl on one local kube-apiserver (median, min-max bars)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
