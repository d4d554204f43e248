"""``kgit install``: the manifests that run ``kgit watch`` inside a cluster.

Like ``fluxctl install``: a Namespace, a ServiceAccount with the RBAC kgit needs, the
deploy-key Secret (empty: ``kgit identity`` fills it), the known_hosts of an SSH
source, and a Deployment of one replica running the watcher. Pure: options in,
manifests (plain dicts) out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kgit import __version__
from kgit.durations import parse_duration
from kgit.errors import ConfigError
from kgit.identity import IDENTITY_SECRET
from kgit.source.remote import parse_git_url
from kgit.watch.modes import AutoApply

DEFAULT_IMAGE = f"ghcr.io/kgit-dev/kgit:{__version__}"
NAME = "kgit"
KNOWN_HOSTS_CONFIGMAP = "kgit-known-hosts"
KNOWN_HOSTS_DIR = "/etc/kgit/ssh"
# What kgit does to objects: read and list them (plan), server-side apply (patch), create
# its own state, lock and status, update them with preconditions (PUT) and delete
# (prune). Applying arbitrary manifests needs every kind; it never watches.
VERBS = ("get", "list", "create", "update", "patch", "delete")
# Applying RBAC from Git (a ClusterRole granting `watch`, a binding to `view`) needs the
# API server's escalation check passed: `escalate` on roles and `bind` on the roles they
# bind. With them kgit can grant what it does not hold, like Flux's appliers bound to
# cluster-admin; --namespaced keeps that inside its one namespace.
RBAC_RULE = {
    "apiGroups": ["rbac.authorization.k8s.io"],
    "resources": ["clusterroles", "roles"],
    "verbs": ["escalate", "bind"],
}
_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "kgit"}


@dataclass(frozen=True, slots=True)
class InstallOptions:
    """What ``kgit install`` was asked for.

    ``known_hosts`` is the text of a known_hosts file for an SSH URL. ``namespaced``
    confines kgit to its own namespace (a Role instead of a ClusterRole; the state and
    the objects live there too). ``sops_age_secret`` names the Secret in that namespace
    whose age keys decrypt SOPS files.
    """

    git_url: str
    git_paths: tuple[str, ...] = ()
    git_ref: str = "HEAD"
    namespace: str = NAME
    image: str = DEFAULT_IMAGE
    interval: str = "5m"
    auto_apply: AutoApply = AutoApply.SAFE
    stack: str | None = None
    namespaced: bool = False
    known_hosts: str = ""
    insecure_skip_host_key_check: bool = False
    sops_age_secret: str | None = None


def render_install(options: InstallOptions) -> list[dict[str, Any]]:
    """The manifests, in the order to apply them.

    Raises :class:`ConfigError` for an invalid interval, and for an SSH URL without
    known_hosts (unless the host key check is skipped by name), and :class:`SourceError`
    for an invalid URL.
    """
    parse_duration(options.interval)
    url = parse_git_url(options.git_url)
    ssh_checked = url.is_ssh and not options.insecure_skip_host_key_check
    if ssh_checked and not options.known_hosts.strip():
        raise ConfigError(
            f"{options.git_url}: an SSH source needs the server's host key: give "
            "--known-hosts FILE (e.g. from ssh-keyscan, after checking the fingerprint), "
            "or --insecure-skip-host-key-check"
        )
    ns = options.namespace
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": _LABELS}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(NAME, ns),
        },
        *_rbac(options),
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                **_meta(IDENTITY_SECRET, ns),
                "annotations": {
                    "kgit.dev/note": f"filled by `kgit identity --namespace {ns}`",
                },
            },
        },
    ]
    if ssh_checked:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _meta(KNOWN_HOSTS_CONFIGMAP, ns),
                "data": {"known_hosts": options.known_hosts.strip() + "\n"},
            }
        )
    objects.append(_deployment(options, ssh_checked))
    return objects


def watch_args(options: InstallOptions, *, ssh_checked: bool) -> list[str]:
    """The ``kgit`` arguments the Deployment runs."""
    args = ["watch", "--git-url", options.git_url, "--git-ref", options.git_ref]
    for path in options.git_paths:
        args += ["--path", path]
    args += [
        "--interval",
        options.interval,
        "--auto-apply",
        options.auto_apply.value,
        "--log-format",
        "json",
        "--identity-namespace",
        options.namespace,
    ]
    if options.stack:
        args += ["--stack", options.stack]
    if options.namespaced:
        args += [
            "--state-namespace",
            options.namespace,
            "--default-namespace",
            options.namespace,
        ]
    if ssh_checked:
        args += ["--known-hosts", f"{KNOWN_HOSTS_DIR}/known_hosts"]
    elif options.insecure_skip_host_key_check:
        args.append("--insecure-skip-host-key-check")
    if options.sops_age_secret:
        # Read through the API like the deploy key (the ServiceAccount may get Secrets),
        # so a rotation needs no restart and no key is ever mounted as a file.
        args += ["--sops-age-secret", f"{options.namespace}/{options.sops_age_secret}"]
    return args


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(_LABELS)
    return meta


def _rbac(options: InstallOptions) -> list[dict[str, Any]]:
    ns = options.namespace
    rules: list[dict[str, Any]] = [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": list(VERBS)},
        dict(RBAC_RULE),
    ]
    subject = {"kind": "ServiceAccount", "name": NAME, "namespace": ns}
    if options.namespaced:
        return [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": _meta(NAME, ns),
                "rules": rules,
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _meta(NAME, ns),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
                "subjects": [subject],
            },
        ]
    # Discovery and /version: granted to every authenticated user by default, but
    # stated here so a cluster that removed that grant still serves kgit.
    rules.append(
        {"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/version"], "verbs": ["get"]}
    )
    cluster_name = f"{NAME}-{ns}"
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(cluster_name),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(cluster_name),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": cluster_name,
            },
            "subjects": [subject],
        },
    ]


def _deployment(options: InstallOptions, ssh_checked: bool) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [
        {"name": "cache", "mountPath": "/var/cache/kgit"},
        {"name": "work", "mountPath": "/var/lib/kgit"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes: list[dict[str, Any]] = [
        {"name": "cache", "emptyDir": {}},
        {"name": "work", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
    ]
    if ssh_checked:
        mounts.append({"name": "known-hosts", "mountPath": KNOWN_HOSTS_DIR, "readOnly": True})
        volumes.append({"name": "known-hosts", "configMap": {"name": KNOWN_HOSTS_CONFIGMAP}})
    container = {
        "name": NAME,
        "image": options.image,
        "args": watch_args(options, ssh_checked=ssh_checked),
        "workingDir": "/var/lib/kgit",
        "env": [
            {"name": "HOME", "value": "/tmp"},
            {"name": "XDG_CACHE_HOME", "value": "/var/cache/kgit"},
        ],
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(NAME, options.namespace),
        "spec": {
            "replicas": 1,
            # Never two watchers at once, even during a rollout (the lock would refuse
            # the second anyway, but it would log failed rounds).
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {
                "metadata": {"labels": dict(_LABELS)},
                "spec": {
                    "serviceAccountName": NAME,
                    # Time to finish the current apply batch after SIGTERM.
                    "terminationGracePeriodSeconds": 120,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }
