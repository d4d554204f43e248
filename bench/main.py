"""``bench/run``: kgit against kubectl, Carvel kapp and Flux's apply engine on one local
control plane, every size in one run.

For each N, one phase per tool on the same generated repository, one tool at a time so
that no tool's objects weigh on another's LISTs: first plan, first apply, (for kgit) the
LIST floor, no-op plan, no-op apply, (for kgit) the recorded state, then a plan with 1%
of objects changed in Git and 1% drifted in the cluster. The tools' commands are in
:mod:`bench.peers`. Between first-apply repetitions and at the end of a phase the stack's
namespaces (and kgit's state, kapp's app record) are deleted and waited for, so every
first apply starts from an empty cluster.

Every step is checked (exit codes, object counts, the number of changed objects each tool
reports, kgit's plan in JSON); a failed step stops the run. Results go to ``--out``:
results.json (every sample), results.md (ratio and absolute tables, the machine) and
time-vs-n.png.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from bench.cluster import (
    STATE_NAMESPACE,
    BenchError,
    count_live,
    create_namespaces,
    delete_stack,
    drift,
    floor_paths,
    install_crd,
    key_of,
    remove,
    wait_settled,
)
from bench.generate import CRD_PLURAL, crd_group, generate, pick, with_changes, write_stack
from bench.kube import Api, Credentials
from bench.peers import FLUX_SSA_VERSION, KAPP_VERSION, TOOLS, peers
from bench.report import write_results
from kgit.cluster.client import connect
from kgit.state.chunks import head_name
from kgit.state.store import load_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.generate import Placed
    from bench.peers import Command

ROOT = Path(__file__).resolve().parent.parent
CONTROLPLANE = ROOT / "scripts" / "controlplane"
LAUNCH = Path(__file__).resolve().parent / "launch.py"
DEFAULT_SIZES = (10, 100, 1000, 5000, 10000)
STEPS = ("first_plan", "first_apply", "noop_plan", "change_plan", "noop_apply")


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed run of a command: wall time, peak RSS of the child, exit code, and the
    number of objects it reported as changed (None when the command reports none)."""

    seconds: float
    rss_mb: float
    code: int
    changes: int | None = None


@dataclass(slots=True)
class SizeResult:
    """Everything measured at one N."""

    n: int
    namespaces: int
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    state_bytes: int = 0
    state_secrets: int = 0
    state_intact: bool = False
    state_load_seconds: float = 0.0
    changed: int = 0
    drifted: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, step: str, tool: str, sample: Sample) -> None:
        """Record one sample of ``step`` by ``tool``."""
        self.samples.setdefault(step, {}).setdefault(tool, []).append(sample)


def credentials_from_kubeconfig(kubeconfig: Path, directory: Path) -> Credentials:
    """The current context's server and client certificate, written under ``directory``."""
    config = yaml.safe_load(kubeconfig.read_text())
    current = config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
    context = contexts.get(current) or next(iter(contexts.values()))
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in (
        ("ca.crt", cluster.get("certificate-authority-data")),
        ("admin.crt", user.get("client-certificate-data")),
        ("admin.key", user.get("client-key-data")),
    ):
        if not data:
            raise BenchError(f"{kubeconfig}: the bench needs embedded certificate data ({name})")
        path = directory / name
        path.write_bytes(base64.b64decode(data))
        path.chmod(0o600)
        files[name] = path
    return Credentials(cluster["server"], files["ca.crt"], files["admin.crt"], files["admin.key"])


def log(message: str) -> None:
    """Progress on stderr, timestamped."""
    print(f"bench {datetime.now().strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


def run_timed(
    cmd: list[str],
    *,
    env: dict[str, str],
    cwd: Path | None = None,
    ok: tuple[int, ...] = (0,),
    count: Callable[[str], int] | None = None,
) -> Sample:
    """Run ``cmd`` to its end through :mod:`bench.launch`; its wall time and peak RSS, and
    with ``count`` the changes its output reports.

    Raises :class:`BenchError` with the tail of its output if it exits with a code
    outside ``ok``.
    """
    with tempfile.TemporaryDirectory(prefix="kgit-bench-run-") as tmp:
        result, output = Path(tmp) / "result.json", Path(tmp) / "output"
        with output.open("wb") as out:
            # Its own process group: an interrupted run stops the command too, not only
            # the launcher.
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(LAUNCH), str(result), "--", *cmd],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
            try:
                code = proc.wait()
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
        if code:
            raise BenchError(f"{LAUNCH.name} {' '.join(cmd[:4])} ... failed ({code})")
        measured = json.loads(result.read_text())
        if measured["code"] not in ok:
            tail = output.read_bytes()[-3000:].decode(errors="replace")
            raise BenchError(f"{' '.join(cmd[:4])} ... exited {measured['code']}:\n{tail}")
        changes = count(output.read_text(errors="replace")) if count else None
    # ru_maxrss is in KiB on Linux.
    return Sample(
        round(measured["seconds"], 4),
        round(measured["rss_kib"] / 1024, 1),
        measured["code"],
        changes,
    )


