"""Files that are never manifests: kgit's default excludes, ``kgit.yaml``'s ``exclude:``
and ``.kgitignore``, all in gitignore syntax.

A file is excluded when its path, or a directory above it, matches the last pattern that
matches it without ``!`` (as in Git, a file inside an excluded directory cannot be
re-included). Patterns holding a ``/`` (other than a trailing one) are anchored at the
repository root; the others match a name at any depth; a trailing ``/`` matches
directories only; ``**`` spans directories.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

IGNORE_FILE = ".kgitignore"

# CI and tool configurations found in GitOps repositories, and kgit's own files: YAML
# that is never a manifest, so reading it as one would fail the plan.
DEFAULT_EXCLUDES = (
    ".github/",
    ".gitlab/",
    ".gitlab-ci.yml",
    ".circleci/",
    ".travis.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "cloudbuild.yml",
    ".sops.yaml",
    ".pre-commit-config.yaml",
    ".yamllint",
    ".yamllint.yaml",
    ".yamllint.yml",
    "renovate.json",
    ".renovaterc.json",
    "/plans/",
    "/kgit.yaml",
)


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: re.Pattern[str]
    negate: bool
    directory_only: bool


@dataclass(frozen=True, slots=True)
class Excludes:
    """Compiled exclude patterns; :meth:`excludes` answers for one file path."""

    patterns: tuple[_Pattern, ...] = ()

    def excludes(self, path: str) -> bool:
        """True when the file ``path`` (repository-relative) or a directory above it is
        excluded."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if self._matches("/".join(parts[:depth]), directory=True):
                return True
        return self._matches(path, directory=False)

    def _matches(self, path: str, *, directory: bool) -> bool:
        result = False
        for pattern in self.patterns:
            if (directory or not pattern.directory_only) and pattern.regex.fullmatch(path):
                result = not pattern.negate
        return result


def compile_excludes(*groups: tuple[str, ...] | list[str]) -> Excludes:
    """Compile pattern lines, in order (later lines win); blank and ``#`` lines are skipped."""
    patterns = []
    for lines in groups:
        for line in lines:
            pattern = _compile(line)
            if pattern is not None:
                patterns.append(pattern)
    return Excludes(tuple(patterns))


def _compile(line: str) -> _Pattern | None:
    text = line.rstrip("\n")
    if not text.endswith("\\ "):
        text = text.rstrip(" ")
    if not text or text.startswith("#"):
        return None
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    elif text.startswith("\\"):
        text = text[1:]  # "\#x" and "\!x" name files starting with # or !
    directory_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text
    body = _glob(posixpath.normpath(text.lstrip("/")) if anchored else text)
    regex = body if anchored else f"(?:.*/)?{body}"
    return _Pattern(re.compile(regex), negate, directory_only)


def _glob(pattern: str) -> str:
    """A glob as a regular expression over ``/``-separated paths."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            chars = pattern[i + 1 : end]
            if chars.startswith("!"):
                chars = "^" + chars[1:]
            out.append(f"[{chars.replace(chr(92), chr(92) * 2)}]")
            i = end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
