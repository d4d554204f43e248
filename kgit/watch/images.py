"""``kgit watch --images``: an image automation round on the fetched commit, before the sync.

The round works in the watcher's clone cache: it reads the commit just fetched, commits
the newer tags on top of it and pushes that commit to the branch the watcher follows,
over the same transport and with the same deploy key; the sync round then plans and
applies the new commit, in the same watch round. Registry credentials are read again
each round, since pull Secrets rotate (some registries' tokens expire within hours).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kgit.identity import ssh_with_identity
from kgit.images.credentials import collect_credentials
from kgit.images.service import RegistryOptions, run_image_round
from kgit.source.remote import git_environment, parse_git_url, remote_branch

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from kgit.cluster import Cluster
    from kgit.watch.remote import RemoteOptions


@dataclass(frozen=True, slots=True)
class ImageWatchOptions:
    """How a watcher's image rounds ask the registries.

    ``registry`` holds everything but the credentials, which each round reads from
    ``docker_configs`` (Docker's own config when none) and the pull Secrets
    ``pull_secrets`` (``namespace/name``).
    """

    registry: RegistryOptions = field(default_factory=RegistryOptions)
    docker_configs: tuple[Path, ...] = ()
    pull_secrets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImagesDone:
    """What a round's image automation did.

    ``updated`` has one line per image committed (``Kind/ns/name (container): image ->
    tag``), ``commit`` the commit pushed ("" when none), ``errors`` one line per image or
    policy that failed, or the one reason the whole image round failed.
    """

    updated: tuple[str, ...] = ()
    commit: str = ""
    errors: tuple[str, ...] = ()


def update_images(
    cluster: Cluster,
    remote: RemoteOptions,
    cache: Path,
    commit: str,
    options: ImageWatchOptions,
    connect: Callable[[], Cluster],
) -> ImagesDone:
    """Commit the newest allowed tags on top of ``commit`` in the clone cache ``cache`` and
    push them to the branch ``remote.ref`` follows.

    ``connect`` opens a cluster to read the pull Secrets from (and closes it after).
    An image whose registry fails is in ``errors`` and the others still update. Raises
    :class:`KgitError` when credentials can't be read, the ref is no branch, or the
    commit or the push fails (the remote branch then stays as it was).
    """
    credentials = collect_credentials(options.docker_configs, options.pull_secrets, connect)
    registry = dataclasses.replace(options.registry, credentials=credentials)
    with ssh_with_identity(cluster, remote.url, remote.ssh, remote.identity_namespace) as ssh:
        result = run_image_round(
            cache,
            ref=commit,
            paths=remote.paths,
            registry=registry,
            branch=remote_branch(cache, remote.url, remote.ref, ssh),
            push_env=git_environment(parse_git_url(remote.url), ssh),
        )
    if result.commit is None:
        return ImagesDone(errors=result.errors)
    updated = tuple(
        f"{u.workload} ({u.container}): {u.image} -> {u.newest_tag}" for u in result.updates
    )
    return ImagesDone(updated, result.commit.commit, result.errors)