def kgit_command() -> list[str]:
    """The installed ``kgit`` console script beside this interpreter, else ``-m kgit``."""
    script = Path(sys.executable).parent / "kgit"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kgit"]


# --- the steps -----------------------------------------------------------------------


class Bench:
    """One benchmark run against one API server."""

    def __init__(self, args: argparse.Namespace, kubeconfig: Path, work: Path) -> None:
        self.args = args
        self.kubeconfig = kubeconfig
        self.work = work
        self.credentials: Credentials = credentials_from_kubeconfig(kubeconfig, work / "pki")
        self.api = Api(self.credentials)
        self.server_version = str(self.api.request("GET", "/version")["gitVersion"])
        kubectl = args.kubectl or str(
            Path(os.environ.get("KGIT_TEST_CACHE", Path.home() / ".cache" / "kgit-test"))
            / f"kubernetes-{self.server_version}"
            / "kubectl"
        )
        if not Path(kubectl).exists():
            raise BenchError(
                f"{kubectl}: no kubectl of the server's version (scripts/setup builds it)"
            )
        try:
            self.peers = peers(kgit_command(), kubectl)
        except FileNotFoundError as err:
            raise BenchError(str(err)) from err
        self.kgit = self.peers.kgit
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "NO_COLOR": "1",
            "KUBECACHEDIR": str(work / "kube-cache"),
        }

    def timed(self, cmd: list[str], cwd: Path | None = None) -> Sample:
        """Run a command that reports no changes (start-up, the LIST floor)."""
        return run_timed(cmd, env=self.env, cwd=cwd)

    def step(self, result: SizeResult, step: str, tool: str, command: Command, expect: int) -> None:
        """Run one step of ``tool`` and check that it reports ``expect`` changed objects."""
        sample = run_timed(command.argv, env=self.env, ok=command.ok, count=command.count)
        if sample.changes != expect:
            raise BenchError(
                f"N={result.n} {tool} {step}: {' '.join(command.argv[:3])} ... reported "
                f"{sample.changes} changed objects, expected {expect}"
            )
        result.add(step, tool, sample)

    def startup(self) -> dict[str, list[Sample]]:
        """``kgit --version`` and ``kgit --help``, several times each."""
        runs = max(5, self.args.repeat)
        self.timed([*self.kgit, "--version"])  # warm the page cache first
        return {
            "version": [self.timed([*self.kgit, "--version"]) for _ in range(runs)],
            "help": [self.timed([*self.kgit, "--help"]) for _ in range(runs)],
        }

    def size(self, n: int) -> SizeResult:
        """Every step at ``n`` objects, one tool's phase after the other."""
        prefix = f"{self.args.prefix}{n}"
        stack = f"bench-{prefix}"
        placed = generate(prefix, n)
        namespaces = sum(p.obj["kind"] == "Namespace" for p in placed)
        result = SizeResult(n=n, namespaces=namespaces)
        repo = self.work / prefix
        write_stack(repo, placed)

        def git(*args: str) -> str:
            done = subprocess.run(
                ["git", *args], cwd=repo, check=True, capture_output=True, text=True
            )
            return done.stdout.strip()

        git("init", "-q", "-b", "main")
        git("add", "-A")
        git(
            "-c", "user.name=bench", "-c", "user.email=bench@kgit.dev", "commit", "-q", "-m", "base"
        )
        base = git("rev-parse", "HEAD")
        changed = pick(placed, ("ConfigMap", "Deployment"), 0.01, 0)
        drifted = pick(placed, ("ConfigMap", "Deployment"), 0.01, 1)
        if {id(p) for p in changed} & {id(p) for p in drifted}:
            raise BenchError("the changed and drifted objects overlap")
        result.changed, result.drifted = len(changed), len(drifted)
        install_crd(self.api, prefix)
        log(
            f"N={n}: {namespaces} namespaces, {len(changed)} changed in Git, {len(drifted)} drifted"
        )
        try:
            for index, tool in enumerate(TOOLS):
                if index:
                    delete_stack(self.api, placed, prefix, stack)
                    git("reset", "-q", "--hard", base)
                self.phase(tool, result, placed, prefix, stack, repo, changed, drifted)
        finally:
            # The last size's objects may finish going after the run; others may not
            # weigh on the next size's timings.
            delete_stack(self.api, placed, prefix, stack, wait=n != self.args.sizes[-1])
            remove(
                self.api,
                f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRD_PLURAL}.{crd_group(prefix)}",
            )
        return result

    def phase(
        self,
        tool: str,
        result: SizeResult,
        placed: list[Placed],
        prefix: str,
        stack: str,
        repo: Path,
        changed: list[Placed],
        drifted: list[Placed],
    ) -> None:
        """One tool's steps at one N, from an empty cluster to the stack with changes.

        Every step is checked against the changes it must report: all N objects on the
        first plan and apply, none on a no-op, exactly the edited and drifted objects on
        the plan with changes (``kubectl apply`` names every object it applied, so its
        applies must name all N).
        """
        n, repeat = result.n, self.args.repeat
        cmds = self.peers.commands(tool, repo, stack)
        # kubectl diff stops at the first object whose namespace does not exist, so every
        # tool makes its first plan with the stack's namespaces there, empty.
        create_namespaces(self.api, placed)
        for _ in range(repeat):
            self.step(result, "first_plan", tool, cmds["plan"], n)
        log(f"N={n} {tool}: first plan {_median(result, 'first_plan', tool):.2f} s")
        for _ in range(repeat):
            delete_stack(self.api, placed, prefix, stack)
            self.step(result, "first_apply", tool, cmds["apply"], n)
        live = count_live(self.api, placed, prefix)
        if live != n:
            raise BenchError(f"N={n} {tool}: {live} of {n} objects exist after the first apply")
        wait_settled(self.api, placed, prefix)
        log(f"N={n} {tool}: first apply {_median(result, 'first_apply', tool):.2f} s")
        if tool == "kgit":
            floor = [
                sys.executable,
                "-m",
                "bench.floor",
                *self.credentials.args(),
                *floor_paths(placed, prefix),
            ]
            for _ in range(repeat):
                result.add("floor", "floor", self.timed(floor, cwd=ROOT))
        for _ in range(repeat):
            self.step(result, "noop_plan", tool, cmds["noop"], 0)
        for _ in range(repeat):
            self.step(result, "noop_apply", tool, cmds["apply"], n if tool == "kubectl" else 0)
        log(
            f"N={n} {tool}: no-op plan {_median(result, 'noop_plan', tool):.2f} s, "
            f"no-op apply {_median(result, 'noop_apply', tool):.2f} s"
        )
        if tool == "kgit":
            self.check_state(result, placed, stack)
        write_stack(repo, with_changes(placed, changed))
        subprocess.run(
            [
                "git",
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@kgit.dev",
                "commit",
                "-q",
                "-a",
                "-m",
                "1% changed",
            ],
            cwd=repo,
            check=True,
            capture_output=True,
        )
        drift(self.api, drifted, prefix)
        wait_settled(self.api, placed, prefix)
        for _ in range(repeat):
            self.step(result, "change_plan", tool, cmds["plan"], len(changed) + len(drifted))
        if tool == "kgit":
            self.check_changes(repo, stack, changed, drifted)
        log(f"N={n} {tool}: plan with changes {_median(result, 'change_plan', tool):.2f} s")

    def check_state(self, result: SizeResult, placed: list[Placed], stack: str) -> None:
        """The recorded state's size in the cluster, and that it reads back whole."""
        head = self.api.request(
            "GET", f"/api/v1/namespaces/{STATE_NAMESPACE}/secrets/{head_name(stack)}"
        )
        index = json.loads(base64.b64decode(head["data"]["index.json"]))
        result.state_bytes = int(index["size"])
        result.state_secrets = 1 + len(index.get("chunks") or [])
        expected = {key_of(p.obj) for p in placed}
        with connect(str(self.kubeconfig)) as cluster:
            started = time.perf_counter()
            handle = load_state(cluster, stack, STATE_NAMESPACE)
            result.state_load_seconds = round(time.perf_counter() - started, 3)
        objects = handle.state.objects
        result.state_intact = set(objects) == expected and not any(
            r.pending for r in objects.values()
        )
        if not result.state_intact:
            raise BenchError(
                f"{stack}: the state read back holds {len(objects)} objects, not the {len(expected)} applied"
            )

    def check_changes(
        self, repo: Path, stack: str, changed: list[Placed], drifted: list[Placed]
    ) -> None:
        """The plan with changes names exactly the changed and drifted objects as updates."""
        done = subprocess.run(
            [*self.kgit, "plan", "-C", str(repo), "--stack", stack, "--format", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise BenchError(
                f"kgit plan --format json exited {done.returncode}: {done.stderr[-2000:]}"
            )
        changes = json.loads(done.stdout)["changes"]
        updated = {c["key"] for c in changes if c["action"] == "update"}
        wanted = {str(key_of(p.obj)) for p in (*changed, *drifted)}
        if updated != wanted or len(changes) != len(wanted):
            raise BenchError(
                f"{stack}: the plan holds {len(changes)} changes, expected {len(wanted)} updates"
            )


def _median(result: SizeResult, step: str, tool: str) -> float:
    return statistics.median(s.seconds for s in result.samples[step][tool])


# --- the run -------------------------------------------------------------------------


def machine(bench: Bench, versions: dict[str, str]) -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    kubectl = subprocess.run(
        [bench.peers.kubectl, "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        kubectl_version = json.loads(kubectl.stdout)["clientVersion"]["gitVersion"]
    except (ValueError, KeyError):
        kubectl_version = "unknown"
    kgit_version = subprocess.run(
        [*bench.kgit, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "kgit": f"{kgit_version} (commit {commit})",
        "kubectl": kubectl_version,
        "kapp": KAPP_VERSION,
        "Flux engine": f"github.com/fluxcd/pkg/ssa {FLUX_SSA_VERSION} (hack/fluxssa)",
        "kube-apiserver": bench.server_version,
        "etcd": versions.get("etcd", "unknown"),
        "load average at start (1/5/15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated numbers of objects (default %(default)s)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each step (default %(default)s)"
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="use this running control plane instead of starting a dedicated one",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "bench" / "results",
        help="where results.md, results.json and time-vs-n.png go (default %(default)s)",
    )
    parser.add_argument(
        "--prefix", default="b", help="prefix of namespaces, stacks and the CRD group"
    )
    parser.add_argument(
        "--kubectl",
        help="kubectl to compare with (default: the server's version, built by scripts/setup)",
    )
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.repeat < 1 or not args.sizes or min(args.sizes) < 1:
        parser.error("--repeat and --sizes must be positive")
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", args.prefix):
        parser.error("--prefix: lowercase letters and digits, starting with a letter, at most 16")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every step succeeded and the results were written."""
    args = parse_args(argv)
    # SIGTERM ends the run like ^C does, so the control plane and objects are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with tempfile.TemporaryDirectory(prefix="kgit-bench-") as tmp:
        work = Path(tmp)
        plane_dir = work / "controlplane"
        started_plane = args.kubeconfig is None
        try:
            if started_plane:
                log("starting a dedicated control plane")
                up = subprocess.run(
                    [str(CONTROLPLANE), "up", "--dir", str(plane_dir)],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                kubeconfig = Path(up.stdout.strip().splitlines()[-1])
            else:
                kubeconfig = args.kubeconfig.resolve()
            info = kubeconfig.parent / "controlplane.json"
            versions = json.loads(info.read_text()) if info.exists() else {}
            bench = Bench(args, kubeconfig, work)
            meta = {
                "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "command": "bench/run " + " ".join(sys.argv[1:] if argv is None else argv),
                "repeat": args.repeat,
                "machine": machine(bench, versions),
            }
            log(f"kgit {' '.join(bench.kgit)}; peers {bench.peers}; sizes {args.sizes}")
            startup = bench.startup()
            sizes = [bench.size(n) for n in args.sizes]
            meta["machine"]["load average at end (1/5/15 min)"] = " ".join(
                f"{x:.2f}" for x in os.getloadavg()
            )
            write_results(args.out, meta, sizes, startup)
            log(f"results in {args.out}")
        except BenchError as err:
            log(f"FAILED: {err}")
            return 1
        except subprocess.CalledProcessError as err:
            log(f"FAILED: {' '.join(map(str, err.cmd))}: {err.stderr}")
            return 1
        finally:
            if started_plane:
                subprocess.run(
                    [str(CONTROLPLANE), "down", "--dir", str(plane_dir)],
                    capture_output=True,
                    check=False,
                )
    return 0
