"""Image automation as services: list the tags policies allow, commit newer ones, and
edit the workloads' automation annotations in Git."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kgit.errors import ConfigError
from kgit.images.credentials import collect_credentials
from kgit.images.service import (
    ImageSourceOptions,
    RegistryOptions,
    edit_workload,
    list_images,
    run_image_round,
)
from kgit.services.connect import connect_cluster

if TYPE_CHECKING:
    from kgit.images.service import EditVerb, ImageRoundResult, PolicyEditResult
    from kgit.services.verbs_gitops import (
        ImagesListOptions,
        ImageSourceFlags,
        ImagesUpdateOptions,
        PolicyOptions,
        RegistryQueryOptions,
        WorkloadEditOptions,
    )


def registry_options(query: RegistryQueryOptions) -> RegistryOptions:
    """Credentials (Docker configs, pull Secrets read from the cluster only when named),
    timeout and the tag cache, as the image services take them."""
    access = query.access
    credentials = collect_credentials(
        list(access.docker_config),
        list(access.pull_secret),
        lambda: connect_cluster(query.cluster),
    )
    return RegistryOptions(
        credentials=credentials,
        timeout=access.registry_timeout,
        cache_max_age=access.cache_max_age,
        refresh=query.refresh,
    )


def list_workload_images(options: ImagesListOptions) -> ImageRoundResult:
    """``kgit images list``: each container's tag now and the newest its policy allows."""
    source = ImageSourceOptions(repo=options.repo, ref=options.ref, paths=options.paths)
    return list_images(
        source, registry_options(options.registry), include_all=options.all_workloads
    )


def update_workload_images(options: ImagesUpdateOptions) -> ImageRoundResult:
    """``kgit images update``: commit (and push) the newest allowed tags."""
    return run_image_round(
        options.source.repo,
        paths=options.source.paths,
        registry=registry_options(options.registry),
        dry_run=options.source.dry_run,
        push=not options.source.no_push,
    )


def edit_annotation(options: WorkloadEditOptions, verb: EditVerb) -> PolicyEditResult:
    """``kgit automate|deautomate|lock|unlock``: one annotation, committed in Git."""
    return _edit(options.source, options.workload, verb)


def set_policy(options: PolicyOptions) -> PolicyEditResult:
    """``kgit policy``: the tag policies of a workload's containers, committed in Git.

    Raises :class:`ConfigError` for a ``--tag`` that is not ``CONTAINER=POLICY``.
    """
    tags: dict[str, str] = {}
    for item in options.tags:
        container, sep, text = item.partition("=")
        if not sep or not container:
            raise ConfigError(f"--tag {item}: write CONTAINER=POLICY")
        tags[container] = text
    return _edit(options.source, options.workload, "policy", tag_all=options.tag_all, tags=tags)


def _edit(
    source: ImageSourceFlags,
    workload: str,
    verb: EditVerb,
    *,
    tag_all: str | None = None,
    tags: dict[str, str] | None = None,
) -> PolicyEditResult:
    return edit_workload(
        ImageSourceOptions(repo=source.repo, paths=source.paths),
        workload,
        verb,
        tag_all=tag_all,
        tags=tags,
        dry_run=source.dry_run,
        push=not source.no_push,
    )
