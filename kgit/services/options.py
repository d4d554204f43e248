"""The option groups every verb shares, declared once (see :mod:`kgit.flags`).

A verb's ``...Options`` is made of these groups plus its own fields. The groups hold what
the command line gave, unresolved: ``stack`` None means "kgit.yaml's, else the checkout's
name", resolved by :func:`kgit.services.target.resolve_target` the same way for every verb.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kgit.flags import (
    allow_cascade_flag,
    flag,
    git_url_flag,
    group,
    insecure_host_key_flag,
    paths_flag,
    ref_flag,
    repo_flag,
    state_namespace_flag,
    verbose_flag,
)

# kgit identity's namespace (kgit.identity.DEFAULT_NAMESPACE), spelled here so that
# `kgit --help` does not import the cluster client.
IDENTITY_NAMESPACE = "kgit"


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """Which cluster, like kubectl: kubeconfig files and a context (else in-cluster)."""

    kubeconfig: str | None = flag(
        "--kubeconfig", envvar="KUBECONFIG", help="Path(s) of kubeconfig files, like kubectl."
    )
    context: str | None = flag("--context", help="The kubeconfig context to use.")


@dataclass(frozen=True, slots=True)
class TargetOptions:
    """Which stack, and where its state lives (both default from kgit.yaml)."""

    stack: str | None = flag(
        "--stack", "-s", help="Stack name; default: kgit.yaml's, else the repo directory's."
    )
    state_namespace: str | None = state_namespace_flag()


@dataclass(frozen=True, slots=True)
class SshOptions:
    """How a ``--git-url`` is reached over SSH."""

    ssh_key: Path | None = flag(
        "--ssh-key",
        help="Private key for an SSH --git-url (default: the deploy key from kgit identity).",
        show_default=False,
    )
    known_hosts: Path | None = flag(
        "--known-hosts",
        help="known_hosts file to check the SSH server's host key against (default ~/.ssh/known_hosts).",
        show_default=False,
    )
    insecure_skip_host_key_check: bool = insecure_host_key_flag()
    identity_namespace: str = flag(
        "--identity-namespace",
        help="Namespace of the deploy key Secret made by kgit identity.",
        default=IDENTITY_NAMESPACE,
    )


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """Where the manifests come from: a checkout, or a Git URL fetched into a cache."""

    repo: Path = repo_flag()
    git_url: str | None = git_url_flag()
    ref: str = ref_flag()
    paths: tuple[str, ...] = paths_flag()
    dirty: bool = flag(
        "--dirty",
        help="Read the work tree instead of the commit (local iteration only).",
        default=False,
    )
    ssh: SshOptions = group(SshOptions)


@dataclass(frozen=True, slots=True)
class GitUrlOptions:
    """A Git URL to follow (``kgit watch``, ``kgit sync --local``), its ref and paths."""

    git_url: str | None = git_url_flag()
    ref: str = ref_flag()
    paths: tuple[str, ...] = paths_flag()
    ssh: SshOptions = group(SshOptions)


@dataclass(frozen=True, slots=True)
class RegistryAccessOptions:
    """How image automation asks registries (``kgit images``, ``kgit watch --images``)."""

    docker_config: tuple[Path, ...] = flag(
        "--docker-config",
        help="A Docker config.json or a pull Secret manifest with registry credentials "
        "(repeatable; default: ~/.docker/config.json if present).",
        default=(),
        show_default=False,
    )
    pull_secret: tuple[str, ...] = flag(
        "--pull-secret",
        help="A dockerconfigjson Secret in the cluster, as namespace/name (repeatable).",
        default=(),
        show_default=False,
    )
    registry_timeout: float = flag(
        "--registry-timeout", help="Seconds to wait for a registry's answer.", default=10.0
    )
    cache_max_age: float = flag(
        "--cache-max-age",
        help="Use tag lists fetched less than this many seconds ago.",
        default=300.0,
    )


@dataclass(frozen=True, slots=True)
class DecryptionOptions:
    """The keys that decrypt SOPS-encrypted files. They change what is read, not what is
    planned: a stored plan does not record them, ``kgit apply PLAN`` is given them again."""

    sops_age_key_file: Path | None = flag(
        "--sops-age-key-file",
        envvar="SOPS_AGE_KEY_FILE",
        help="An age key file (age-keygen's) that decrypts the SOPS-encrypted files.",
        show_default=False,
    )
    sops_age_secret: str | None = flag(
        "--sops-age-secret",
        help="A Secret whose *.agekey entries hold age keys, as NAMESPACE/NAME "
        "(kgit sops-key makes kgit/kgit-sops-age).",
    )


@dataclass(frozen=True, slots=True)
class PlanningOptions:
    """What changes the plan beyond the source; recorded in a stored plan (but the keys
    that decrypt the source, which change what is read)."""

    default_namespace: str | None = flag(
        "--default-namespace",
        help="Namespace of namespaced objects that name none (default: kgit.yaml's, else default).",
    )
    allow_empty: bool = flag(
        "--allow-empty",
        help="Allow an empty source to delete every object of the stack.",
        default=False,
    )
    max_delete: int | None = flag(
        "--max-delete",
        help="Most deletions a plan may hold (default: kgit.yaml's, else 30% of the stack, at least 10).",
        minimum=0,
    )
    adopt: bool = flag(
        "--adopt", help="Take over objects that exist but kgit did not create.", default=False
    )
    take_over_from: str | None = flag(
        "--take-over-from",
        help="Take over the objects of this other stack that Git holds (recorded in both stacks' histories).",
        metavar="STACK",
    )
    allow_source_change: bool = flag(
        "--allow-source-change",
        help="Plan the stack from a repository that does not hold its last applied commit.",
        default=False,
    )
    manifest_generation: bool = flag(
        "--manifest-generation",
        help="Run the generators of Flux v1 .flux.yaml files (their commands run in a "
        "private copy of the commit, with a timeout and without your environment).",
        default=False,
    )
    decryption: DecryptionOptions = group(DecryptionOptions)
    allow_cascade: bool = allow_cascade_flag()


@dataclass(frozen=True, slots=True)
class ColorOptions:
    """Colour and tracebacks: how a person reads the output."""

    color: bool | None = flag(
        "--color/--no-color",
        help="Colour the output (default: only on a terminal).",
        show_default=False,
    )
    verbose: bool = verbose_flag()


@dataclass(frozen=True, slots=True)
class VerboseOptions:
    """Tracebacks of unexpected errors, for the verbs that print no colour."""

    verbose: bool = verbose_flag()


@dataclass(frozen=True, slots=True)
class PlanInputOptions:
    """Everything that decides a plan: the source, the stack, the planning options and the
    cluster (``kgit plan``, ``kgit apply``)."""

    source: SourceOptions = group(SourceOptions)
    target: TargetOptions = group(TargetOptions)
    planning: PlanningOptions = group(PlanningOptions)
    cluster: ClusterOptions = group(ClusterOptions)
