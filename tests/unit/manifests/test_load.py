"""kgit.manifests.load: inline YAML and JSON in, manifests with their lines out."""

from __future__ import annotations

import contextlib
import json
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgit.errors import ManifestError
from kgit.manifests.load import MAX_FILE_BYTES, Manifest, load_manifests
from kgit.source.git import SourceFile

pytestmark = pytest.mark.unit

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def load(text: str | bytes, path: str = "m.yaml") -> list[Manifest]:
    data = text.encode() if isinstance(text, str) else text
    return load_manifests([SourceFile(path, data)])


def error(text: str | bytes, path: str = "m.yaml") -> str:
    with pytest.raises(ManifestError) as caught:
        load(text, path)
    return str(caught.value)


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --- documents and lines -------------------------------------------------------------------


def test_multi_document_file_keeps_each_start_line() -> None:
    text = doc(
        """
        # leading comment
        apiVersion: v1
        kind: Namespace
        metadata:
          name: web
        ---
        ---
        # only a comment
        ---

        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cfg
          namespace: web
        data:
          key: value
        --- null
        ...
        """
    )
    manifests = load(text)
    assert [(m.path, m.line, m.obj["metadata"]["name"]) for m in manifests] == [
        ("m.yaml", 2, "web"),
        ("m.yaml", 11, "cfg"),
    ]
    assert manifests[1].obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "web"},
        "data": {"key": "value"},
    }
    assert manifests[1].where == "m.yaml:11"


def test_empty_and_comment_only_files_hold_nothing() -> None:
    assert load("") == []
    assert load("# nothing here\n---\n# nor here\n") == []
    assert load("   \n", "x.json") == []


def test_files_and_documents_keep_their_order() -> None:
    files = [
        SourceFile("b.yaml", (CM.format(name="b1") + "---\n" + CM.format(name="b2")).encode()),
        SourceFile("a.json", json.dumps(yaml.safe_load(CM.format(name="a"))).encode()),
    ]
    assert [(m.path, m.line, m.obj["metadata"]["name"]) for m in load_manifests(files)] == [
        ("b.yaml", 1, "b1"),
        ("b.yaml", 6, "b2"),
        ("a.json", 1, "a"),
    ]


def test_a_list_kind_expands_to_its_items_with_their_lines() -> None:
    text = doc(
        """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: one}
        -   apiVersion: v1
            kind: Secret
            metadata:
              name: two
        ---
        apiVersion: v1
        kind: ConfigMapList
        items: []
        ---
        apiVersion: v1
        kind: List
        items:
        """
    )
    assert [(m.line, m.obj["kind"], m.obj["metadata"]["name"]) for m in load(text)] == [
        (4, "ConfigMap", "one"),
        (7, "Secret", "two"),
    ]


def test_a_kind_ending_in_list_without_items_is_an_ordinary_object() -> None:
    manifests = load("apiVersion: x.io/v1\nkind: AllowList\nmetadata: {name: a}\nspec: {}\n")
    assert [m.obj["kind"] for m in manifests] == ["AllowList"]


def test_json_file_and_json_list_items_lines() -> None:
    text = (
        '\n{"apiVersion": "v1", "kind": "List", "metadata": {},\n'
        ' "items": [\n'
        '  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},\n'
        "\n"
        '  {"apiVersion": "v1", "kind": "ConfigMap",\n'
        '   "metadata": {"name": "b", "labels": {"x": "y"}}}\n'
        "]}\n"
    )
    manifests = load(text, "list.json")
    assert [(m.path, m.line, m.obj["metadata"]["name"]) for m in manifests] == [
        ("list.json", 4, "a"),
        ("list.json", 6, "b"),
    ]
    single = load(
        '\n\n{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}', "n.json"
    )
    assert [(m.line, m.obj["kind"]) for m in single] == [(3, "Namespace")]


