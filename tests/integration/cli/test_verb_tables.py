"""Every verb that prints a table also prints it as JSON (kapp's "every table also as --json")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import yaml
from kgitlib import GitRepo, configmap, run_kgit

from kgit.cluster import NAMESPACE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from kgit.cluster import Cluster

pytestmark = pytest.mark.integration

TABLE_VERBS = [
    ("history",),
    ("state", "list"),
    ("state", "show"),
    ("images", "list"),
    ("images", "list", "--all"),
    ("images", "update", "--dry-run"),
]


@pytest.fixture
def applied_repo(
    tmp_path: Path, kubeconfig: str, cluster: Cluster, namespace: str, unique: str
) -> Iterator[GitRepo]:
    state_ns = f"{unique}-state"
    repo = GitRepo(tmp_path / "repo")
    repo.write("kgit.yaml", f"stack: {unique}\nstateNamespace: {state_ns}\n")
    repo.write("cm.yaml", yaml.safe_dump(configmap(namespace, "settings", level="1")))
    repo.commit()
    run = run_kgit("apply", "--auto-approve", kubeconfig=kubeconfig, cwd=repo.root)
    assert run.code == 0, run.output
    yield repo
    cluster.delete(NAMESPACE, None, state_ns, uid=None)


@pytest.mark.parametrize("verb", TABLE_VERBS, ids=" ".join)
def test_every_table_verb_prints_valid_json(
    verb: tuple[str, ...], applied_repo: GitRepo, kubeconfig: str
) -> None:
    text = run_kgit(*verb, kubeconfig=kubeconfig, cwd=applied_repo.root)
    as_json = run_kgit(*verb, "--format", "json", kubeconfig=kubeconfig, cwd=applied_repo.root)
    assert text.code == 0 and as_json.code == 0, text.output + as_json.output
    value = json.loads(as_json.stdout)
    assert isinstance(value, (dict, list))
    # The text is a table for people, not JSON.
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.stdout)


def test_the_json_holds_what_the_table_shows(applied_repo: GitRepo, kubeconfig: str) -> None:
    def kgit_json(*args: str) -> object:
        run = run_kgit(*args, "-f", "json", kubeconfig=kubeconfig, cwd=applied_repo.root)
        assert run.code == 0, run.output
        return json.loads(run.stdout)

    history = kgit_json("history")
    assert isinstance(history, list) and history[0]["added"] == 1
    shown = kgit_json("state", "show")
    assert isinstance(shown, dict)
    assert [o["key"].rsplit("/", 1)[1] for o in shown["objects"]] == ["settings"]
    stacks = kgit_json("state", "list")
    assert isinstance(stacks, list) and stacks[0]["objects"] == 1
