"""Which API server to talk to, and how: kubeconfig files, contexts, in-cluster configuration.

Kubeconfigs are found like kubectl finds them (``--kubeconfig``, ``$KUBECONFIG`` with
``a:b`` merges, ``~/.kube/config``, then the in-cluster service account). Most need
nothing but a server, a CA and a client certificate or a bearer token: those are read
here (:func:`read_plain_kubeconfig`) and served by kgit's own ``http.client`` transport. Anything
else (exec credential plugins, auth providers, basic auth, proxies, impersonation, merged
files, in-cluster configuration) goes through the ``kubernetes`` package, imported only
then: it costs about half a second to import.
"""

from __future__ import annotations

import base64
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from kgit.cluster.errors import KubeconfigError
from kgit.cluster.transport import KubernetesTransport, NativeTransport

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kgit.cluster.transport import Transport

# Keys a plain kubeconfig may use; any other key of a cluster or user entry (exec,
# auth-provider, username, proxy-url, as, ...) needs the kubernetes package.
_CLUSTER_KEYS = frozenset(
    {
        "server",
        "certificate-authority",
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "tls-server-name",
        "extensions",
    }
)
_USER_KEYS = frozenset(
    {
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "tokenFile",
        "extensions",
    }
)
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


@dataclass(frozen=True, slots=True)
class PlainKubeconfig:
    """A kubeconfig context that needs nothing but TLS and an optional bearer token."""

    server: str
    namespace: str
    ca_file: str | None = None
    ca_data: str | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: bytes | None = None
    key_data: bytes | None = None
    token: str | None = None
    token_file: str | None = None


