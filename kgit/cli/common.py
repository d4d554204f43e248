"""What every verb shares: option types, error handling, output helpers.

Verbs import kgit's services inside their functions, so ``kgit --help`` never pays for
the Kubernetes client or GitPython.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypedDict, TypeVar, Unpack

import typer

from kgit.errors import KgitError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kgit.cluster.client import Cluster
    from kgit.watch.remote import RemoteOptions

P = ParamSpec("P")
R = TypeVar("R")

Repo = Annotated[
    Path,
    typer.Option(
        "--repo", "-C", help="The Git checkout holding the manifests.", show_default=False
    ),
]
Ref = Annotated[
    str,
    typer.Option(
        "--ref",
        "--git-ref",
        help="Branch, tag or commit to read the manifests from (of --git-url: its HEAD by default).",
    ),
]
GitUrl = Annotated[
    str | None,
    typer.Option(
        "--git-url",
        help=(
            "A Git repository to read instead of a checkout: file://, ssh://user@host:port/path, "
            "user@host:path or https://; fetched into a cache under ~/.cache/kgit/repos."
        ),
        show_default=False,
    ),
]
SshKey = Annotated[
    Path | None,
    typer.Option(
        "--ssh-key",
        help="Private key for an SSH --git-url (default: the deploy key from kgit identity).",
        show_default=False,
    ),
]
KnownHosts = Annotated[
    Path | None,
    typer.Option(
        "--known-hosts",
        help="known_hosts file to check the SSH server's host key against (default ~/.ssh/known_hosts).",
        show_default=False,
    ),
]
InsecureSkipHostKeyCheck = Annotated[
    bool,
    typer.Option(
        "--insecure-skip-host-key-check",
        help="Do not check the SSH server's host key (anyone on the way could pose as it).",
    ),
]
IdentityNamespace = Annotated[
    str,
    typer.Option(
        "--identity-namespace", help="Namespace of the deploy key Secret made by kgit identity."
    ),
]
Paths = Annotated[
    list[str] | None,
    typer.Option(
        "--path",
        "-p",
        help="A directory or file inside the repo (repeatable); default: kgit.yaml's paths, else all.",
        show_default=False,
    ),
]
Dirty = Annotated[
    bool,
    typer.Option(
        "--dirty", help="Read the work tree instead of the commit (local iteration only)."
    ),
]
Stack = Annotated[
    str | None,
    typer.Option(
        "--stack", "-s", help="Stack name; default: kgit.yaml's, else the repo directory's."
    ),
]
Kubeconfig = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig", envvar="KUBECONFIG", help="Path(s) of kubeconfig files, like kubectl."
    ),
]
Context = Annotated[str | None, typer.Option("--context", help="The kubeconfig context to use.")]
StateNamespace = Annotated[
    str | None,
    typer.Option("--state-namespace", help="Namespace of the state Secrets (default kgit-system)."),
]
# How image automation asks registries (kgit images, kgit watch --images).
DockerConfig = Annotated[
    list[Path] | None,
    typer.Option(
        "--docker-config",
        help="A Docker config.json or a pull Secret manifest with registry credentials "
        "(repeatable; default: ~/.docker/config.json if present).",
        show_default=False,
    ),
]
PullSecret = Annotated[
    list[str] | None,
    typer.Option(
        "--pull-secret",
        help="A dockerconfigjson Secret in the cluster, as namespace/name (repeatable).",
        show_default=False,
    ),
]
RegistryTimeout = Annotated[
    float, typer.Option("--registry-timeout", help="Seconds to wait for a registry's answer.")
]
CacheMaxAge = Annotated[
    float,
    typer.Option("--cache-max-age", help="Use tag lists fetched less than this many seconds ago."),
]
Color = Annotated[
    bool | None,
    typer.Option(
        "--color/--no-color",
        help="Colour the output (default: only on a terminal).",
        show_default=False,
    ),
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show the traceback of unexpected errors.")
]


def use_color(choice: bool | None) -> bool:
    """Colour when asked, else only on a terminal and without NO_COLOR."""
    if choice is not None:
        return choice
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def progress(message: str) -> None:
    """Progress of long work, on stderr and only on a terminal, so pipes stay clean."""
    if sys.stderr.isatty():
        typer.echo(f"kgit: {message}", err=True)


def fail(message: str) -> typer.Exit:
    """Print an error the user can act on and return the exit to raise (status 1)."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(1)


def handle_errors(verbose_flag: str = "verbose") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn kgit's errors into one clear message and exit 1, without a traceback.

    Anything unexpected says so and how to see the traceback (``-v``).
    """

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except (typer.Exit, typer.Abort, KeyboardInterrupt):
                raise
            except KgitError as err:
                raise fail(str(err)) from None
            except Exception as err:  # the last resort: one line, and how to learn more
                if kwargs.get(verbose_flag):
                    traceback.print_exc()
                raise fail(
                    f"unexpected {type(err).__name__}: {err} (run again with -v for the traceback)"
                ) from None

        return run

    return wrap


def connect_cluster(kubeconfig: str | None, context: str | None) -> Cluster:
    """Connect like kubectl: --kubeconfig/KUBECONFIG, --context, or in-cluster."""
    from kgit.cluster.client import connect

    return connect(kubeconfig, context)


def echo(text: str) -> None:
    """Write ``text`` to stdout with exactly one trailing newline."""
    typer.echo(text.rstrip("\n"))


def as_json(value: Any) -> str:
    """Stable, readable JSON for ``--format json`` outputs other than plans."""
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


class SshFlags(TypedDict):
    """The options of how a ``--git-url`` is reached over SSH, as the verbs receive them."""

    ssh_key: Path | None
    known_hosts: Path | None
    insecure_skip_host_key_check: bool
    identity_namespace: str


def remote_options(
    git_url: str, *, ref: str, paths: list[str] | None, **ssh: Unpack[SshFlags]
) -> RemoteOptions:
    """The ``--git-url`` options as the services take them."""
    from kgit.source.remote import SshOptions
    from kgit.watch.remote import RemoteOptions

    return RemoteOptions(
        url=git_url,
        ref=ref,
        paths=tuple(paths or ()),
        ssh=SshOptions(
            key_file=ssh["ssh_key"],
            known_hosts=ssh["known_hosts"],
            insecure_skip_host_key_check=ssh["insecure_skip_host_key_check"],
        ),
        identity_namespace=ssh["identity_namespace"],
    )
