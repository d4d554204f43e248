"""Which source a verb reads: the checkout at ``--repo``, or ``--git-url`` fetched."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kgit.errors import ConfigError
from kgit.source.git import repository_root
from kgit.source.read import SourceSpec
from kgit.source.remote import SshOptions as GitSsh
from kgit.watch.remote import RemoteOptions, open_remote

if TYPE_CHECKING:
    from kgit.cluster.client import Cluster
    from kgit.services.options import GitUrlOptions, SourceOptions


def remote_of(options: SourceOptions | GitUrlOptions) -> RemoteOptions:
    """The ``--git-url`` options (URL, ref, paths, SSH) as the remote source takes them."""
    ssh = options.ssh
    return RemoteOptions(
        url=options.git_url or "",
        ref=options.ref,
        paths=options.paths,
        ssh=GitSsh(
            key_file=ssh.ssh_key,
            known_hosts=ssh.known_hosts,
            insecure_skip_host_key_check=ssh.insecure_skip_host_key_check,
        ),
        identity_namespace=ssh.identity_namespace,
    )


def check_source(options: SourceOptions) -> None:
    """Refuse options that contradict each other, before anything is read."""
    if options.git_url is not None and (options.dirty or options.repo != Path()):
        raise ConfigError(
            "--git-url reads a remote repository: it goes with neither --repo nor --dirty"
        )


def local_spec(options: SourceOptions) -> SourceSpec:
    """The checkout's source as the options name it (no ``--git-url``): from a
    subdirectory, its repository's root (paths are relative to it, as kgit.yaml's)."""
    return SourceSpec(
        repo=repository_root(options.repo),
        ref=options.ref,
        paths=options.paths,
        dirty=options.dirty,
    )


def open_spec(cluster: Cluster, options: SourceOptions) -> tuple[SourceSpec, str | None]:
    """The source to read and, for a ``--git-url``, the commit its ref names now.

    A remote is fetched into the clone cache (SSH with the deploy key when no key is
    given). Raises :class:`SourceError` when it cannot be fetched. The caller has checked
    the options with :func:`check_source`, before connecting.
    """
    if options.git_url is None:
        return local_spec(options), None
    return open_remote(cluster, remote_of(options))
