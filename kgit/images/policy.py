"""Tag policies and the annotations that carry them.

A workload opts in with ``kgit.dev/automated: "true"``; each container may name a policy
with ``kgit.dev/tag.<container>: semver:<range> | glob:<pattern> | regex:<re>``. Flux v1's
annotations (``fluxcd.io/`` and the older ``flux.weave.works/``) are read as aliases, and
``glob:`` is the kind when none is written, as Flux v1 did. When a workload carries the
same annotation under several prefixes, ``kgit.dev/`` wins, then ``fluxcd.io/``.

Tags are ordered by their names alone, never by registry creation times (that would cost
one request per tag, the rate-limit trap Flux v1 fell into): semver policies order by
version; glob and regex policies order tags that read as versions by version, above the
others, which are ordered naturally (digit runs compare as numbers). The moving tag
``latest`` is never picked by a glob or regex policy.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kgit.images.semver import Range, SemverError, Version, parse_range, parse_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

KGIT_PREFIX = "kgit.dev/"
# Highest precedence first.
PREFIXES = (KGIT_PREFIX, "fluxcd.io/", "flux.weave.works/")
AUTOMATED = "automated"
LOCKED = "locked"
TAG = "tag."
KINDS = ("semver", "glob", "regex")

PolicyKind = Literal["semver", "glob", "regex"]


class PolicyError(ValueError):
    """A tag policy that cannot be read; the message says which and why."""


@dataclass(frozen=True, slots=True)
class TagPolicy:
    """One container's tag policy: its kind, its pattern and the text it was read from."""

    kind: PolicyKind
    pattern: str
    semver: Range | None = None
    regex: re.Pattern[str] | None = None

    @property
    def text(self) -> str:
        """The policy as kgit writes it: ``kind:pattern``."""
        return f"{self.kind}:{self.pattern}"

    def allows(self, tag: str) -> bool:
        """True when ``tag`` may be deployed under this policy."""
        if self.semver is not None:
            version = parse_version(tag)
            return version is not None and self.semver.matches(version)
        if tag == "latest":
            return False
        if self.regex is not None:
            return self.regex.search(tag) is not None
        return fnmatch.fnmatchcase(tag, self.pattern)

    def newest(self, tags: Iterable[str]) -> str | None:
        """The highest tag this policy allows, or None when it allows none."""
        allowed = [tag for tag in tags if self.allows(tag)]
        return max(allowed, key=tag_order) if allowed else None


# Flux v1 automated every container of an automated workload; without a policy any tag goes.
DEFAULT_POLICY = TagPolicy("glob", "*")


def parse_policy(text: str) -> TagPolicy:
    """Read ``semver:~1``, ``glob:v1.*``, ``regex:^v\\d+$`` or a bare glob pattern.

    Raises :class:`PolicyError` for an empty pattern, a bad range or a bad regex.
    """
    kind, sep, pattern = text.partition(":")
    if not sep or kind not in KINDS:
        kind, pattern = "glob", text
    pattern = pattern.strip()
    if not pattern:
        raise PolicyError(f"{text!r}: the policy has no pattern")
    if kind == "semver":
        try:
            return TagPolicy("semver", pattern, semver=parse_range(pattern))
        except SemverError as err:
            raise PolicyError(f"{text!r}: {err}") from err
    if kind == "regex":
        try:
            return TagPolicy("regex", pattern, regex=re.compile(pattern))
        except re.error as err:
            raise PolicyError(f"{text!r}: bad regular expression: {err}") from err
    return TagPolicy("glob", pattern)


def tag_order(tag: str) -> tuple[int, Version | tuple[tuple[int, int, str], ...], str]:
    """Sort key of tags: versions by version above other tags, those in natural order."""
    version = parse_version(tag)
    if version is not None:
        return (1, version, tag)
    parts = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", tag)
        if part
    )
    return (0, parts, tag)


@dataclass(frozen=True, slots=True)
class Automation:
    """What a workload's annotations ask for.

    ``tags`` maps container names to their policies; ``errors`` maps container names to
    why their policy could not be read (those containers are not updated).
    """

    automated: bool
    locked: bool
    tags: Mapping[str, TagPolicy]
    errors: Mapping[str, str]

    def policy_for(self, container: str) -> TagPolicy:
        """The container's policy, or the default (any tag) when it names none."""
        return self.tags.get(container, DEFAULT_POLICY)


def read_automation(annotations: Mapping[str, str]) -> Automation:
    """The automation settings in a workload's annotations, kgit's or Flux v1's."""
    automated = locked = False
    tags: dict[str, TagPolicy] = {}
    errors: dict[str, str] = {}
    # Lowest precedence first, so kgit.dev/ is read last and wins.
    for prefix in reversed(PREFIXES):
        for key, value in annotations.items():
            if not key.startswith(prefix):
                continue
            name = key[len(prefix) :]
            if name == AUTOMATED:
                automated = str(value) == "true"
            elif name == LOCKED:
                locked = str(value) == "true"
            elif name.startswith(TAG):
                container = name[len(TAG) :]
                try:
                    tags[container] = parse_policy(str(value))
                    errors.pop(container, None)
                except PolicyError as err:
                    tags.pop(container, None)
                    errors[container] = str(err)
    return Automation(automated, locked, tags, errors)


def prefix_in_use(annotations: Iterable[str], name: str) -> str | None:
    """The prefix under which ``name`` (e.g. ``automated``) is set, by precedence, if any."""
    present = set(annotations)
    for prefix in PREFIXES:
        if prefix + name in present:
            return prefix
    return None


def prefix_of(annotations: Iterable[str]) -> str | None:
    """The automation prefix a set of annotation keys already uses, by precedence, if any."""
    keys = list(annotations)
    for prefix in PREFIXES:
        if any(_is_automation_key(key, prefix) for key in keys):
            return prefix
    return None


def _is_automation_key(key: str, prefix: str) -> bool:
    if not key.startswith(prefix):
        return False
    name = key[len(prefix) :]
    return name in (AUTOMATED, LOCKED) or name.startswith(TAG)
