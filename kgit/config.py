"""``kgit.yaml``: the stack's settings, read from the repository root at the planned commit.

The caller reads the file (from the same commit as the manifests, so a plan and its
settings always agree) and passes its text; this module only parses and checks it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kgit.build.settings import OCI_PREFIX, Release, ToolSettings
from kgit.errors import ConfigError
from kgit.manifests.normalize import SensitiveRule
from kgit.plan.rules import IgnoreRule

CONFIG_FILE = "kgit.yaml"

# Built-in ignore rules. Server-populated fields are normalised away elsewhere
# (kgit/manifests/normalize); nothing here yet is both safe and general enough.
DEFAULT_IGNORE_RULES: tuple[IgnoreRule, ...] = ()

# The stack names a label value, a Secret and a Lease: a DNS label fits all three.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_KEYS = (
    "stack",
    "paths",
    "stateNamespace",
    "defaultNamespace",
    "maxDelete",
    "ignore",
    "sensitive",
    "exclude",
    "releases",
    "kustomize",
    "helm",
    "sops",
)
_RELEASE_KEYS = (
    "name",
    "chart",
    "version",
    "namespace",
    "valuesFiles",
    "sensitiveValuesFiles",
    "values",
    "sensitiveKeys",
    "includeCRDs",
    "hooks",
    "plainHttp",
)
_HOOK_CHOICES = ("skip", "apply")
_MATCH_KEYS = ("group", "kind", "namespace", "name")
_RULE_KEYS = (*_MATCH_KEYS, "fields", "reason")
_SENSITIVE_KEYS = (*_MATCH_KEYS, "keys", "reason")
_SOPS_KEYS = ("kinds",)
# A kind as kubectl spells a resource with its group: ``ConfigMap``, ``Widget.example.com``.
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?")


@dataclass(frozen=True, slots=True)
class Config:
    """The settings of one stack; every field has the default used without ``kgit.yaml``.

    ``paths`` empty means the whole repository; ``max_delete`` None means the default cap
    (a share of the stack) applies. ``sops_kinds`` are the kinds besides Secrets that may
    be SOPS-encrypted (``Kind``, or ``Kind.group`` outside the core group).
    """

    stack: str | None = None
    paths: tuple[str, ...] = ()
    state_namespace: str = "kgit-system"
    default_namespace: str = "default"
    ignore: tuple[IgnoreRule, ...] = ()
    max_delete: int | None = None
    sensitive: tuple[SensitiveRule, ...] = ()
    exclude: tuple[str, ...] = ()
    releases: tuple[Release, ...] = ()
    tools: ToolSettings = ToolSettings()
    sops_kinds: tuple[str, ...] = ()


def load_config(text: str | None, name: str = CONFIG_FILE) -> Config:
    """Parse ``kgit.yaml`` text; None (no file) or an empty file gives the defaults.

    ``name`` is the file's name in messages. Raises :class:`ConfigError` naming
    ``name:line`` and the key for invalid YAML, unknown keys and wrong types.
    """
    if text is None:
        return Config()
    try:
        # The pure-Python composer: kgit.yaml is small, and it fails with a Python
        # error (not a crash) on absurd nesting.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(f"{name}:{line}: invalid YAML: {err.problem or err}") from err
    except (yaml.YAMLError, RecursionError) as err:
        raise ConfigError(f"{name}: invalid YAML: {err}") from err
    if root is None or (isinstance(root, ScalarNode) and root.tag.endswith(":null")):
        return Config()
    reader = _Reader(name)
    fields = reader.mapping(root, "", _KEYS)
    settings: dict[str, Any] = {}
    if "stack" in fields:
        node = fields["stack"]
        null = isinstance(node, ScalarNode) and node.tag.endswith(":null")
        settings["stack"] = None if null else reader.label(node, "stack")
    if "paths" in fields:
        settings["paths"] = tuple(
            reader.repo_path(node, f"paths[{i}]")
            for i, node in enumerate(reader.sequence(fields["paths"], "paths"))
        )
    if "stateNamespace" in fields:
        settings["state_namespace"] = reader.label(fields["stateNamespace"], "stateNamespace")
    if "defaultNamespace" in fields:
        settings["default_namespace"] = reader.label(fields["defaultNamespace"], "defaultNamespace")
    if "maxDelete" in fields:
        settings["max_delete"] = reader.count(fields["maxDelete"], "maxDelete")
    if "ignore" in fields:
        settings["ignore"] = tuple(
            reader.rule(node, f"ignore[{i}]")
            for i, node in enumerate(reader.sequence(fields["ignore"], "ignore"))
        )
    if "sensitive" in fields:
        settings["sensitive"] = tuple(
            reader.sensitive_rule(node, f"sensitive[{i}]")
            for i, node in enumerate(reader.sequence(fields["sensitive"], "sensitive"))
        )
    settings.update(_render_settings(reader, fields))
    if "sops" in fields:
        settings["sops_kinds"] = reader.sops_kinds(fields["sops"])
    return Config(**settings)


def _render_settings(reader: _Reader, fields: dict[str, Node]) -> dict[str, Any]:
    """``exclude``, ``releases``, ``kustomize`` and ``helm``: what and how kgit renders."""
    settings: dict[str, Any] = {}
    if "exclude" in fields:
        settings["exclude"] = reader.strings(fields["exclude"], "exclude")
    if "releases" in fields:
        releases = tuple(
            reader.release(node, f"releases[{i}]")
            for i, node in enumerate(reader.sequence(fields["releases"], "releases"))
        )
        names = [(r.namespace, r.name) for r in releases]
        for i, release in enumerate(releases):
            if names.index((release.namespace, release.name)) != i:
                raise reader.error(
                    fields["releases"], f"releases[{i}]", f"release {release.name!r} twice"
                )
        settings["releases"] = releases
    tools: dict[str, Any] = {}
    if "kustomize" in fields:
        kustomize = reader.mapping(fields["kustomize"], "kustomize", ("command", "remoteBases"))
        if "command" in kustomize:
            tools["kustomize"] = reader.string(kustomize["command"], "kustomize.command")
        if "remoteBases" in kustomize:
            tools["remote_bases"] = reader.flag(kustomize["remoteBases"], "kustomize.remoteBases")
    if "helm" in fields:
        helm = reader.mapping(fields["helm"], "helm", ("command",))
        if "command" in helm:
            tools["helm"] = reader.string(helm["command"], "helm.command")
    if tools:
        settings["tools"] = ToolSettings(**tools)
    return settings


class _Reader:
    """Typed access to YAML nodes, raising :class:`ConfigError` with file, line and key."""

    def __init__(self, name: str) -> None:
        self.name_ = name
        self.constructor = yaml.constructor.SafeConstructor()

    def error(self, node: Node, key: str, message: str) -> ConfigError:
        subject = f"{self.name_}:{node.start_mark.line + 1}"
        return ConfigError(f"{subject}: {key}: {message}" if key else f"{subject}: {message}")

    def mapping(self, node: Node, key: str, known: tuple[str, ...]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.error(node, key, "must be a mapping")
        fields: dict[str, Node] = {}
        for key_node, value_node in node.value:
            field = key_node.value if isinstance(key_node, ScalarNode) else None
            if field not in known or not isinstance(field, str):
                raise self.error(
                    key_node, key, f"unknown key {field!r} (known: {', '.join(known)})"
                )
            if field in fields:
                raise self.error(key_node, key, f"duplicate key {field!r}")
            fields[field] = value_node
        return fields

    def sequence(self, node: Node, key: str) -> list[Node]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, SequenceNode):
            raise self.error(node, key, "must be a list")
        return list(node.value)

    def scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            return node  # not a scalar: callers report it by type
        try:
            return self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError) as err:
            raise self.error(node, "value", f"invalid value: {err}") from err

    def string(self, node: Node, key: str, *, empty: bool = False) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or (not value and not empty):
            raise self.error(node, key, "must be a non-empty string")
        return value

    def label(self, node: Node, key: str) -> str:
        value = self.string(node, key)
        if len(value) > 63 or not _DNS_LABEL.fullmatch(value):
            raise self.error(
                node, key, f"{value!r} must be lowercase letters, digits and '-' (at most 63)"
            )
        return value

    def repo_path(self, node: Node, key: str) -> str:
        value = self.string(node, key)
        normal = posixpath.normpath(value)
        if value.startswith("/") or normal == ".." or normal.startswith("../"):
            raise self.error(node, key, f"{value!r} leaves the repository")
        return value

    def count(self, node: Node, key: str) -> int:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(node, key, "must be a whole number, 0 or more")
        return value

    def rule(self, node: Node, key: str) -> IgnoreRule:
        fields = self.mapping(node, key, _RULE_KEYS)
        if "fields" not in fields:
            raise self.error(node, key, "fields is missing")
        paths = tuple(
            self.string(item, f"{key}.fields[{i}]")
            for i, item in enumerate(self.sequence(fields["fields"], f"{key}.fields"))
        )
        if not paths:
            raise self.error(fields["fields"], f"{key}.fields", "must list at least one field")
        return IgnoreRule(fields=paths, reason=self.reason(fields, key), **self.match(fields, key))

    def sensitive_rule(self, node: Node, key: str) -> SensitiveRule:
        fields = self.mapping(node, key, _SENSITIVE_KEYS)
        keys: tuple[str, ...] = ("*",)
        if "keys" in fields:
            keys = tuple(
                self.string(item, f"{key}.keys[{i}]")
                for i, item in enumerate(self.sequence(fields["keys"], f"{key}.keys"))
            )
            if not keys:
                raise self.error(
                    fields["keys"], f"{key}.keys", "must list at least one key (omit it for all)"
                )
        return SensitiveRule(keys=keys, reason=self.reason(fields, key), **self.match(fields, key))

    def sops_kinds(self, node: Node) -> tuple[str, ...]:
        """``sops.kinds``: the kinds besides Secrets that may be encrypted."""
        fields = self.mapping(node, "sops", _SOPS_KEYS)
        kinds: list[str] = []
        if "kinds" not in fields:
            return ()
        for i, item in enumerate(self.sequence(fields["kinds"], "sops.kinds")):
            kind = self.string(item, f"sops.kinds[{i}]")
            if not _KIND.fullmatch(kind):
                raise self.error(item, f"sops.kinds[{i}]", f"{kind!r} must be Kind or Kind.group")
            kinds.append(kind)
        return tuple(kinds)

    def match(self, fields: dict[str, Node], key: str) -> dict[str, str]:
        """The object patterns of a rule (group, kind, namespace, name)."""
        return {
            # group "" is the core API group; the other patterns can't be empty.
            field: self.string(fields[field], f"{key}.{field}", empty=field == "group")
            for field in _MATCH_KEYS
            if field in fields
        }

    def strings(self, node: Node, key: str) -> tuple[str, ...]:
        return tuple(
            self.string(item, f"{key}[{i}]") for i, item in enumerate(self.sequence(node, key))
        )

    def flag(self, node: Node, key: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.error(node, key, "must be true or false")
        return value

    def release(self, node: Node, key: str) -> Release:
        """One Helm release: name and chart required, the rest optional."""
        fields = self.mapping(node, key, _RELEASE_KEYS)
        for required in ("name", "chart"):
            if required not in fields:
                raise self.error(node, key, f"{required} is missing")
        chart = self.string(fields["chart"], f"{key}.chart")
        settings: dict[str, Any] = {
            "name": self.label(fields["name"], f"{key}.name"),
            "chart": chart
            if chart.startswith(OCI_PREFIX)
            else self.repo_path(fields["chart"], f"{key}.chart"),
        }
        if "version" in fields:
            settings["version"] = self.string(fields["version"], f"{key}.version")
        if chart.startswith(OCI_PREFIX) and not settings.get("version"):
            raise self.error(node, key, "an oci:// chart needs a version")
        if "namespace" in fields:
            settings["namespace"] = self.label(fields["namespace"], f"{key}.namespace")
        for name, field in (
            ("valuesFiles", "values_files"),
            ("sensitiveValuesFiles", "sensitive_values_files"),
        ):
            if name in fields:
                settings[field] = tuple(
                    self.repo_path(item, f"{key}.{name}[{i}]")
                    for i, item in enumerate(self.sequence(fields[name], f"{key}.{name}"))
                )
        if "values" in fields:
            values = self.constructor.construct_object(fields["values"], deep=True)
            if not isinstance(values, dict):
                raise self.error(fields["values"], f"{key}.values", "must be a mapping")
            settings["values"] = values
        if "sensitiveKeys" in fields:
            settings["sensitive_keys"] = self.strings(
                fields["sensitiveKeys"], f"{key}.sensitiveKeys"
            )
        if "includeCRDs" in fields:
            settings["include_crds"] = self.flag(fields["includeCRDs"], f"{key}.includeCRDs")
        if "plainHttp" in fields:
            settings["plain_http"] = self.flag(fields["plainHttp"], f"{key}.plainHttp")
        if "hooks" in fields:
            hooks = self.string(fields["hooks"], f"{key}.hooks")
            if hooks not in _HOOK_CHOICES:
                raise self.error(fields["hooks"], f"{key}.hooks", "must be skip or apply")
            settings["hooks"] = hooks
        return Release(**settings)

    def reason(self, fields: dict[str, Node], key: str) -> str:
        if "reason" not in fields:
            return ""
        return self.string(fields["reason"], f"{key}.reason", empty=True)
