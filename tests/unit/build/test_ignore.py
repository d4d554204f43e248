"""kgit.build.ignore: gitignore syntax over repository paths."""

from __future__ import annotations

import pytest

from kgit.build.ignore import DEFAULT_EXCLUDES, compile_excludes

DEFAULTS = compile_excludes(DEFAULT_EXCLUDES)


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (".github/workflows/ci.yml", True),
        ("apps/.github/dependabot.yml", True),
        (".gitlab-ci.yml", True),
        (".circleci/config.yml", True),
        ("cloudbuild.yaml", True),
        (".sops.yaml", True),
        ("plans/stack-1.json", True),
        ("apps/plans/cm.yaml", False),  # only kgit's own plans/ at the root
        ("kgit.yaml", True),
        ("apps/kgit.yaml", False),
        ("apps/web.yaml", False),
    ],
)
def test_default_excludes(path: str, excluded: bool) -> None:
    assert DEFAULTS.excludes(path) is excluded


def test_gitignore_syntax() -> None:
    rules = compile_excludes(
        ["# a comment", "", "docs/", "!docs/keep.yaml", "*.draft.yaml", "/top.yaml", "a/**/b.yaml"]
    )
    assert rules.excludes("docs/x.yaml")
    assert rules.excludes("deep/docs/x.yaml")
    # A file inside an excluded directory cannot be re-included, as in Git.
    assert rules.excludes("docs/keep.yaml")
    assert rules.excludes("x/y.draft.yaml")
    assert rules.excludes("top.yaml") and not rules.excludes("sub/top.yaml")
    assert rules.excludes("a/b.yaml") and rules.excludes("a/c/d/b.yaml")
    assert not rules.excludes("docs.yaml")


def test_negation_reincludes_a_file() -> None:
    rules = compile_excludes(["*.yaml", "!keep.yaml"])
    assert rules.excludes("x.yaml")
    assert not rules.excludes("dir/keep.yaml")


def test_directory_only_patterns_do_not_match_files() -> None:
    rules = compile_excludes(["build/"])
    assert not rules.excludes("build")
    assert rules.excludes("build/x.yaml")
