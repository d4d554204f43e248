"""The renderers kgit runs: finding ``kustomize`` and ``helm``, their versions, and
running them (or a generator's command) with a timeout.

A tool is found, in order: in ``$KGIT_KUSTOMIZE``/``$KGIT_HELM``, as ``kgit.yaml`` names
it (``kustomize.command``, ``helm.command``), on ``PATH``; Kustomize falls back to
``kubectl kustomize`` when only kubectl is there.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.errors import RenderError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from kgit.build.settings import ToolSettings

TOOL_TIMEOUT = 300.0
_INSTALL = {
    "kustomize": "install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/)",
    "helm": "install helm (https://helm.sh/docs/intro/install/)",
}
# The last lines of a failed tool's error output quoted in the message.
_QUOTED_LINES = 12


@dataclass(frozen=True, slots=True)
class Tool:
    """A renderer found on this machine: how to run it and its version (for the plan)."""

    name: str
    command: tuple[str, ...]
    version: str


def find_tool(name: str, settings: ToolSettings, subject: str) -> Tool:
    """``kustomize`` or ``helm`` as this machine has it, with its version.

    ``subject`` (what needs it) starts the message of the :class:`RenderError` raised
    when the tool is missing or does not answer.
    """
    env_name = f"KGIT_{name.upper()}"
    named = os.environ.get(env_name) or getattr(settings, name)
    if named:
        found = shutil.which(named)
        if found is None:
            where = f"${env_name}" if os.environ.get(env_name) else f"kgit.yaml's {name}.command"
            raise RenderError(f"{subject}: {named!r} ({where}) is not an executable")
        return _tool(name, (found,))
    found = shutil.which(name)
    if found is not None:
        return _tool(name, (found,))
    kubectl = shutil.which("kubectl") if name == "kustomize" else None
    if kubectl is not None:
        return _tool(name, (kubectl, "kustomize"))
    also = " nor kubectl" if name == "kustomize" else ""
    raise RenderError(
        f"{subject}: rendering it needs {name}, and neither {name}{also} is on PATH: "
        f"{_INSTALL[name]}, or name it in ${env_name}"
    )


@functools.cache
def _tool(name: str, command: tuple[str, ...]) -> Tool:
    """The tool with its version, asked once per process."""
    if command[-1] == "kustomize" and len(command) == 2:
        out = run([command[0], "version", "--client", "-o", "json"], subject=command[0], timeout=30)
        versions = json.loads(out or b"{}")
        version = f"kustomize {versions.get('kustomizeVersion', '?')} " + (
            f"(kubectl {versions.get('clientVersion', {}).get('gitVersion', '?')})"
        )
        return Tool(name, command, version)
    args = [*command, "version", "--short"] if name == "helm" else [*command, "version"]
    out = run(args, subject=command[0], timeout=30)
    number = out.decode(errors="replace").strip().split("+")[0] or "?"
    return Tool(name, command, f"{name} {number}")


def run(
    args: Sequence[str],
    *,
    subject: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = TOOL_TIMEOUT,
) -> bytes:
    """Run a tool and return its output; :class:`RenderError` naming ``subject`` and
    quoting the tool's own message when it fails or runs out of time."""
    try:
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as err:
        raise RenderError(f"{subject}: {args[0]} ran longer than {timeout:.0f} s") from err
    except OSError as err:
        raise RenderError(f"{subject}: cannot run {args[0]}: {err.strerror or err}") from err
    if done.returncode != 0:
        raise RenderError(f"{subject}: {_name(args)} failed: {quote_error(done.stderr)}")
    return done.stdout


def quote_error(stderr: bytes) -> str:
    """The tail of a tool's error output, on one line per line it wrote."""
    lines = [line for line in stderr.decode(errors="replace").strip().splitlines() if line]
    return "\n  ".join(lines[-_QUOTED_LINES:]) or "(no message)"


def _name(args: Sequence[str]) -> str:
    base = os.path.basename(args[0])
    return f"{base} {args[1]}" if len(args) > 1 else base
