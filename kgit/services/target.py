"""Which stack a verb works on, and where its state lives: one answer for every verb."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kgit.config import Config
from kgit.source.read import default_stack_name, read_head_config

if TYPE_CHECKING:
    from pathlib import Path

    from kgit.services.options import TargetOptions


@dataclass(frozen=True, slots=True)
class Target:
    """A stack and the namespace of its state, lock and status."""

    stack: str
    state_namespace: str


def resolve_target(options: TargetOptions, repo: Path, config: Config | None = None) -> Target:
    """The flag, else ``kgit.yaml``'s setting, else the default, for stack and namespace.

    ``config`` is the kgit.yaml of the source being planned; without it (verbs that read
    no manifests) kgit.yaml is read at the checkout's HEAD, and only when a flag is
    missing. Raises :class:`ConfigError` for an invalid kgit.yaml.
    """
    if config is None:
        needed = options.stack is None or options.state_namespace is None
        config = (read_head_config(repo) if needed else None) or Config()
    return Target(
        stack=options.stack or config.stack or default_stack_name(repo),
        state_namespace=options.state_namespace or config.state_namespace,
    )
