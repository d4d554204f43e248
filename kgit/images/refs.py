"""Image references as Kubernetes and Docker read them: ``[registry/]repository[:tag][@digest]``.

The text written in Git is kept as it is (``nginx`` stays ``nginx``); only the registry
and repository used to ask for tags are normalised the way Docker does it (Docker Hub
for a name without a registry, ``library/`` for its one-part names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
# Docker Hub's registry API answers on another host than its name.
_DOCKER_HUB_API = "registry-1.docker.io"
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")


class ImageRefError(ValueError):
    """Text that is not an image reference; the message says why."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A parsed image reference.

    ``name`` is the part before the tag exactly as written; ``registry`` and
    ``repository`` are normalised for registry requests.
    """

    name: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        """The host (and port) serving the registry API for this image."""
        return _DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def canonical(self) -> str:
        """``registry/repository``: one image repository, however it was written."""
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str) -> str:
        """The reference text with ``tag`` in place of the current one."""
        return f"{self.name}:{tag}"


def parse_image(text: str) -> ImageRef:
    """Read ``text`` as an image reference; raises :class:`ImageRefError` if it is not one."""
    rest, _, digest = text.partition("@")
    name, tag = rest, None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        name, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ImageRefError(f"{text!r}: {tag!r} is not a valid tag")
    if not name:
        raise ImageRefError(f"{text!r}: no repository name")
    first, sep, remainder = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, remainder
    else:
        registry, repository = DOCKER_HUB, name
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    if not all(_COMPONENT.fullmatch(part) for part in repository.split("/")):
        raise ImageRefError(f"{text!r}: {repository!r} is not a valid repository name")
    return ImageRef(name, registry, repository, tag, digest or None)
