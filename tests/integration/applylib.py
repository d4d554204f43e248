"""Helpers of the apply tests: a stack with its own Git repository, manifests, a terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from kgitlib import GitRepo, Run, run_kgit

from kgit.cluster import SECRET
from kgit.state.chunks import head_name
from kgit.state.store import STATE_NAMESPACE, load_state

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.cluster import Cluster, Resource


@dataclass
class Stack:
    """One stack under test: its Git repository and the real CLI pointed at it."""

    name: str
    repo: GitRepo
    kubeconfig: str

    def kgit(self, *args: str, **kwargs: Any) -> Run:
        """Run ``kgit ARGS --stack NAME`` in the repository."""
        return run_kgit(
            *args, "--stack", self.name, kubeconfig=self.kubeconfig, cwd=self.repo.root, **kwargs
        )

    def command(self, *args: str) -> list[str]:
        """The argv of ``kgit ARGS --stack NAME``, for processes the test drives itself."""
        return [sys.executable, "-m", "kgit", *args, "--stack", self.name]

    def environ(self) -> dict[str, str]:
        """The environment :meth:`kgit` runs with."""
        return {**os.environ, "KUBECONFIG": self.kubeconfig, "NO_COLOR": "1"}

    def apply(self, *args: str) -> Run:
        """``kgit apply --auto-approve ARGS``, which must succeed."""
        done = self.kgit("apply", "--auto-approve", *args)
        assert done.code == 0, done.output
        return done

    def plan(self, *args: str) -> dict[str, Any]:
        """``kgit plan --format json ARGS``: the plan as the plan file holds it."""
        done = self.kgit("plan", "--format", "json", *args)
        assert done.code == 0, done.output
        plan: dict[str, Any] = done.json()
        return plan

    def write(self, path: str, *objects: dict[str, Any]) -> None:
        """Write ``objects`` as one multi-document YAML file."""
        self.repo.write(path, yaml.safe_dump_all(objects, sort_keys=False))

    def serial(self, cluster: Cluster) -> int:
        """The state's serial as the cluster holds it now."""
        return load_state(cluster, self.name).serial

    def head_serial(self, cluster: Cluster) -> int:
        """The serial on the state Secret's annotation: one cheap GET, -1 before any write."""
        head = cluster.get(SECRET, STATE_NAMESPACE, head_name(self.name))
        if head is None:
            return -1
        return int(head["metadata"]["annotations"]["kgit.dev/serial"])


def actions(plan: dict[str, Any]) -> dict[str, str]:
    """Object key -> planned action."""
    return {c["key"]: c["action"] for c in plan["changes"]}


def resource(cluster: Cluster, group: str, kind: str) -> Resource:
    """The cluster's resource for a kind it surely serves."""
    found = cluster.resources().lookup(group, kind)
    if found is None:
        # The session's Cluster may have read discovery before the test made the kind.
        cluster.resources().refresh()
        found = cluster.resources().lookup(group, kind)
    assert found is not None, f"{group}/{kind} is not served"
    return found


class Terminal:
    """A ``kgit`` process on a pseudo-terminal, as a person at a shell runs it."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cwd: Path) -> None:
        master, slave = os.openpty()
        self._fd = master
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
        )
        os.close(slave)
        self.output = ""

    def read_until(self, text: str, timeout: float = 60.0) -> str:
        """Read the terminal until ``text`` shows (or the process ends); all read so far."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, f"no {text!r} within {timeout}s:\n{self.output}"
            if not self._read(deadline - time.monotonic()):
                break
        return self.output

    def type(self, line: str) -> None:
        """Type ``line`` and Enter."""
        os.write(self._fd, (line + "\n").encode())

    def finish(self, timeout: float = 120.0) -> Run:
        """Read until the process ends; its exit status and everything it wrote."""
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            assert time.monotonic() < deadline, f"still running after {timeout}s:\n{self.output}"
        code = self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self._fd)
        return Run(code, self.output, "")

    def _read(self, timeout: float) -> bool:
        """Read what is there; False at the end of output (the process closed the terminal)."""
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            data = os.read(self._fd, 65536)
        except OSError:  # EIO: every holder of the terminal's other side closed it
            return False
        if not data:
            return False
        self.output += data.decode(errors="replace").replace("\r\n", "\n")
        return True


def crd(group: str, *, status: bool = False) -> dict[str, Any]:
    """A namespaced ``Widget`` kind in ``group``, any spec accepted; with ``status``, a
    status subresource (any status accepted) for a controller to write."""
    preserve = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    schema = {"type": "object", "properties": {"spec": preserve}}
    version: dict[str, Any] = {"name": "v1", "served": True, "storage": True}
    if status:
        schema["properties"] = {"spec": preserve, "status": preserve}
        version["subresources"] = {"status": {}}
    version["schema"] = {"openAPIV3Schema": schema}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [version],
        },
    }
