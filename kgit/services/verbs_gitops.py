"""The options of the Flux verbs (identity, install, watch, sync) and of image automation.

Light like :mod:`kgit.services.verbs`: read at start-up to build the commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kgit.flags import (
    TableFormat,
    auto_apply_flag,
    flag,
    group,
    insecure_host_key_flag,
    interval_flag,
    lock_timeout_flag,
    paths_flag,
    plans_dir_flag,
    ref_flag,
    repo_flag,
    table_format_flag,
    workload_flag,
)
from kgit.services.options import (
    IDENTITY_NAMESPACE,
    ClusterOptions,
    GitUrlOptions,
    PlanningOptions,
    RegistryAccessOptions,
    TargetOptions,
    VerboseOptions,
)
from kgit.watch.modes import AutoApply


@dataclass(frozen=True, slots=True)
class IdentityOptions:
    """``kgit identity``: the deploy key."""

    namespace: str = flag(
        "--namespace", "-n", help="Namespace of the deploy key Secret.", default=IDENTITY_NAMESPACE
    )
    regenerate: bool = flag("--regenerate", help="Replace the key with a new one.", default=False)
    cluster: ClusterOptions = group(ClusterOptions)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class SopsKeyOptions:
    """``kgit sops-key``: kgit's age key for SOPS."""

    namespace: str = flag(
        "--namespace", "-n", help="Namespace of the age key Secret.", default=IDENTITY_NAMESPACE
    )
    regenerate: bool = flag(
        "--regenerate",
        help="Make a new key; the current one is kept (as an old key) until --remove-old.",
        default=False,
    )
    remove_old: bool = flag(
        "--remove-old",
        help="Remove the keys kept from rotations (after every file is re-encrypted).",
        default=False,
    )
    cluster: ClusterOptions = group(ClusterOptions)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class InstallOptions:
    """``kgit install``: the manifests that run ``kgit watch`` in a cluster."""

    git_url: str = flag(
        "--git-url",
        help="The Git repository: file://, ssh://user@host:port/path, user@host:path or https://.",
        required=True,
    )
    git_path: tuple[str, ...] = flag(
        "--git-path", help="Path in the repository to apply (repeatable).", default=()
    )
    git_branch: str = flag(
        "--git-branch",
        "--git-ref",
        help="Branch (or tag) to follow; HEAD: the default branch.",
        default="HEAD",
    )
    namespace: str = flag("--namespace", "-n", help="Namespace kgit runs in.", default="kgit")
    image: str | None = flag("--image", help="The kgit container image.")
    interval: str = interval_flag()
    auto_apply: AutoApply = auto_apply_flag()
    stack: str | None = flag("--stack", "-s", help="Stack name; default: kgit.yaml's.")
    namespaced: bool = flag(
        "--namespaced",
        help="Confine kgit to its namespace: a Role instead of a ClusterRole; state there too.",
        default=False,
    )
    known_hosts: Path | None = flag(
        "--known-hosts",
        help="known_hosts with the SSH server's host key (e.g. from ssh-keyscan), to embed.",
        show_default=False,
    )
    insecure_skip_host_key_check: bool = insecure_host_key_flag()
    sops_age_secret: str | None = flag(
        "--sops-age-secret",
        help="A Secret in kgit's namespace whose *.agekey entries decrypt SOPS files "
        "(kgit sops-key makes kgit-sops-age).",
    )
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class WatchRoundOptions:
    """What a watch round reads and may do: shared by ``kgit watch`` and ``kgit sync --local``."""

    source: GitUrlOptions = group(GitUrlOptions)
    target: TargetOptions = group(TargetOptions)
    planning: PlanningOptions = group(PlanningOptions)
    cluster: ClusterOptions = group(ClusterOptions)
    auto_apply: AutoApply = auto_apply_flag()
    plans_dir: Path = plans_dir_flag()


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """``kgit watch``: the loop."""

    round: WatchRoundOptions = group(WatchRoundOptions)
    interval: str = interval_flag()
    once: bool = flag(
        "--once",
        help="One round, then exit: 0 in sync, 1 failed, 2 changes wait (cron).",
        default=False,
    )
    log_format: TableFormat = flag(
        "--log-format", help="text, or json (one object a line).", default=TableFormat.TEXT
    )
    lock_timeout: float = lock_timeout_flag()
    images: bool = flag(
        "--images",
        help="Before each round, commit and push the newer image tags the workloads' "
        "policies allow (as kgit images update), and apply that commit in the round.",
        default=False,
    )
    registry: RegistryAccessOptions = group(RegistryAccessOptions)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class SyncOptions:
    """``kgit sync``: ask the watcher for a round now (or run one here with ``--local``)."""

    round: WatchRoundOptions = group(WatchRoundOptions)
    timeout: float = flag("--timeout", help="Seconds to wait for the round.", default=120.0)
    local: bool = flag(
        "--local", help="Run one round here instead of asking a running watcher.", default=False
    )
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class ImageSourceFlags:
    """Where the workloads are read and committed: a checkout and paths inside it."""

    repo: Path = repo_flag()
    paths: tuple[str, ...] = paths_flag()
    dry_run: bool = flag("--dry-run", help="Show the change, commit nothing.", default=False)
    no_push: bool = flag("--no-push", help="Commit, but do not push.", default=False)


@dataclass(frozen=True, slots=True)
class RegistryQueryOptions:
    """How ``kgit images`` asks the registries, and the cluster holding pull Secrets."""

    access: RegistryAccessOptions = group(RegistryAccessOptions)
    cluster: ClusterOptions = group(ClusterOptions)
    refresh: bool = flag("--refresh", help="Ask the registries, ignore the cache.", default=False)


@dataclass(frozen=True, slots=True)
class ImagesListOptions:
    """``kgit images list``."""

    repo: Path = repo_flag()
    ref: str = ref_flag()
    paths: tuple[str, ...] = paths_flag()
    all_workloads: bool = flag(
        "--all", help="Every workload, not only the automated ones.", default=False
    )
    registry: RegistryQueryOptions = group(RegistryQueryOptions)
    fmt: TableFormat = table_format_flag()
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class ImagesUpdateOptions:
    """``kgit images update``."""

    source: ImageSourceFlags = group(ImageSourceFlags)
    registry: RegistryQueryOptions = group(RegistryQueryOptions)
    fmt: TableFormat = table_format_flag()
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class WorkloadEditOptions:
    """``kgit automate|deautomate|lock|unlock``: one annotation of a workload, in Git."""

    workload: str = workload_flag()
    source: ImageSourceFlags = group(ImageSourceFlags)
    view: VerboseOptions = group(VerboseOptions)


@dataclass(frozen=True, slots=True)
class PolicyOptions:
    """``kgit policy``: the tag policies of a workload's containers, in Git."""

    workload: str = workload_flag()
    tag_all: str | None = flag(
        "--tag-all", help="Policy for every container: semver:RANGE, glob:PATTERN, regex:RE."
    )
    tags: tuple[str, ...] = flag(
        "--tag",
        help="CONTAINER=POLICY for one container (repeatable).",
        default=(),
        show_default=False,
    )
    source: ImageSourceFlags = group(ImageSourceFlags)
    view: VerboseOptions = group(VerboseOptions)
