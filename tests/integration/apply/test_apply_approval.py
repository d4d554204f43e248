"""The approval prompt: nothing changes unless a person types 'yes' (or --auto-approve)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from applylib import Terminal
from kgitlib import configmap, namespace

from kgit.cluster import CONFIGMAP, NAMESPACE

if TYPE_CHECKING:
    from applylib import Stack

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration


def test_apply_asks_and_only_yes_applies(stack: Stack, cluster: Cluster, unique: str) -> None:
    ns = unique
    stack.write("app.yaml", namespace(ns), configmap(ns, "settings", level="1"))
    commit = stack.repo.commit()

    # No terminal and no --auto-approve: an error before anything is read or changed.
    done = stack.kgit("apply", stdin="")
    assert done.code == 1, done.output
    assert "no terminal to ask for approval" in done.stderr
    assert cluster.get(NAMESPACE, None, ns) is None
    assert stack.head_serial(cluster) == -1

    def at_prompt() -> Terminal:
        person = Terminal(stack.command("apply"), env=stack.environ(), cwd=stack.repo.root)
        shown = person.read_until("Enter a value")
        assert "Plan: 2 to add, 0 to change, 0 to delete." in shown
        assert "Only 'yes' will be accepted" in shown
        return person

    # Anything but 'yes' cancels: exit 1, nothing changed, the state not written.
    assert stack.kgit("plan").code == 0  # creates the stack's state, as `terraform init`
    serial = stack.serial(cluster)
    for answer in ("no", "y"):
        person = at_prompt()
        person.type(answer)
        done = person.finish()
        assert done.code == 1, done.output
        assert "Apply cancelled." in done.output
        assert cluster.get(NAMESPACE, None, ns) is None
        assert stack.serial(cluster) == serial

    person = at_prompt()
    person.type("yes")
    done = person.finish()
    assert done.code == 0, done.output
    assert "Apply complete! Resources: 2 added, 0 changed, 0 deleted." in done.output
    assert cluster.get(CONFIGMAP, ns, "settings") is not None

    history = stack.kgit("history")
    assert history.code == 0, history.output
    assert commit[:12] in history.stdout
    assert "+2 ~0 -0" in history.stdout
