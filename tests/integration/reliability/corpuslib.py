"""Running one case of the bad-input corpus (``tests/corpus/<case>/``) through the real CLI.

A case is a directory:

- ``expect``: what the error message must contain (each line of it);
- ``repo/``: files committed to a fresh Git repository (optional);
- any other file: copied beside the repository (a stored plan, for ``kgit show``);
- ``case.json`` (optional) for what plain files cannot hold:

  - ``generate``: ``{path: [[text, times], ...]}``, files too big to keep in Git;
  - ``symlinks``: ``{path: target}``;
  - ``command``: the whole argument list (default ``plan -C {repo} --stack {stack}
    --state-namespace {state_ns}``), ``args``: arguments added to the default;
  - ``setup_plan`` and ``edit``: first store a real plan (``{plan}``), then change the
    fields named by dotted paths (``changes.0.desired_digest``);
  - ``state``: a state Secret written first: ``secret`` (type and text data as is),
    or ``payload`` (a state document, ``{"$raw": text}`` or a non-gzip string) with a
    correct ``index`` unless ``index`` overrides some of its fields.

Placeholders in arguments and payloads: ``{work}``, ``{repo}``, ``{plan}``, ``{stack}``,
``{state_ns}``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kgitlib import GitRepo
from rellib import kgit_env

from kgit.cluster import LEASE, SECRET, ApiError
from kgit.cluster.discovery import Resource
from kgit.state.chunks import ANN_OBJECTS, head_name

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Cluster

META_FILES = ("expect", "case.json")
# What kgit may have created for a stack, to prove a refused input created nothing.
WATCHED = (
    Resource("", "v1", "Namespace", "namespaces", False),
    Resource("", "v1", "ConfigMap", "configmaps", True),
    Resource("", "v1", "Secret", "secrets", True),
    Resource("apps", "v1", "Deployment", "deployments", True),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
)


@dataclass(frozen=True)
class Measured:
    """One finished process: exit code, output, wall time and peak resident memory."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Outcome:
    """What running a case showed: the CLI's answer and the cluster before and after."""

    name: str
    expect: list[str]
    run: Measured
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def measure(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> Measured:
    """Run ``argv`` and report its peak memory too (``wait4``'s rusage of that one child)."""
    out_path, err_path = cwd / ".stdout", cwd / ".stderr"
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - started
    # Reaped here: tell Popen, so it never waits for a pid that may be reused.
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        proc.returncode,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        seconds,
        usage.ru_maxrss / 1024,  # kilobytes on Linux
    )


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, text in names.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _edit(doc: dict[str, Any], edits: dict[str, Any]) -> None:
    for dotted, value in edits.items():
        *parents, last = dotted.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value


def _state_secret(spec: dict[str, Any], stack: str, namespace: str) -> dict[str, Any]:
    """The Secret a case puts where kgit keeps the stack's state."""
    name = head_name(stack)
    if "secret" in spec:
        given = spec["secret"]
        data = {k: base64.b64encode(v.encode()).decode() for k, v in given["data"].items()}
        kind = given["type"]
    else:
        payload = spec["payload"]
        if isinstance(payload, str):
            raw = payload.encode()  # stored as is: not gzip
        elif "$raw" in payload:
            raw = gzip.compress(payload["$raw"].encode())
        else:
            raw = gzip.compress(json.dumps(payload).encode())
        index = {
            "format_version": 1,
            "stack": stack,
            "serial": 3,
            "lineage": "5f0c6c1e-8f1a-4b9e-9d55-0c2f1b7e4a11",
            "sha256": hashlib.sha256(raw).hexdigest(),
            "size": len(raw),
            "generation": "",
            "chunks": [],
            **spec.get("index", {}),
        }
        data = {"index.json": base64.b64encode(json.dumps(index).encode()).decode()}
        if not index["chunks"]:
            data["state.json.gz"] = base64.b64encode(raw).decode()
        kind = "kgit.dev/state"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": kind,
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def observe(cluster: Cluster, stack: str, namespace: str) -> dict[str, Any]:
    """What exists of ``stack``: labelled objects, its lock, its state Secret's version."""
    labelled = []
    for resource in WATCHED:
        for obj in cluster.list_kind(resource, label_selector=f"kgit.dev/stack={stack}"):
            meta = obj["metadata"]
            labelled.append(f"{resource.kind}/{meta.get('namespace', '')}/{meta['name']}")
    lease = cluster.get(LEASE, namespace, f"kgit-lock-{stack}")
    state = cluster.get(SECRET, namespace, head_name(stack))
    return {
        "labelled": sorted(labelled),
        "lock": bool(lease and (lease.get("spec") or {}).get("holderIdentity")),
        "state": (
            {
                "resourceVersion": state["metadata"]["resourceVersion"],
                "objects": (state["metadata"].get("annotations") or {}).get(ANN_OBJECTS),
            }
            if state
            else None
        ),
    }


def run_case(
    case_dir: Path, work: Path, *, kubeconfig: str, cluster: Cluster, state_ns: str, timeout: float
) -> Outcome:
    """Set the case up in ``work``, run its command, and look at the cluster around it."""
    name = case_dir.name
    spec: dict[str, Any] = {}
    if (case_dir / "case.json").exists():
        spec = json.loads((case_dir / "case.json").read_text())
    shutil.copytree(case_dir, work, ignore=shutil.ignore_patterns(*META_FILES))
    names = {
        "work": str(work),
        "repo": str(work / "repo"),
        "plan": str(work / "plan.json"),
        "stack": name,
        "state_ns": state_ns,
    }
    for path, pieces in spec.get("generate", {}).items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(text * times for text, times in pieces))
    for path, target in spec.get("symlinks", {}).items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, work / path)
    if (work / "repo").is_dir():
        GitRepo(work / "repo").commit("the case")
    env = kgit_env(kubeconfig)
    kgit = [sys.executable, "-m", "kgit"]
    base = ["-C", names["repo"], "--stack", name, "--state-namespace", state_ns]
    if "state" in spec:
        secret = _state_secret(_fill(spec["state"], names), name, state_ns)
        try:
            cluster.create(SECRET, secret)
        except ApiError as err:
            raise AssertionError(f"{name}: cannot set up the state Secret: {err}") from err
    if spec.get("setup_plan"):
        stored = measure(
            [*kgit, "plan", *base, "--out", names["plan"], "-f", "json"],
            env=env,
            cwd=work,
            timeout=timeout,
        )
        assert stored.code == 0, f"{name}: the setup plan failed: {stored.output}"
        plan = json.loads((work / "plan.json").read_text())
        _edit(plan, spec.get("edit", {}))
        (work / "plan.json").write_text(json.dumps(plan, indent=2))
    argv = _fill(spec.get("command") or ["plan", *base, *spec.get("args", [])], names)
    before = observe(cluster, name, state_ns)
    run = measure([*kgit, *argv], env=env, cwd=work, timeout=timeout)
    after = observe(cluster, name, state_ns)
    expect = [line for line in (case_dir / "expect").read_text().splitlines() if line]
    return Outcome(name, expect, run, before, after)
