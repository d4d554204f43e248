"""The stack lock against dead holders and crowds: expiry, force-unlock, one apply at a time.

A holder SIGKILLed leaves its Lease behind; the next apply takes it once the lease has
run out (no person needed), ``kgit force-unlock`` frees it at once, and applies started
together run one after another: the state's serial history has no gap and no duplicate.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any

import pytest
from kgitlib import GitRepo, cluster_for, run_kgit
from rellib import kgit_env

from kgit.cluster import NAMESPACE
from kgit.state.lock import describe_lock

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

RACERS = 5
# The dead holder's lease: short, so the takeover after expiry costs the test seconds.
DEAD_LEASE = 6

HOLDER = """
import sys, time
from kgit.cluster import connect
from kgit.state.lock import acquire
cluster = connect(sys.argv[1])
lock = acquire(cluster, sys.argv[2], sys.argv[3], 0, "doomed@test/1", duration=int(sys.argv[4]),
               operation="apply")
print(lock.lock_id, flush=True)
time.sleep(600)
"""


def settings(ns: str, level: str) -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {ns}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
          namespace: {ns}
        data:
          level: "{level}"
        """
    )


def kill_at_prompt(argv: list[str], env: dict[str, str], cwd: Path) -> int:
    """Run ``kgit apply`` on a terminal until it asks for approval, then SIGKILL it."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
    )
    os.close(slave)
    seen, deadline = "", time.monotonic() + 120
    while "Enter a value" not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        if select.select([master], [], [], 1.0)[0]:
            seen += os.read(master, 65536).decode(errors="replace")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    os.close(master)
    return proc.pid


def test_dead_holders_expire_or_are_unlocked_and_applies_never_interleave(
    kubeconfig: str, unique: str, tmp_path: Path
) -> None:
    ns, stack, state_ns = f"{unique}-l", unique, f"{unique}-state"
    repo = GitRepo(tmp_path / "repo")
    env = kgit_env(kubeconfig)
    on_stack = ("--stack", stack, "--state-namespace", state_ns)
    args = ("-C", str(repo.root), *on_stack)
    kgit = [sys.executable, "-m", "kgit"]

    def history() -> list[dict[str, Any]]:
        run = run_kgit("history", "-f", "json", *on_stack, kubeconfig=kubeconfig)
        assert run.code == 0, run.output
        entries: list[dict[str, Any]] = run.json()
        return entries

    repo.write("stack.yaml", settings(ns, "0"))
    repo.commit("level 0")
    with cluster_for(kubeconfig) as cluster:
        try:
            assert run_kgit("apply", "--auto-approve", *args, kubeconfig=kubeconfig).code == 0
            start = history()[-1]["serial"]

            # A holder that dies with the lock: nobody renews its Lease any more.
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLDER, kubeconfig, stack, state_ns, str(DEAD_LEASE)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None
            dead_id = holder.stdout.readline().strip()
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            killed = time.monotonic()
            refused = run_kgit("apply", "--auto-approve", *args, kubeconfig=kubeconfig)
            assert refused.code == 1, refused.output
            assert f"stack {stack!r} is locked: held by doomed@test/1 (apply)" in refused.stderr
            assert f"kgit force-unlock {dead_id}" in refused.stderr

            # Several applies at once, each of its own commit: they wait out the dead
            # lease, then take the lock one after another.
            commits = []
            for level in range(1, RACERS + 1):
                repo.write("stack.yaml", settings(ns, str(level)))
                commits.append(repo.commit(f"level {level}"))
            waiting = [*kgit, "apply", "--auto-approve", "--lock-timeout", "120", *args]
            racers = [
                subprocess.Popen(
                    [*waiting, "--ref", ref],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for ref in commits
            ]
            outputs = [racer.communicate(timeout=300)[0] for racer in racers]
            for racer, output in zip(racers, outputs, strict=True):
                assert racer.returncode == 0, output
            applies = [e for e in history() if e["serial"] > start]
            assert [e["serial"] for e in applies] == list(range(start + 1, start + RACERS + 1))
            assert [e["result"] for e in applies] == ["ok"] * RACERS
            assert sorted(e["commit"] for e in applies) == sorted(commits)
            assert {e["who"].rsplit("/", 1)[1] for e in applies} == {str(r.pid) for r in racers}
            # The first of them could only start once the dead lease had run out.
            assert time.monotonic() - killed >= DEAD_LEASE
            assert describe_lock(cluster, stack, state_ns) is None

            # An apply killed at its approval prompt holds a full lease: force-unlock.
            repo.write("stack.yaml", settings(ns, "last"))
            repo.commit("last level")
            pid = kill_at_prompt([*kgit, "apply", *args], env, repo.root)
            info = describe_lock(cluster, stack, state_ns)
            assert info is not None and info.who.endswith(f"/{pid}") and not info.expired
            assert run_kgit("apply", "--auto-approve", *args, kubeconfig=kubeconfig).code == 1
            wrong = run_kgit(
                "force-unlock", "not-the-id", "--force", *on_stack, kubeconfig=kubeconfig
            )
            assert wrong.code == 1 and "does not match the holder's" in wrong.stderr
            freed = run_kgit(
                "force-unlock", info.lock_id, "--force", *on_stack, kubeconfig=kubeconfig
            )
            assert freed.code == 0, freed.output
            assert f"/{pid} (apply)" in freed.stdout and "successfully unlocked" in freed.stdout
            assert describe_lock(cluster, stack, state_ns) is None
            last = run_kgit("apply", "--auto-approve", *args, kubeconfig=kubeconfig)
            assert last.code == 0, last.output
            assert f"ConfigMap/{ns}/settings: updated" in last.stdout
        finally:
            for name in (ns, state_ns):
                cluster.delete(NAMESPACE, None, name, uid=None)
