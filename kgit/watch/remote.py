"""A remote Git source as ``kgit plan``, ``kgit apply`` and ``kgit watch`` take it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kgit.identity import DEFAULT_NAMESPACE, ssh_with_identity
from kgit.source.git import has_commit, repository_root
from kgit.source.read import SourceSpec
from kgit.source.remote import SshOptions, open_source

if TYPE_CHECKING:
    from kgit.cluster import Cluster
    from kgit.plan.model import Plan


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """A Git URL, the ref to follow and the paths to read, and how to reach it over SSH.

    ``url`` empty means none was given (see :func:`source_of_plan`). Without ``ssh.key_file``, an SSH URL uses the deploy key in ``identity_namespace``
    (``kgit identity``).
    """

    url: str = ""
    ref: str = "HEAD"
    paths: tuple[str, ...] = ()
    ssh: SshOptions = field(default_factory=SshOptions)
    identity_namespace: str = DEFAULT_NAMESPACE


def open_remote(
    cluster: Cluster, remote: RemoteOptions, *, ref: str | None = None
) -> tuple[SourceSpec, str]:
    """Fetch ``remote`` into the clone cache: the source options to read it, and the commit
    that ``ref`` (default: the remote's own ref) names now.

    Raises :class:`SourceError` when the remote can't be fetched or the ref is unknown.
    """
    wanted = ref or remote.ref
    with ssh_with_identity(cluster, remote.url, remote.ssh, remote.identity_namespace) as ssh:
        opened = open_source(remote.url, wanted, ssh)
    return SourceSpec(repo=opened.path, ref=wanted, paths=remote.paths), opened.commit


def source_of_plan(
    cluster: Cluster, plan: Plan, *, repo: Path, remote: RemoteOptions
) -> SourceSpec:
    """Where to read a stored plan's commit again, to apply exactly that plan.

    In order: ``remote.url`` when given (``--git-url``); the checkout ``repo`` when one
    was named (not the default ``.``); the checkout here when it holds the commit; the
    plan's own repository when it recorded a local directory (or its path, gone: the
    commit then can't be read); else the plan's URL,
    fetched into the clone cache with ``remote``'s SSH settings (a plan that
    ``kgit watch`` left for approval, applied from anywhere).
    """
    commit, paths = plan.source.commit, plan.source.paths
    if remote.url:
        options, _ = open_remote(cluster, dataclasses.replace(remote, paths=paths), ref=commit)
        return options
    default = Path()
    here = repository_root(repo)
    # The checkout named, or the one here when it holds the commit (a clone whose origin
    # is a local path may hold a commit never pushed there).
    if repo != default or has_commit(here, commit):
        return SourceSpec(repo=here, ref=commit, paths=paths)
    # A plan from a checkout without a remote names its directory: nothing to fetch.
    if Path(plan.source.url).is_absolute():
        return SourceSpec(repo=Path(plan.source.url), ref=commit, paths=paths)
    fetched = dataclasses.replace(remote, url=plan.source.url, paths=paths)
    options, _ = open_remote(cluster, fetched, ref=commit)
    return options
