"""kgit.config: kgit.yaml text in, Config out, or an error naming file, line and key."""

from __future__ import annotations

import textwrap

import pytest

from kgit.config import DEFAULT_IGNORE_RULES, Config, load_config
from kgit.errors import ConfigError
from kgit.manifests.keys import ObjectKey
from kgit.manifests.normalize import SensitiveRule
from kgit.plan.rules import IgnoreRule

pytestmark = pytest.mark.unit


def error(text: str, name: str = "kgit.yaml") -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(text, name)
    return str(caught.value)


def test_no_file_or_an_empty_one_gives_the_defaults() -> None:
    defaults = Config()
    assert load_config(None) == defaults
    assert load_config("") == defaults
    assert load_config("# just a comment\n") == defaults
    assert load_config("---\nnull\n") == defaults
    assert defaults.state_namespace == "kgit-system"
    assert defaults.default_namespace == "default"
    assert defaults.paths == ()
    assert defaults.stack is None
    assert defaults.max_delete is None
    assert DEFAULT_IGNORE_RULES == ()


def test_the_full_shape() -> None:
    text = textwrap.dedent(
        """
        stack: web
        paths: [namespaces, workloads/web]
        stateNamespace: kgit-state
        defaultNamespace: apps
        maxDelete: 10
        ignore:
          - kind: Deployment        # optional group, namespace, name (globs)
            fields: [spec.replicas]
            reason: scaled by HPA
          - group: ""
            kind: ConfigMap
            namespace: "team-*"
            name: cache-?
            fields:
              - data
              - metadata.annotations
        """
    )
    config = load_config(text)
    assert config == Config(
        stack="web",
        paths=("namespaces", "workloads/web"),
        state_namespace="kgit-state",
        default_namespace="apps",
        max_delete=10,
        ignore=(
            IgnoreRule(fields=("spec.replicas",), kind="Deployment", reason="scaled by HPA"),
            IgnoreRule(
                fields=("data", "metadata.annotations"),
                group="",
                kind="ConfigMap",
                namespace="team-*",
                name="cache-?",
            ),
        ),
    )
    assert config.ignore[0].matches(ObjectKey("apps", "Deployment", "web", "nginx"))
    assert config.ignore[1].matches(ObjectKey("", "ConfigMap", "team-a", "cache-1"))
    assert not config.ignore[1].matches(ObjectKey("x.io", "ConfigMap", "team-a", "cache-1"))


def test_sops_kinds_are_kinds_with_their_group() -> None:
    text = "sops:\n  kinds: [ConfigMap, Widget.example.com]\n"
    assert load_config(text).sops_kinds == ("ConfigMap", "Widget.example.com")
    assert load_config("sops: {}\n").sops_kinds == ()


def test_null_values_and_zero_are_accepted() -> None:
    assert load_config("stack: null\nignore:\npaths:\nmaxDelete: 0\n") == Config(max_delete=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[", "kgit.yaml:1: invalid YAML:"),
        ("stack: a\n  b: c\n", "kgit.yaml:2: invalid YAML:"),
        ("a: 1\n---\nb: 2\n", "kgit.yaml:2: invalid YAML:"),
        ("- stack\n", "kgit.yaml:1: must be a mapping"),
        ("stack: web\nstak: web\n", "kgit.yaml:2: unknown key 'stak'"),
        ("stack: web\nstack: api\n", "kgit.yaml:2: duplicate key 'stack'"),
        ("stack: 12\n", "kgit.yaml:1: stack: must be a non-empty string"),
        ("stack: ''\n", "kgit.yaml:1: stack: must be a non-empty string"),
        ("stack: My_Stack\n", "kgit.yaml:1: stack: 'My_Stack' must be lowercase"),
        ("\nstateNamespace: [a]\n", "kgit.yaml:2: stateNamespace: must be a non-empty string"),
        ("defaultNamespace: Default\n", "kgit.yaml:1: defaultNamespace: 'Default' must be"),
        ("paths: workloads\n", "kgit.yaml:1: paths: must be a list"),
        ("paths:\n  - ok\n  - 3\n", "kgit.yaml:3: paths[1]: must be a non-empty string"),
        ("paths: [/etc]\n", "kgit.yaml:1: paths[0]: '/etc' leaves the repository"),
        ("paths: [a/../../b]\n", "kgit.yaml:1: paths[0]: 'a/../../b' leaves the repository"),
        ("maxDelete: ten\n", "kgit.yaml:1: maxDelete: must be a whole number"),
        ("maxDelete: -1\n", "kgit.yaml:1: maxDelete: must be a whole number"),
        ("maxDelete: 1.5\n", "kgit.yaml:1: maxDelete: must be a whole number"),
        ("maxDelete: yes\n", "kgit.yaml:1: maxDelete: must be a whole number"),
        ("ignore: {kind: X}\n", "kgit.yaml:1: ignore: must be a list"),
        ("ignore:\n  - Deployment\n", "kgit.yaml:2: ignore[0]: must be a mapping"),
        ("ignore:\n  - kind: Deployment\n", "kgit.yaml:2: ignore[0]: fields is missing"),
        ("ignore:\n  - fields: []\n", "kgit.yaml:2: ignore[0].fields: must list at least one"),
        ("ignore:\n  - fields: spec\n", "kgit.yaml:2: ignore[0].fields: must be a list"),
        (
            "ignore:\n  - fields: [spec, 1]\n",
            "kgit.yaml:2: ignore[0].fields[1]: must be a non-empty",
        ),
        (
            "ignore:\n  - fields: [a]\n    kinds: X\n",
            "kgit.yaml:3: ignore[0]: unknown key 'kinds' (known: group, kind, namespace, name,",
        ),
        (
            "ignore:\n  - fields: [a]\n    kind: 5\n",
            "kgit.yaml:3: ignore[0].kind: must be a non-empty",
        ),
        (
            "ignore:\n  - fields: [a]\n    name: ''\n",
            "kgit.yaml:3: ignore[0].name: must be a non-empty",
        ),
        ("ignore:\n  - fields: [a]\n    reason: [x]\n", "kgit.yaml:3: ignore[0].reason: must be a"),
        ("sops: [ConfigMap]\n", "kgit.yaml:1: sops: must be a mapping"),
        ("sops:\n  kind: [ConfigMap]\n", "kgit.yaml:2: sops: unknown key 'kind' (known: kinds)"),
        ("sops:\n  kinds: ConfigMap\n", "kgit.yaml:2: sops.kinds: must be a list"),
        (
            "sops:\n  kinds: [apps/Deployment]\n",
            "kgit.yaml:2: sops.kinds[0]: 'apps/Deployment' must be Kind or Kind.group",
        ),
    ],
)
def test_errors_name_file_line_and_key(text: str, expected: str) -> None:
    assert error(text).startswith(expected)