def read_plain_kubeconfig(path: str, context: str | None) -> PlainKubeconfig | None:
    """The context of one kubeconfig file, if it is plain; None if it needs more.

    None also when the file or context cannot be read: the ``kubernetes`` package then
    reports the problem in its own words.
    """
    if os.pathsep in path or any(os.environ.get(v) for v in _PROXY_VARIABLES):
        return None
    full = os.path.expanduser(path)
    try:
        with open(full, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return _plain_context(doc, context, os.path.dirname(os.path.abspath(full)))
    except (OSError, yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _named(doc: Mapping[str, Any], section: str, name: str) -> dict[str, Any]:
    found = [e for e in doc.get(section) or [] if e.get("name") == name]
    if len(found) != 1:
        raise KeyError(f"{section}: {name!r}")
    entry = found[0].get(section[:-1])
    if not isinstance(entry, dict):
        raise TypeError(f"{section}: {name!r}")
    return entry


def _plain_context(doc: Any, context: str | None, base: str) -> PlainKubeconfig | None:
    name = context or doc.get("current-context")
    if not name:
        return None
    ctx = _named(doc, "contexts", name)
    cluster = _named(doc, "clusters", ctx["cluster"])
    user = _named(doc, "users", ctx["user"]) if ctx.get("user") else {}
    if set(cluster) - _CLUSTER_KEYS or set(user) - _USER_KEYS:
        return None
    server = str(cluster.get("server") or "")
    if not server.startswith("https://"):
        return None

    def relative(value: Any) -> str | None:
        # kubectl resolves relative file names against the kubeconfig's own directory.
        return os.path.join(base, str(value)) if value else None

    def decoded(value: Any) -> bytes | None:
        return base64.b64decode(str(value)) if value else None

    ca_data = decoded(cluster.get("certificate-authority-data"))
    return PlainKubeconfig(
        server=server.rstrip("/"),
        namespace=str(ctx.get("namespace") or "default"),
        ca_file=relative(cluster.get("certificate-authority")),
        ca_data=ca_data.decode("ascii") if ca_data else None,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        tls_server_name=cluster.get("tls-server-name") or None,
        cert_file=relative(user.get("client-certificate")),
        key_file=relative(user.get("client-key")),
        cert_data=decoded(user.get("client-certificate-data")),
        key_data=decoded(user.get("client-key-data")),
        token=str(user["token"]) if user.get("token") else None,
        token_file=relative(user.get("tokenFile")),
    )


def kubeconfig_paths(kubeconfig: str | None) -> str | None:
    """The kubeconfig search string (``a:b`` merges, like kubectl), or None if none exists."""
    if kubeconfig:
        return kubeconfig
    env = os.environ.get("KUBECONFIG", "")
    if env:
        paths = [p for p in env.split(os.pathsep) if p]
        if any(os.path.exists(os.path.expanduser(p)) for p in paths):
            return env
        return None
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.exists(default) else None


def _load_configuration(kubeconfig: str | None, context: str | None) -> tuple[Any, str, str]:
    """(client Configuration, where it came from, the context's default namespace)."""
    # Imported here: the kubernetes package costs half a second to import, and plain
    # kubeconfigs never need it.
    from kubernetes import client as k8s_client  # noqa: PLC0415
    from kubernetes import config as k8s_config  # noqa: PLC0415
    from kubernetes.config import kube_config  # noqa: PLC0415
    from kubernetes.config.config_exception import ConfigException  # noqa: PLC0415

    # The client's config loaders are untyped; reach them through Any.
    _config_api: Any = k8s_config
    _kube_config_api: Any = kube_config
    configuration = k8s_client.Configuration()
    paths = kubeconfig_paths(kubeconfig)
    if paths is None:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            try:
                _config_api.load_incluster_config(client_configuration=configuration)
            except ConfigException as err:
                raise KubeconfigError(f"in-cluster configuration: {err}") from err
            return configuration, "in-cluster configuration", _in_cluster_namespace()
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise KubeconfigError(
            f"{where}: no kubeconfig found, and not running inside a cluster "
            "(set KUBECONFIG or pass --kubeconfig)"
        )
    if kubeconfig:
        missing = [
            p
            for p in kubeconfig.split(os.pathsep)
            if p and not os.path.exists(os.path.expanduser(p))
        ]
        if missing:
            raise KubeconfigError(f"{missing[0]}: kubeconfig file not found")
    try:
        merged = _kube_config_api.KubeConfigMerger(paths).config
        if merged is None:
            raise ConfigException("no configuration found")
        loader = _kube_config_api.KubeConfigLoader(config_dict=merged, active_context=context)
        loader.load_and_set(configuration)
        namespace = str((loader.current_context.get("context") or {}).get("namespace") or "")
    except yaml.YAMLError as err:
        raise _invalid_yaml(err, paths) from err
    except (ConfigException, KeyError, ValueError, TypeError, AttributeError, OSError) as err:
        what = f"context {context!r}" if context else "current context"
        raise KubeconfigError(f"{paths}: {what}: {err}") from err
    return configuration, paths, namespace or "default"


def _in_cluster_namespace() -> str:
    """The service account's namespace, as the pod sees it."""
    ns_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    if not os.path.exists(ns_file):
        return "default"
    with open(ns_file, encoding="utf-8") as f:
        return f.read().strip() or "default"


def _invalid_yaml(err: yaml.YAMLError, paths: str) -> KubeconfigError:
    """One line naming the file and line; the parser's own report spans several."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        if mark is not None:
            # The client's loader parses each file of a merge: the mark names which.
            name = mark.name if mark.name and not mark.name.startswith("<") else paths
            return KubeconfigError(
                f"{name}:{mark.line + 1}: the kubeconfig is not valid YAML: {err.problem or err}"
            )
    return KubeconfigError(
        f"{paths}: the kubeconfig is not valid YAML: {' '.join(str(err).split())}"
    )


def open_transport(
    kubeconfig: str | None, context: str | None, *, maxsize: int
) -> tuple[Transport, str, str]:
    """(transport to the server, where its configuration came from, default namespace).

    ``maxsize`` bounds the connections kept open. Raises :class:`KubeconfigError` for a
    missing or invalid kubeconfig or context.
    """
    paths = kubeconfig_paths(kubeconfig)
    plain = read_plain_kubeconfig(paths, context) if paths else None
    if plain is not None and paths is not None:
        return NativeTransport(plain, maxsize=maxsize), paths, plain.namespace
    import urllib3  # noqa: PLC0415 - the kubernetes package's transport
    from kubernetes import client as k8s_client  # noqa: PLC0415

    # Library warnings would print over kgit's own output, and say nothing a user can act
    # on: urllib3 repeats on every request that the kubeconfig chose
    # insecure-skip-tls-verify.
    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    warnings.filterwarnings("ignore", module=r"(urllib3|kubernetes)(\.|$)")

    configuration, source, namespace = _load_configuration(kubeconfig, context)
    # One retry policy, ours: urllib3 and the client's own retries would multiply it.
    configuration.retries = False
    configuration.client_go_retries = False
    configuration.connection_pool_maxsize = maxsize
    return KubernetesTransport(k8s_client.ApiClient(configuration)), source, namespace
