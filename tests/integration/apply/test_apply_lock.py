"""Two applies on one stack: the stack's lock serialises them, each apply is one serial."""

from __future__ import annotations

import json
import subprocess
import time
from typing import TYPE_CHECKING

import pytest
from applylib import Terminal
from kgitlib import configmap, namespace

from kgit.cluster import CONFIGMAP

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_concurrent_applies_wait_or_name_the_holder(
    stack: Stack, cluster: Cluster, unique: str
) -> None:
    ns = unique

    def commit(level: str) -> str:
        stack.write("ns.yaml", namespace(ns))
        stack.write("settings.yaml", configmap(ns, "settings", level=level))
        return stack.repo.commit(f"level {level}")

    first, second = commit("1"), commit("2")
    assert stack.kgit("plan").code == 0  # creates the stack's state, as `terraform init`
    start = stack.serial(cluster)

    # A person's apply holds the lock while it waits for approval at the prompt.
    person = Terminal(
        stack.command("apply", "--ref", first), env=stack.environ(), cwd=stack.repo.root
    )
    person.read_until("Enter a value")

    # Without --lock-timeout, a second apply fails at once, naming the holder.
    refused = stack.kgit("apply", "--auto-approve")
    assert refused.code == 1, refused.output
    assert f"stack {stack.name!r} is locked: held by " in refused.stderr
    assert f"/{person.process.pid} (apply)" in refused.stderr
    assert "kgit force-unlock " in refused.stderr
    assert cluster.get(CONFIGMAP, ns, "settings") is None
    assert stack.serial(cluster) == start

    # With --lock-timeout it waits for the holder, then plans and applies its own commit.
    waiting = subprocess.Popen(
        stack.command("apply", "--auto-approve", "--lock-timeout", "120"),
        cwd=stack.repo.root,
        env=stack.environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(1.5)
    assert waiting.poll() is None, "the second apply did not wait for the lock"
    person.type("yes")
    assert person.finish().code == 0, person.output
    output, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, output
    assert f"ConfigMap/{ns}/settings: updated" in output

    # Two at once, each with changes of its own: both succeed, one after the other.
    third, fourth = commit("3"), commit("4")
    racers = [
        subprocess.Popen(
            stack.command("apply", "--auto-approve", "--lock-timeout", "120", "--ref", ref),
            cwd=stack.repo.root,
            env=stack.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for ref in (third, fourth)
    ]
    for racer in racers:
        output, _ = racer.communicate(timeout=120)
        assert racer.returncode == 0, output

    # Each apply advanced the serial by exactly one, and the history lists each.
    assert stack.serial(cluster) == start + 4
    done = stack.kgit("history", "--format", "json")
    assert done.code == 0, done.output
    entries = json.loads(done.stdout)
    applies = [e for e in entries if e["serial"] > start]
    assert [e["serial"] for e in applies] == [start + 1, start + 2, start + 3, start + 4]
    assert [e["result"] for e in applies] == ["ok"] * 4
    assert applies[0]["commit"] == first and applies[1]["commit"] == second
    assert {applies[2]["commit"], applies[3]["commit"]} == {third, fourth}
    pids = [person.process.pid, waiting.pid, *(r.pid for r in racers)]
    assert applies[0]["who"].endswith(f"/{pids[0]}")
    assert applies[1]["who"].endswith(f"/{pids[1]}")
    assert {e["who"].rsplit("/", 1)[1] for e in applies[2:]} == {str(p) for p in pids[2:]}
    assert (applies[0]["added"], applies[0]["changed"], applies[0]["deleted"]) == (2, 0, 0)
    assert [(e["added"], e["changed"], e["deleted"]) for e in applies[1:]] == [(0, 1, 0)] * 3
    text = stack.kgit("history")
    assert text.code == 0, text.output
    for entry in applies:
        assert entry["commit"][:12] in text.stdout
    live = cluster.get(CONFIGMAP, ns, "settings")
    assert live is not None
    assert live["data"]["level"] == ("4" if applies[3]["commit"] == fourth else "3")
