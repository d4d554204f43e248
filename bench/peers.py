"""The tools the benchmark compares: their commands, how each reports its changes, and the
build of the two Go peers.

- kgit: ``kgit plan`` / ``kgit apply --auto-approve``.
- kubectl: ``kubectl diff --server-side`` / ``kubectl apply --server-side``.
- kapp (Carvel): ``kapp deploy --diff-run`` / ``kapp deploy --yes --wait=false``.
- flux: Flux's apply engine (``fluxcd/pkg/ssa``) in a small program of this project
  (hack/fluxssa/main.go): one server-side dry-run ``Diff`` per object as ``flux diff
  kustomization`` does, and ``ApplyAllStaged`` as kustomize-controller does.

kapp and the Flux program are built from the Go module proxy in their wrapper modules
under hack/ and cached under ~/.cache/kgit-test, as scripts/controlplane caches the
control plane (``python -m bench.peers`` builds them; scripts/setup runs it).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
HACK = ROOT / "hack"
TOOLS = ("kgit", "kubectl", "kapp", "flux")
KAPP_VERSION = "v0.66.0"
FLUX_SSA_VERSION = "v0.78.0"
# The app kapp records its deploys under (ConfigMaps in this namespace).
KAPP_NAMESPACE = "default"
# kubectl diff exits 1 when it found differences, >1 on errors.
KUBECTL_DIFF_OK = (0, 1)

# What each tool names the step's command in the report.
COMMAND_TITLES = {
    "kgit": {"plan": "kgit plan", "apply": "kgit apply"},
    "kubectl": {"plan": "kubectl diff", "apply": "kubectl apply --server-side"},
    "kapp": {"plan": "kapp deploy --diff-run", "apply": "kapp deploy"},
    "flux": {"plan": "Flux ssa Diff", "apply": "Flux ssa ApplyAllStaged"},
}


@dataclass(frozen=True, slots=True)
class Command:
    """One step's command line, its acceptable exit codes, and how to read what it did.

    ``count`` turns the command's output into the number of objects it reports as
    changed (or, for ``kubectl apply``, which reports every object alike, as applied).
    """

    argv: list[str]
    ok: tuple[int, ...]
    count: Callable[[str], int]


def _sum_of(pattern: str) -> Callable[[str], int]:
    """A counter summing the integers of ``pattern``'s last match (0 when none)."""
    compiled = re.compile(pattern)

    def count(output: str) -> int:
        found = compiled.findall(output)
        if not found:
            return 0
        last = found[-1]
        return sum(int(x) for x in (last if isinstance(last, tuple) else (last,)) if x)

    return count


def _lines_starting(prefix: str) -> Callable[[str], int]:
    def count(output: str) -> int:
        return sum(line.startswith(prefix) for line in output.splitlines())

    return count


def _lines_ending(suffix: str) -> Callable[[str], int]:
    def count(output: str) -> int:
        return sum(line.rstrip().endswith(suffix) for line in output.splitlines())

    return count


# "Plan: 2 to add, 1 to change, 0 to delete(, 1 to forget)." ("No changes." has none).
KGIT_PLAN = _sum_of(r"Plan: (\d+) to add, (\d+) to change, (\d+) to delete(?:, (\d+) to forget)?")
KGIT_APPLY = _sum_of(r"Resources: (\d+) added, (\d+) changed, (\d+) deleted")
# kubectl runs `diff -u -N LIVE MERGED`: one header line per object that differs.
KUBECTL_DIFF = _lines_starting("diff -u -N ")
KUBECTL_APPLY = _lines_ending(" serverside-applied")


def kapp_changes(output: str) -> int:
    """kapp without a TTY prints its change table as tab-separated rows, the operation
    fifth (empty for no-ops): one row per object it creates, updates or deletes."""
    rows = (line.split("\t") for line in output.splitlines())
    return sum(len(f) > 4 and f[4].strip() in ("create", "update", "delete") for f in rows)


FLUX = _sum_of(r"changes: (\d+)")


