"""Semantic versions and npm-style ranges, as Flux and npm write them.

Tags are read leniently, as Flux does (Masterminds/semver): a leading ``v`` and missing
minor or patch numbers are accepted (``v1.2`` is 1.2.0). Ranges follow node-semver:
comparators (``>=1.0 <2``; commas also separate them), ``||`` alternatives, hyphen
ranges (``1.2 - 2``), x-ranges (``1.x``, ``*``), tilde (``~1.2``: patch updates) and
caret (``^1``: no change of the left-most non-zero number). A pre-release version
satisfies a range only when a comparator of the same alternative names a pre-release of
the same ``major.minor.patch`` (``>=1.2.0-rc.0`` admits ``1.2.0-rc.3``, not
``1.3.0-rc.1``): ``~1`` never picks ``v1.2.0-rc.1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(
    r"v?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
# A partial version in a range: each number may be a wildcard or missing.
_PARTIAL = re.compile(
    r"v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_OPERATOR = re.compile(r"(?P<op>~>|~|\^|>=|<=|>|<|=)?(?P<rest>.*)")
_HYPHEN = re.compile(r"\s+-\s+")
# "> = 1.2" and ">= 1.2" are one comparator: glue operators to their version.
_LOOSE_OPERATOR = re.compile(r"(~>|~|\^|>=|<=|>|<|=)\s+")


class SemverError(ValueError):
    """A range or version that cannot be read; the message says which and why."""


@total_ordering
@dataclass(frozen=True, slots=True)
class Version:
    """A semantic version; ``pre`` holds the pre-release identifiers (ints where numeric)."""

    major: int
    minor: int
    patch: int
    pre: tuple[int | str, ...] = ()

    @property
    def core(self) -> tuple[int, int, int]:
        """``(major, minor, patch)``."""
        return (self.major, self.minor, self.patch)

    def _key(self) -> tuple[tuple[int, int, int], int, tuple[tuple[int, int, str], ...]]:
        # A release sorts after its pre-releases; numeric identifiers sort before
        # alphanumeric ones and compare as numbers (semver.org item 11).
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.pre)
        return (self.core, 0 if self.pre else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        return f"{text}-{'.'.join(str(p) for p in self.pre)}" if self.pre else text


def parse_version(text: str) -> Version | None:
    """The version a tag names (``v1.2.3``, ``1.2``, ``1.0.0-rc.1+build``), or None."""
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    return Version(
        int(match["major"]),
        int(match["minor"] or 0),
        int(match["patch"] or 0),
        _identifiers(match["pre"]),
    )


def _identifiers(pre: str | None) -> tuple[int | str, ...]:
    if not pre:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in pre.split("."))


@dataclass(frozen=True, slots=True)
class _Comparator:
    op: str  # one of < <= > >= =
    version: Version

    def test(self, version: Version) -> bool:
        if self.op == "<":
            return version < self.version
        if self.op == "<=":
            return version <= self.version
        if self.op == ">":
            return version > self.version
        if self.op == ">=":
            return version >= self.version
        return version == self.version


@dataclass(frozen=True, slots=True)
class Range:
    """A parsed range: alternatives (``||``), each a set of comparators that must all hold."""

    text: str
    alternatives: tuple[tuple[_Comparator, ...], ...]

    def matches(self, version: Version) -> bool:
        """True when ``version`` satisfies the range (pre-releases only when asked for)."""
        return any(_satisfies(version, comparators) for comparators in self.alternatives)


def _satisfies(version: Version, comparators: tuple[_Comparator, ...]) -> bool:
    if not all(c.test(version) for c in comparators):
        return False
    if not version.pre:
        return True
    return any(c.version.pre and c.version.core == version.core for c in comparators)


def parse_range(text: str) -> Range:
    """Read an npm-style range; raises :class:`SemverError` naming the part it cannot read."""
    alternatives = []
    for alternative in text.split("||"):
        alternatives.append(tuple(_parse_alternative(alternative.strip(), text)))
    return Range(text, tuple(alternatives))


def _parse_alternative(text: str, whole: str) -> list[_Comparator]:
    hyphen = _HYPHEN.split(text)
    if len(hyphen) == 2:
        return _hyphen_range(hyphen[0], hyphen[1], whole)
    if len(hyphen) > 2:
        raise SemverError(f"{whole!r}: more than one hyphen range in {text!r}")
    comparators: list[_Comparator] = []
    words = _LOOSE_OPERATOR.sub(r"\1", text).replace(",", " ").split()
    for word in words or ["*"]:
        comparators.extend(_parse_simple(word, whole))
    return comparators


def _partial(text: str, whole: str) -> tuple[int | None, int | None, int | None, Version]:
    """The numbers of a partial version (None where a wildcard or missing) and its floor."""
    match = _PARTIAL.fullmatch(text)
    if match is None:
        raise SemverError(f"{whole!r}: {text!r} is not a version")
    numbers: list[int | None] = []
    for part in ("major", "minor", "patch"):
        value = match[part]
        # After a wildcard everything is a wildcard: "1.x.3" means "1.x".
        if value is None or value in "xX*" or (numbers and numbers[-1] is None):
            numbers.append(None)
        else:
            numbers.append(int(value))
    major, minor, patch = numbers
    pre = _identifiers(match["pre"]) if patch is not None else ()
    floor = Version(major or 0, minor or 0, patch or 0, pre)
    return major, minor, patch, floor


def _parse_simple(word: str, whole: str) -> list[_Comparator]:
    found = _OPERATOR.fullmatch(word)
    assert found is not None  # the pattern matches any text
    op, rest = found["op"] or "", found["rest"]
    if not rest:
        raise SemverError(f"{whole!r}: {word!r} has an operator but no version")
    major, minor, patch, floor = _partial(rest, whole)
    if op in ("~", "~>"):
        return _tilde(major, minor, patch, floor)
    if op == "^":
        return _caret(major, minor, patch, floor)
    if op in ("", "="):
        return _x_range(major, minor, patch, floor)
    return _primitive(op, major, minor, patch, floor)


def _next(major: int, minor: int | None = None) -> Version:
    """The first release after all of ``major`` (or of ``major.minor``)."""
    if minor is None:
        return Version(major + 1, 0, 0)
    return Version(major, minor + 1, 0)


def _tilde(
    major: int | None, minor: int | None, patch: int | None, floor: Version
) -> list[_Comparator]:
    if major is None:
        return [_Comparator(">=", Version(0, 0, 0))]
    if minor is None:
        return [_Comparator(">=", floor), _Comparator("<", _next(major))]
    return [_Comparator(">=", floor), _Comparator("<", _next(major, minor))]


def _caret(
    major: int | None, minor: int | None, patch: int | None, floor: Version
) -> list[_Comparator]:
    if major is None:
        return [_Comparator(">=", Version(0, 0, 0))]
    if major > 0 or minor is None:
        return [_Comparator(">=", floor), _Comparator("<", _next(major))]
    if minor > 0 or patch is None:
        return [_Comparator(">=", floor), _Comparator("<", _next(major, minor))]
    return [_Comparator(">=", floor), _Comparator("<", Version(0, 0, patch + 1))]


def _x_range(
    major: int | None, minor: int | None, patch: int | None, floor: Version
) -> list[_Comparator]:
    if patch is not None:
        return [_Comparator("=", floor)]
    # A partial version ("1", "1.2.x") covers what it leaves unnamed, as "~" does.
    return _tilde(major, minor, patch, floor)


def _primitive(
    op: str, major: int | None, minor: int | None, patch: int | None, floor: Version
) -> list[_Comparator]:
    if major is None:
        # ">=*" is anything; "<*" and ">*" are nothing.
        if op in {">=", "<="}:
            return [_Comparator(">=", Version(0, 0, 0))]
        return [_Comparator("<", Version(0, 0, 0))]
    if patch is not None:
        return [_Comparator(op, floor)]
    # A partial bound covers the whole unnamed part: ">1.2" starts at 1.3.0 and
    # "<=1.2" ends before 1.3.0.
    after = _next(major, minor)
    if op == ">":
        return [_Comparator(">=", after)]
    if op == "<=":
        return [_Comparator("<", after)]
    return [_Comparator(op, floor)]


def _hyphen_range(low: str, high: str, whole: str) -> list[_Comparator]:
    lmajor, _, _, lfloor = _partial(low, whole)
    hmajor, hminor, hpatch, hfloor = _partial(high, whole)
    comparators = [_Comparator(">=", lfloor if lmajor is not None else Version(0, 0, 0))]
    if hmajor is None:
        return comparators
    if hpatch is not None:
        return [*comparators, _Comparator("<=", hfloor)]
    return [*comparators, _Comparator("<", _next(hmajor, hminor))]
