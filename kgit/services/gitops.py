"""The Flux verbs as services: the deploy key, install manifests, the watch loop, sync."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgit.cluster.client import connect
from kgit.durations import parse_duration
from kgit.errors import ConfigError
from kgit.identity import ensure_identity
from kgit.images.service import RegistryOptions
from kgit.services.connect import connect_cluster
from kgit.services.signals import stop_on_signals
from kgit.services.source import remote_of
from kgit.services.target import resolve_target
from kgit.sops.keyring import ensure_sops_key
from kgit.watch.images import ImageWatchOptions
from kgit.watch.install import DEFAULT_IMAGE, render_install
from kgit.watch.install import InstallOptions as InstallSettings
from kgit.watch.loop import Watcher
from kgit.watch.loop import WatchOptions as WatchSettings
from kgit.watch.rounds import RoundResult
from kgit.watch.sync import find_watched_stack, sync_watcher

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.identity import Identity
    from kgit.services.options import GitUrlOptions, RegistryAccessOptions
    from kgit.services.verbs_gitops import (
        IdentityOptions,
        InstallOptions,
        SopsKeyOptions,
        SyncOptions,
        WatchOptions,
        WatchRoundOptions,
    )
    from kgit.sops.keyring import SopsKey
    from kgit.watch.loop import RoundReport
    from kgit.watch.remote import RemoteOptions


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """How a requested round ended, as the watcher's status says."""

    stack: str
    result: RoundResult
    commit: str
    error: str
    summary: str


def deploy_key(options: IdentityOptions) -> Identity:
    """The deploy key's public half, created (or with ``--regenerate`` replaced) first."""
    with connect_cluster(options.cluster) as cluster:
        return ensure_identity(cluster, options.namespace, regenerate=options.regenerate)


def sops_key(options: SopsKeyOptions) -> SopsKey:
    """kgit's age key's recipient, created (or with ``--regenerate`` rotated) first."""
    with connect_cluster(options.cluster) as cluster:
        return ensure_sops_key(
            cluster,
            options.namespace,
            regenerate=options.regenerate,
            remove_old=options.remove_old,
        )


def install_objects(options: InstallOptions) -> list[dict[str, Any]]:
    """The manifests that run ``kgit watch`` in a cluster (``kgit install``)."""
    hosts = ""
    if options.known_hosts is not None:
        try:
            hosts = options.known_hosts.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{options.known_hosts}: {err.strerror}") from err
    return render_install(
        InstallSettings(
            git_url=options.git_url,
            git_paths=options.git_path,
            git_ref=options.git_branch,
            namespace=options.namespace,
            image=options.image or DEFAULT_IMAGE,
            interval=options.interval,
            auto_apply=options.auto_apply,
            stack=options.stack,
            namespaced=options.namespaced,
            known_hosts=hosts,
            insecure_skip_host_key_check=options.insecure_skip_host_key_check,
            sops_age_secret=options.sops_age_secret,
        )
    )


def run_watch(options: WatchOptions, on_round: Callable[[RoundReport], None]) -> RoundReport:
    """The watch loop until SIGTERM/SIGINT (or one round with ``--once``): the last round."""
    if not options.images and (options.registry.docker_config or options.registry.pull_secret):
        raise ConfigError(
            "--docker-config/--pull-secret: registry credentials serve image automation: "
            "add --images"
        )
    settings = _settings(
        options.round,
        interval=parse_duration(options.interval),
        lock_timeout=options.lock_timeout,
        images=_image_settings(options.registry) if options.images else None,
    )
    cluster = options.round.cluster
    with stop_on_signals() as stop:
        watcher = Watcher(
            settings,
            functools.partial(connect, cluster.kubeconfig, cluster.context),
            stop=stop,
            on_round=on_round,
        )
        return watcher.run(once=options.once)


def sync_here(options: SyncOptions) -> RoundReport:
    """``kgit sync --local``: one round in this process."""
    round_ = options.round
    settings = _settings(
        round_,
        interval=1.0,
        lock_timeout=options.timeout,
        images=None,
        health_timeout=options.timeout,
    )
    watcher = Watcher(
        settings,
        functools.partial(connect, round_.cluster.kubeconfig, round_.cluster.context),
        stop=threading.Event(),
        on_round=lambda _: None,
    )
    return watcher.run_round(trigger="sync")


def sync_remote(options: SyncOptions, on_revision: Callable[[str, str], None]) -> SyncOutcome:
    """Ask the running watcher for a round now and wait until its status says how it ended."""
    round_ = options.round
    namespace = resolve_target(round_.target, Path()).state_namespace
    with connect_cluster(round_.cluster) as cluster:
        stack = find_watched_stack(cluster, namespace, round_.target.stack)
        status = sync_watcher(
            cluster, namespace, stack, timeout=options.timeout, on_revision=on_revision
        )
    return SyncOutcome(
        stack=stack,
        result=RoundResult(status.result),
        commit=status.revision,
        error=status.error,
        summary=status.summary,
    )


def _settings(
    round_: WatchRoundOptions,
    *,
    interval: float,
    lock_timeout: float,
    images: ImageWatchOptions | None,
    health_timeout: float | None = None,
) -> WatchSettings:
    """The watcher's settings; its rounds wait for health up to ``health_timeout``
    (default: the interval, so a round never outlasts it much)."""
    return WatchSettings(
        remote=_remote(round_.source),
        target=round_.target,
        planning=round_.planning,
        mode=round_.auto_apply,
        interval=interval,
        plans_dir=round_.plans_dir,
        lock_timeout=lock_timeout,
        images=images,
        health_timeout=health_timeout or interval,
    )


def _remote(options: GitUrlOptions) -> RemoteOptions:
    if not options.git_url:
        raise ConfigError("--git-url: the repository to watch is required")
    return remote_of(options)


def _image_settings(access: RegistryAccessOptions) -> ImageWatchOptions:
    return ImageWatchOptions(
        RegistryOptions(timeout=access.registry_timeout, cache_max_age=access.cache_max_age),
        access.docker_config,
        access.pull_secret,
    )