@dataclass(frozen=True, slots=True)
class Peers:
    """Where each tool's executable is."""

    kgit: list[str]
    kubectl: str
    kapp: str
    flux: str

    def commands(self, tool: str, repo: Path, stack: str) -> dict[str, Command]:
        """Per step kind (``plan`` with changes, ``noop`` plan, ``apply``) the command."""
        if tool == "kgit":
            plan = [*self.kgit, "plan", "-C", str(repo), "--stack", stack, "--detailed-exitcode"]
            apply = [*self.kgit, "apply", "-C", str(repo), "--stack", stack, "--auto-approve"]
            return {
                "plan": Command(plan, (2,), KGIT_PLAN),
                "noop": Command(plan, (0,), KGIT_PLAN),
                "apply": Command(apply, (0,), KGIT_APPLY),
            }
        if tool == "kubectl":
            files = ["-R", "-f", str(repo)]
            diff = [self.kubectl, "diff", "--server-side", "--force-conflicts", *files]
            apply = [self.kubectl, "apply", "--server-side", "--force-conflicts", *files]
            return {
                "plan": Command(diff, (1,), KUBECTL_DIFF),
                "noop": Command(diff, (0,), KUBECTL_DIFF),
                "apply": Command(apply, (0,), KUBECTL_APPLY),
            }
        if tool == "kapp":
            # kapp reads directories recursively; --wait=false as kgit and kubectl do not
            # wait for workloads either.
            deploy = [self.kapp, "deploy", "-a", stack, "-n", KAPP_NAMESPACE, "-f", str(repo)]
            deploy += ["--tty=false", "--color=false"]
            plan = [*deploy, "--diff-run"]
            return {
                "plan": Command(plan, (0,), kapp_changes),
                "noop": Command(plan, (0,), kapp_changes),
                "apply": Command([*deploy, "--yes", "--wait=false"], (0,), kapp_changes),
            }
        return {
            "plan": Command([self.flux, "diff", str(repo)], (0,), FLUX),
            "noop": Command([self.flux, "diff", str(repo)], (0,), FLUX),
            "apply": Command([self.flux, "apply", str(repo)], (0,), FLUX),
        }


# --- building the Go peers -------------------------------------------------------------


def _controlplane() -> ModuleType:
    """scripts/controlplane (a script without a .py suffix) as a module: its cache and build."""
    name = "kgit_controlplane"
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.machinery.SourceFileLoader(name, str(ROOT / "scripts" / "controlplane"))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


def kapp_path() -> Path:
    """The cached kapp of the pinned version."""
    cache: Path = _controlplane().CACHE
    return cache / f"kapp-{KAPP_VERSION}" / "kapp"


def flux_path() -> Path:
    """The cached Flux engine program, keyed by the engine's version and the program's source.

    The program is this project's own, so a change to it must not reuse an old build.
    """
    digest = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        digest.update((HACK / "fluxssa" / name).read_bytes())
    cache: Path = _controlplane().CACHE
    return cache / f"fluxssa-{FLUX_SSA_VERSION}-{digest.hexdigest()[:12]}" / "fluxssa"


def build() -> None:
    """Build and cache kapp and the Flux engine program when missing."""
    plane = _controlplane()
    kapp = kapp_path()
    if not kapp.exists():
        plane.log(f"building kapp {KAPP_VERSION} from the Go module proxy")
        stamp = f"-s -w -X carvel.dev/kapp/pkg/kapp/version.Version={KAPP_VERSION}"
        plane._go_build(HACK / "kapp", kapp.parent, ["carvel.dev/kapp/cmd/kapp"], stamp)
    flux = flux_path()
    if not flux.exists():
        plane.log(f"building the Flux engine program (fluxcd/pkg/ssa {FLUX_SSA_VERSION})")
        # Go names the command after the module path's last element: fluxssa.
        plane._go_build(HACK / "fluxssa", flux.parent, ["."], "-s -w")


def peers(kgit: list[str], kubectl: str) -> Peers:
    """Every tool, failing loudly when a Go peer is not built (``python -m bench.peers``)."""
    kapp, flux = kapp_path(), flux_path()
    for path in (kapp, flux):
        if not path.exists():
            raise FileNotFoundError(f"{path}: not built (scripts/setup builds it)")
    return Peers(kgit=kgit, kubectl=kubectl, kapp=str(kapp), flux=str(flux))


if __name__ == "__main__":
    build()
