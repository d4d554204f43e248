"""Versions and npm-style ranges: the cases npm's and Flux's users write."""

from __future__ import annotations

import pytest

from kgit.images.semver import SemverError, Version, parse_range, parse_version

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.2.3", Version(1, 2, 3)),
        ("v1.2.3", Version(1, 2, 3)),
        ("v1.2", Version(1, 2, 0)),
        ("3", Version(3, 0, 0)),
        ("1.2.0-rc.1", Version(1, 2, 0, ("rc", 1))),
        ("1.0.0-alpha+build.5", Version(1, 0, 0, ("alpha",))),
        ("latest", None),
        ("1.2.3.4", None),
        ("sha-1a2b3c", None),
        ("01.2.3", None),
    ],
)
def test_parse_version(tag: str, expected: Version | None) -> None:
    assert parse_version(tag) == expected


def test_precedence_follows_semver_org() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    versions = [v for v in map(parse_version, ordered) if v is not None]
    assert len(versions) == len(ordered)
    assert sorted(reversed(versions)) == versions


@pytest.mark.parametrize(
    ("rng", "yes", "no"),
    [
        ("~1", ["1.0.0", "1.1.0", "1.99.0"], ["2.0.0", "0.9.0", "1.2.0-rc.1"]),
        ("~1.2", ["1.2.0", "1.2.9"], ["1.3.0", "1.1.9"]),
        ("~1.2.3", ["1.2.3", "1.2.10"], ["1.2.2", "1.3.0"]),
        ("~3.1", ["3.1.0", "3.1.5"], ["3.2.0", "3.0.9"]),
        ("^1", ["1.0.0", "1.9.9"], ["2.0.0", "0.9.9"]),
        ("^1.2.3", ["1.2.3", "1.9.0"], ["1.2.2", "2.0.0"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4", "0.0.2"]),
        ("^0.x", ["0.0.1", "0.9.0"], ["1.0.0"]),
        (">=1.0 <2", ["1.0.0", "1.5.0"], ["2.0.0", "0.9.9"]),
        (">=1.0, <2", ["1.0.0"], ["2.0.0"]),
        (">= 1.0 < 2", ["1.0.0"], ["2.0.0"]),
        (">1.2", ["1.3.0"], ["1.2.9"]),
        ("<=1.2", ["1.2.9"], ["1.3.0"]),
        ("<1.2", ["1.1.9"], ["1.2.0"]),
        ("1.x", ["1.0.0", "1.9.0"], ["2.0.0"]),
        ("1.2.x", ["1.2.5"], ["1.3.0"]),
        ("*", ["0.0.1", "9.9.9"], ["1.0.0-rc.1"]),
        ("", ["1.0.0"], []),
        ("1.2.3", ["1.2.3"], ["1.2.4"]),
        ("=1.2", ["1.2.7"], ["1.3.0"]),
        ("1.2 - 2.3.4", ["1.2.0", "2.3.4"], ["2.3.5", "1.1.9"]),
        ("1.2.3 - 2", ["2.9.9"], ["3.0.0"]),
        ("~1 || ^3", ["1.5.0", "3.2.0"], ["2.0.0"]),
        (">=1.2.0-rc.0 <2", ["1.2.0-rc.3", "1.5.0"], ["1.3.0-rc.1", "1.1.9"]),
        ("~1.2.0-0", ["1.2.0-rc.1", "1.2.4"], ["1.2.1-rc.1"]),
        ("<*", [], ["1.0.0"]),
        (">=*", ["1.0.0"], []),
    ],
)
def test_range_matches(rng: str, yes: list[str], no: list[str]) -> None:
    parsed = parse_range(rng)
    for tag in yes:
        version = parse_version(tag)
        assert version is not None and parsed.matches(version), f"{rng} should match {tag}"
    for tag in no:
        version = parse_version(tag)
        assert version is not None and not parsed.matches(version), f"{rng} must not match {tag}"


@pytest.mark.parametrize("bad", ["~", ">=", "1.2.3.4", "abc", "1 - 2 - 3", "~v"])
def test_bad_ranges_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(SemverError, match=r"is not a version|operator but no version|hyphen"):
        parse_range(bad)
