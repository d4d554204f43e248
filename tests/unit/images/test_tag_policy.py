"""Tag policies and the annotations that carry them, kgit's and Flux v1's."""

from __future__ import annotations

import pytest

from kgit.images.policy import (
    PolicyError,
    parse_policy,
    prefix_in_use,
    prefix_of,
    read_automation,
)

pytestmark = pytest.mark.unit

TAGS = ["v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v2.0.0", "latest", "sha-abc"]


@pytest.mark.parametrize(
    ("policy", "newest"),
    [
        ("semver:~1", "v1.1.0"),
        ("semver:>=1.2.0-rc.0 <2", "v1.2.0-rc.1"),
        ("semver:^2", "v2.0.0"),
        ("semver:~3", None),
        ("glob:v1.*", "v1.2.0-rc.1"),
        ("glob:*", "v2.0.0"),
        ("v1.0.*", "v1.0.0"),  # no kind: a glob, as Flux v1 read it
        ("regex:^v\\d+\\.\\d+\\.\\d+$", "v2.0.0"),
        ("regex:^sha-", "sha-abc"),
        ("glob:latest", None),  # the moving tag is never picked
    ],
)
def test_newest_allowed_tag(policy: str, newest: str | None) -> None:
    assert parse_policy(policy).newest(TAGS) == newest


def test_tags_that_are_not_versions_sort_naturally() -> None:
    policy = parse_policy("glob:build-*")
    assert policy.newest(["build-9", "build-10", "build-2"]) == "build-10"


def test_policy_text_is_normalised() -> None:
    assert parse_policy("v1.*").text == "glob:v1.*"
    assert parse_policy("semver:~1").text == "semver:~1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("semver:", "no pattern"),
        ("semver:~x.y.z.q", "is not a version"),
        ("regex:(", "bad regular expression"),
    ],
)
def test_bad_policies(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_flux_v1_annotations_are_aliases() -> None:
    automation = read_automation(
        {
            "fluxcd.io/automated": "true",
            "fluxcd.io/tag.init": "regex:^3.10.*",
            "fluxcd.io/tag.podinfod": "semver:~3.1",
        }
    )
    assert automation.automated and not automation.locked
    assert automation.policy_for("init").text == "regex:^3.10.*"
    assert automation.policy_for("podinfod").text == "semver:~3.1"
    assert automation.policy_for("other").text == "glob:*"


def test_older_flux_prefix_and_kgit_precedence() -> None:
    automation = read_automation(
        {
            "flux.weave.works/automated": "true",
            "flux.weave.works/locked": "true",
            "flux.weave.works/tag.web": "v1.*",
            "kgit.dev/locked": "false",
            "fluxcd.io/tag.web": "semver:~2",
        }
    )
    assert automation.automated
    assert not automation.locked  # kgit.dev/ wins over the Flux prefixes
    assert automation.policy_for("web").text == "semver:~2"  # fluxcd.io/ over flux.weave.works/


def test_a_bad_policy_is_an_error_of_its_container_only() -> None:
    automation = read_automation({"kgit.dev/automated": "true", "kgit.dev/tag.a": "regex:("})
    assert "a" in automation.errors and "a" not in automation.tags
    assert automation.automated


def test_prefixes_in_use() -> None:
    keys = ["fluxcd.io/automated", "kgit.dev/tag.web", "app"]
    assert prefix_in_use(keys, "automated") == "fluxcd.io/"
    assert prefix_in_use(keys, "locked") is None
    assert prefix_of(keys) == "kgit.dev/"
    assert prefix_of(["flux.weave.works/locked"]) == "flux.weave.works/"
    assert prefix_of(["app.kubernetes.io/name"]) is None