def test_the_name_given_is_used_in_messages() -> None:
    assert error("bogus: 1\n", "repo@abc123:kgit.yaml").startswith("repo@abc123:kgit.yaml:1:")


def test_absurd_nesting_is_an_error_not_a_crash() -> None:
    assert error("stack: " + "[" * 5000 + "]" * 5000).startswith("kgit.yaml")


def test_sensitive_rules() -> None:
    config = load_config(
        textwrap.dedent(
            """
            sensitive:
              - kind: ConfigMap
                name: app-*
                keys: [password, "*token*"]
                reason: the database password
              - namespace: vault
            """
        )
    )
    assert config.sensitive == (
        SensitiveRule(
            keys=("password", "*token*"),
            kind="ConfigMap",
            name="app-*",
            reason="the database password",
        ),
        SensitiveRule(namespace="vault"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sensitive: yes\n", "kgit.yaml:1: sensitive: must be a list"),
        (
            "sensitive:\n  - keys: []\n",
            "kgit.yaml:2: sensitive[0].keys: must list at least one key",
        ),
        ("sensitive:\n  - fields: [a]\n", "kgit.yaml:2: sensitive[0]: unknown key 'fields'"),
        ("sensitive:\n  - keys: [{a: b}]\n", "kgit.yaml:2: sensitive[0].keys[0]: must be a"),
    ],
)
def test_sensitive_rule_errors(text: str, expected: str) -> None:
    assert error(text).startswith(expected)


def test_sources_settings() -> None:
    config = load_config(
        textwrap.dedent(
            """
            exclude: [docs/, "*.draft.yaml"]
            kustomize: {command: /opt/kustomize, remoteBases: true}
            helm: {command: helm3}
            releases:
              - name: shop
                chart: charts/shop
                namespace: shop
                valuesFiles: [values/prod.yaml]
                sensitiveValuesFiles: [values/secret.yaml]
                values: {replicas: 2, db: {host: x}}
                sensitiveKeys: [db.password]
                includeCRDs: false
                hooks: apply
              - name: cache
                chart: oci://registry.example/charts/cache
                version: 1.2.3
                plainHttp: true
            """
        )
    )
    assert config.exclude == ("docs/", "*.draft.yaml")
    assert config.tools.kustomize == "/opt/kustomize" and config.tools.remote_bases
    assert config.tools.helm == "helm3"
    shop, cache = config.releases
    assert shop.values == {"replicas": 2, "db": {"host": "x"}}
    assert shop.sensitive_values_files == ("values/secret.yaml",)
    assert (shop.include_crds, shop.hooks, shop.namespace) == (False, "apply", "shop")
    assert cache.is_oci and cache.version == "1.2.3" and cache.plain_http
    assert cache.namespace is None and cache.hooks == "skip"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("releases:\n  - chart: x\n", "kgit.yaml:2: releases[0]: name is missing"),
        (
            "releases:\n  - {name: a, chart: 'oci://r/a'}\n",
            "kgit.yaml:2: releases[0]: an oci:// chart needs a version",
        ),
        (
            "releases:\n  - {name: a, chart: ../x}\n",
            "kgit.yaml:2: releases[0].chart: '../x' leaves",
        ),
        (
            "releases:\n  - {name: a, chart: x, hooks: run}\n",
            "kgit.yaml:2: releases[0].hooks: must be",
        ),
        (
            "releases:\n  - {name: a, chart: x, values: [1]}\n",
            "kgit.yaml:2: releases[0].values: must",
        ),
        (
            "releases:\n  - {name: a, chart: x}\n  - {name: a, chart: y}\n",
            "kgit.yaml:2: releases[1]: release 'a' twice",
        ),
        (
            "kustomize: {remoteBases: yes please}\n",
            "kgit.yaml:1: kustomize.remoteBases: must be true",
        ),
    ],
)
def test_sources_settings_errors(text: str, expected: str) -> None:
    assert error(text).startswith(expected)