def test_values_are_read_as_kubernetes_reads_them() -> None:
    text = doc(
        """
        apiVersion: v1
        kind: Thing  # a ConfigMap's data must be strings
        metadata:
          name: x
          annotations:
            when: "2024-01-01"
        data:
          date: 2024-01-01
          stamp: 2001-12-14t21:59:43.10-05:00
          8080: port
          true: yes
          equals: =
        spec:
          replicas: 3
          ratio: 0.5
          octal: 0o17
          hex: 0x1F
          flag: yes
          none: ~
          quoted: "3"
        """
    )
    obj = load(text)[0].obj
    assert obj["data"] == {
        "date": "2024-01-01",
        "stamp": "2001-12-14t21:59:43.10-05:00",
        "8080": "port",
        "true": True,
        "equals": "=",
    }
    assert obj["spec"] == {
        "replicas": 3,
        "ratio": 0.5,
        "octal": "0o17",  # YAML 1.1 has no 0o prefix: a string, as for kubectl
        "hex": 31,
        "flag": True,
        "none": None,
        "quoted": "3",
    }
    json.dumps(obj)  # everything is JSON


def test_anchors_and_merge_keys_work() -> None:
    text = doc(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: x
          labels: &labels {app: web, tier: front}
          annotations:
            <<: [*labels, {app: other, extra: "1"}]
            tier: back
        data:
          <<: *labels
          app: override
        """
    )
    obj = load(text)[0].obj
    assert obj["metadata"]["annotations"] == {"app": "web", "tier": "back", "extra": "1"}
    assert obj["data"] == {"app": "override", "tier": "front"}


def test_a_byte_order_mark_is_accepted() -> None:
    assert [
        m.obj["metadata"]["name"] for m in load(b"\xef\xbb\xbf" + CM.format(name="a").encode())
    ] == ["a"]


def test_rbac_objects_may_have_colons_in_names() -> None:
    text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:metrics-server\n"
    assert load(text)[0].obj["metadata"]["name"] == "system:metrics-server"


# --- errors name the file and line ---------------------------------------------------------


def test_invalid_yaml_names_the_line() -> None:
    text = CM.format(name="a") + "data:\n  a: [1, 2\n  b: c\n"
    assert error(text).startswith("m.yaml:7: invalid YAML:")
    assert error("a: b\n c: d\n").startswith("m.yaml:2: invalid YAML:")
    assert error("a: \x00\n").startswith("m.yaml:1: invalid YAML:")


def test_invalid_json_names_the_line() -> None:
    assert error('{"apiVersion": "v1",\n "kind": }', "x.json").startswith("x.json:2: invalid JSON:")
    assert error('{"a": NaN}', "x.json").startswith("x.json:1: invalid JSON:")


def test_not_utf8() -> None:
    assert error(b"apiVersion: v1\nkind: \xff\xfe\n") == "m.yaml: not UTF-8 text"
    assert error(b"\xff\xfe{}", "x.json") == "x.json: not UTF-8 text"


def test_a_file_over_8_mib_is_refused() -> None:
    message = error(b"#" * (MAX_FILE_BYTES + 1))
    assert message.startswith("m.yaml: file is larger than 8 MiB")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "m.yaml:1: a manifest must be a mapping, not a list"),
        ("just text\n", "m.yaml:1: a manifest must be a mapping, not a string"),
        ("---\n\n42\n", "m.yaml:3: a manifest must be a mapping, not a number"),
        ("kind: X\nmetadata: {name: a}\n", "m.yaml:1: apiVersion is missing"),
        ('apiVersion: ""\nkind: X\nmetadata: {name: a}\n', "m.yaml:1: apiVersion is missing"),
        ("apiVersion: 1\nkind: X\nmetadata: {name: a}\n", "m.yaml:1: apiVersion must be a string"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "m.yaml:1: kind is missing"),
        ("apiVersion: v1\n\nkind: [X]\nmetadata: {name: a}\n", "m.yaml:3: kind must be a string"),
        ("apiVersion: v1\nkind: X\n", "m.yaml:1: metadata.name is missing"),
        ("apiVersion: v1\nkind: X\nmetadata: []\n", "m.yaml:3: metadata must be a mapping"),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  labels: {}\n",
            "m.yaml:4: metadata.name is missing",
        ),
        ("apiVersion: v1\nkind: X\nmetadata:\n  name: ''\n", "m.yaml:4: metadata.name is missing"),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: 12\n",
            "m.yaml:4: metadata.name must be a string",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: Web\n",
            "m.yaml:4: metadata.name 'Web' is not a valid name",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a_b\n",
            "m.yaml:4: metadata.name 'a_b' is not a valid name",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: -a\n",
            "m.yaml:4: metadata.name '-a' is not a valid name",
        ),
        (
            f"apiVersion: v1\nkind: X\nmetadata:\n  name: {'a' * 254}\n",
            "m.yaml:4: metadata.name 'aaa",
        ),
        (
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: a/b\n",
            "m.yaml:4: metadata.name 'a/b' is not a valid name",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  namespace: Web\n",
            "m.yaml:5: metadata.namespace 'Web' is not a valid namespace name",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  namespace: [a]\n",
            "m.yaml:5: metadata.namespace must be a string",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  labels: [a]\n",
            "m.yaml:5: metadata.labels must be a mapping",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  labels:\n    ok: x\n    version: 1.0\n",
            "m.yaml:7: metadata.labels.version must be a string, not a number",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  annotations:\n    enabled: true\n",
            "m.yaml:6: metadata.annotations.enabled must be a string, not a boolean",
        ),
        (
            "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  annotations:\n    nested: {a: b}\n",
            "m.yaml:6: metadata.annotations.nested must be a string, not a mapping",
        ),
        (
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: X\n  metadata: {name: ok}\n- 3\n",
            "m.yaml:7: items[1] must be a mapping",
        ),
        (
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: X\n  metadata:\n    name: Bad\n",
            "m.yaml:7: metadata.name 'Bad' is not a valid name",
        ),
        ("apiVersion: v1\nkind: List\nitems: {a: b}\n", "m.yaml:3: items must be a list"),
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\ndata: [x]\n",
            "m.yaml:5: data must be a mapping, not a list",
        ),
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\nstringData:\n  k: x\n  n: 1\n",
            "m.yaml:6: stringData.n must be a string, not a number",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\nbinaryData: text\n",
            "m.yaml:5: binaryData must be a mapping, not a string",
        ),
    ],
)
def test_validation_errors_name_file_and_line(text: str, expected: str) -> None:
    assert error(text).startswith(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["a"]', "x.json:1: a manifest must be a mapping, not a list"),
        ('{"kind": "X", "metadata": {"name": "a"}}', "x.json:1: apiVersion is missing"),
        (
            '\n{"apiVersion": "v1", "kind": "X",\n "metadata": {"name": "A"}}',
            "x.json:2: metadata.name 'A'",
        ),
        ('{"apiVersion": "v1", "apiVersion": "v2"}', "x.json:1: duplicate key 'apiVersion'"),
        ("null", "x.json:1: a manifest must be a mapping, not null"),
    ],
)
def test_json_validation_errors_name_file_and_line(text: str, expected: str) -> None:
    assert error(text, "x.json").startswith(expected)


def test_duplicate_keys_are_refused_at_the_second_key() -> None:
    text = CM.format(name="a") + "data:\n  a: '1'\n  b: '2'\n  a: '3'\n"
    assert error(text) == "m.yaml:8: duplicate key 'a'"
    assert error(CM.format(name="a") + "kind: Secret\n") == "m.yaml:5: duplicate key 'kind'"
    # Scalar keys are their text, so 1 and "1" are the same key.
    assert error(CM.format(name="a") + "data:\n  1: a\n  '1': b\n") == "m.yaml:7: duplicate key '1'"


def test_too_many_aliases_are_refused() -> None:
    uses = "".join(f"  k{i}: *v\n" for i in range(101))
    text = CM.format(name="a") + "data:\n  v: &v x\n" + uses
    assert error(text).startswith("m.yaml:107: too many aliases")
    # A hundred are fine.
    ok = CM.format(name="a") + "data:\n  v: &v x\n" + "".join(f"  k{i}: *v\n" for i in range(100))
    assert len(load(ok)[0].obj["data"]) == 101


def test_a_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join([f'*{prev}'] * 9)}]")
    message = error(CM.format(name="a") + "data:\n" + "".join(f"  {line}\n" for line in lines))
    assert message.startswith("m.yaml:")
    assert "too many aliases" in message


def test_a_recursive_alias_is_refused() -> None:
    assert error(CM.format(name="a") + "spec: &s\n  self: *s\n").startswith(
        "m.yaml:6: recursive alias"
    )
    assert error("a: &x [1, *x]\n").startswith("m.yaml:1: recursive alias")


def test_an_unknown_alias_is_refused() -> None:
    assert error(CM.format(name="a") + "data: *nope\n").startswith("m.yaml:5:")


def test_absurd_nesting_is_refused_without_crashing() -> None:
    # libyaml's own composer would overflow the C stack on this; newer libyaml parsers
    # refuse it themselves, older ones leave it to kgit's depth limit: one message either way.
    assert error("[" * 200_000).startswith("m.yaml:1: nested more than")
    assert error("a:\n" + "".join(" " * (i + 1) + "a:\n" for i in range(300))).startswith("m.yaml:")
    assert error("[" * 300 + "]" * 300, "x.json").startswith("x.json:1: nested more than")
    deep_json = "[" * 100_000 + "]" * 100_000
    assert error(deep_json, "x.json").startswith("x.json:1:")


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!binary aGVsbG8=", "binary"),
        ("!Ref name", "!Ref"),
        ("!!set {a, b}", "set"),
        ("!!omap [a: 1]", "omap"),
        ("!!python/object:os.system x", "python/object"),
    ],
)
def test_tags_without_a_json_form_are_refused(value: str, tag: str) -> None:
    message = error(CM.format(name="a") + f"data:\n  v: {value}\n")
    assert message.startswith("m.yaml:6: unsupported YAML tag")
    assert tag in message


def test_bad_explicit_scalars_are_refused() -> None:
    assert error(CM.format(name="a") + "data:\n  v: !!int abc\n").startswith("m.yaml:6:")


def test_complex_keys_are_refused() -> None:
    message = error(CM.format(name="a") + "data:\n  ? [a, b]\n  : c\n")
    assert message == "m.yaml:6: a mapping key must be a string"


# --- robustness ----------------------------------------------------------------------------

_TOKENS = st.sampled_from(
    [
        "apiVersion: v1\n", "kind: ConfigMap\n", "kind: List\n", "items:\n", "metadata:\n",
        "  name: a\n", "  labels:\n", "    a: 1\n", "- ", "  ", ": ", "\n", "---\n", "...\n",
        "[", "]", "{", "}", ",", "&a ", "*a", "&b ", "*b", "<<: ", "? ", "!!binary ",
        "!!int ", "!x ", "'", '"', "#", "|\n", ">-\n", "2024-02-30", "0x", "1e3", "~", "=",
        "\t", "\x00", "\ufeff", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "name: A_B\n",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TOKENS, max_size=40).map("".join))
def test_yaml_token_soup_raises_only_manifest_errors(text: str) -> None:
    with contextlib.suppress(ManifestError):
        load(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["f.yaml", "f.yml", "f.json"]))
def test_arbitrary_bytes_raise_only_manifest_errors(data: bytes, path: str) -> None:
    with contextlib.suppress(ManifestError):
        load(data, path)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["f.yaml", "f.json"]))
def test_arbitrary_text_raises_only_manifest_errors(text: str, path: str) -> None:
    with contextlib.suppress(ManifestError):
        load(text, path)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_JSON_VALUES, st.sampled_from(["yaml", "json"]))
def test_valid_manifests_read_back_as_written(spec: object, form: str) -> None:
    obj = {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "a"}, "spec": spec}
    text = yaml.safe_dump(obj) if form == "yaml" else json.dumps(obj)
    assert [m.obj for m in load(text, f"f.{form}")] == [obj]


def test_a_badly_tagged_value_is_not_quoted_in_the_error() -> None:
    # The loader cannot know yet whether the document is a Secret: never echo the value.
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  p: !!int hunter2\n"
    message = error(text)
    assert message.startswith("m.yaml:6:")
    assert "hunter2" not in message
