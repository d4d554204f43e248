"""Helpers of the source tests: kgit verbs on a test repository's own stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgitlib import Run, run_kgit

if TYPE_CHECKING:
    from kgitlib import GitRepo


def kgit_on(repo: GitRepo, kubeconfig: str, env: dict[str, str], verb: str, *args: str) -> Run:
    """``kgit VERB -C repo --stack <repo's name> ARGS`` with ``env``."""
    return run_kgit(
        verb, "-C", str(repo.root), "--stack", repo.root.name, *args, kubeconfig=kubeconfig, env=env
    )


def plan_json(repo: GitRepo, kubeconfig: str, env: dict[str, str], *args: str) -> Any:
    """The plan as JSON (a plan with or without changes; anything else fails the test)."""
    done = kgit_on(repo, kubeconfig, env, "plan", "--format", "json", *args)
    assert done.code in (0, 2), done.output
    return done.json()


def apply_auto(repo: GitRepo, kubeconfig: str, env: dict[str, str]) -> Run:
    """``kgit apply --auto-approve``, which must succeed."""
    done = kgit_on(repo, kubeconfig, env, "apply", "--auto-approve")
    assert done.code == 0, done.output
    return done


def assert_no_changes(repo: GitRepo, kubeconfig: str, env: dict[str, str]) -> None:
    """A plan with ``--detailed-exitcode`` finds nothing to do."""
    done = kgit_on(repo, kubeconfig, env, "plan", "--detailed-exitcode")
    assert done.code == 0, done.output
