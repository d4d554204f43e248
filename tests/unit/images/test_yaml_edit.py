"""Finding workloads in YAML and editing it in place: only the changed lines differ."""

from __future__ import annotations

import difflib
import textwrap

import pytest

from kgit.errors import ManifestError
from kgit.images.edit import apply_edits, edit_annotations, replace_scalar, scalar_text
from kgit.images.workloads import find_workloads

pytestmark = pytest.mark.unit

FILE = textwrap.dedent(
    """\
    # Web tier: keep this comment.
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web   # trailing comment
      labels:
        app: web
    # a comment before spec
    spec:
      template:
        spec:
          initContainers:
          - name: migrate
            image: 'reg.example:5000/migrate:1.0'
          containers:
            - name: web
              image: "reg.example:5000/web:v1.0.0"
            - name: sidecar
              image: reg.example:5000/sidecar:2.0   # pinned by hand
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: nightly
      namespace: jobs
      annotations:
        fluxcd.io/automated: 'true'
        fluxcd.io/tag.job: semver:~1
    spec:
      schedule: "0 1 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers: [{name: job, image: reg.example:5000/job:1.0.0}]
    ---
    apiVersion: v1
    kind: List
    items:
    - apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: db}
      spec:
        template:
          spec:
            containers:
            - {name: db, image: postgres:15}
    - apiVersion: apps/v1
      kind: DaemonSet
      metadata:
        name: agent
      spec:
        template:
          spec:
            containers:
            - name: agent
              image: agent:1
    - apiVersion: batch/v1
      kind: Job
      metadata:
        name: once
      spec:
        template:
          spec:
            containers:
            - name: once
              image: once:1
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: not-a-workload
    """
)


def changed_lines(before: str, after: str) -> list[str]:
    """The lines a unified diff marks as removed or added."""
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_every_workload_kind_and_container_is_found() -> None:
    found = find_workloads("apps.yaml", FILE)
    assert [(w.kind, w.name, w.namespace) for w in found] == [
        ("Deployment", "web", None),
        ("CronJob", "nightly", "jobs"),
        ("StatefulSet", "db", None),
        ("DaemonSet", "agent", None),
        ("Job", "once", None),
    ]
    web = found[0]
    assert [(c.name, c.init, c.image, c.line) for c in web.containers] == [
        ("migrate", True, "reg.example:5000/migrate:1.0", 14),
        ("web", False, "reg.example:5000/web:v1.0.0", 17),
        ("sidecar", False, "reg.example:5000/sidecar:2.0", 19),
    ]
    assert found[1].annotations == {
        "fluxcd.io/automated": "true",
        "fluxcd.io/tag.job": "semver:~1",
    }
    assert found[1].subject("default") == "CronJob/jobs/nightly"
    assert found[0].subject("apps") == "Deployment/apps/web"


def test_image_rewrites_keep_quoting_comments_and_every_other_byte() -> None:
    found = find_workloads("apps.yaml", FILE)
    edits = [
        replace_scalar(c.node, c.image.rsplit(":", 1)[0] + ":NEW", "x")
        for w in found
        for c in w.containers
    ]
    after = apply_edits(FILE, edits)
    removed = [line for line in changed_lines(FILE, after) if line.startswith("-")]
    added = [line for line in changed_lines(FILE, after) if line.startswith("+")]
    assert len(removed) == len(added) == 7
    assert "+        image: 'reg.example:5000/migrate:NEW'" in added
    assert '+          image: "reg.example:5000/web:NEW"' in added
    assert "+          image: reg.example:5000/sidecar:NEW   # pinned by hand" in added
    assert "+          containers: [{name: job, image: reg.example:5000/job:NEW}]" in added
    assert "+        - {name: db, image: postgres:NEW}" in added


def test_one_image_changes_one_line() -> None:
    web = find_workloads("apps.yaml", FILE)[0]
    after = apply_edits(
        FILE, [replace_scalar(web.containers[1].node, "reg.example:5000/web:v1.1.0", "x")]
    )
    assert changed_lines(FILE, after) == [
        '-          image: "reg.example:5000/web:v1.0.0"',
        '+          image: "reg.example:5000/web:v1.1.0"',
    ]


def test_annotations_are_created_under_metadata() -> None:
    web = find_workloads("apps.yaml", FILE)[0]
    edits = edit_annotations(
        FILE, web, {"kgit.dev/automated": "true", "kgit.dev/tag.web": "semver:~1"}, []
    )
    after = apply_edits(FILE, edits)
    assert changed_lines(FILE, after) == [
        "+  annotations:",
        '+    kgit.dev/automated: "true"',
        "+    kgit.dev/tag.web: semver:~1",
    ]
    # Inserted after labels' last line, before the comment that introduces spec.
    assert "    app: web\n  annotations:\n" in after
    assert find_workloads("apps.yaml", after)[0].annotations == {
        "kgit.dev/automated": "true",
        "kgit.dev/tag.web": "semver:~1",
    }


def test_annotation_values_are_replaced_in_their_quoting_style() -> None:
    cron = find_workloads("apps.yaml", FILE)[1]
    edits = edit_annotations(
        FILE, cron, {"fluxcd.io/automated": "false", "fluxcd.io/tag.job": "glob:1.*"}, []
    )
    assert changed_lines(FILE, apply_edits(FILE, edits)) == [
        "-    fluxcd.io/automated: 'true'",
        "-    fluxcd.io/tag.job: semver:~1",
        "+    fluxcd.io/automated: 'false'",
        "+    fluxcd.io/tag.job: glob:1.*",
    ]


def test_annotations_are_added_and_removed_as_whole_lines() -> None:
    cron = find_workloads("apps.yaml", FILE)[1]
    edits = edit_annotations(FILE, cron, {"fluxcd.io/locked": "true"}, ["fluxcd.io/tag.job"])
    assert changed_lines(FILE, apply_edits(FILE, edits)) == [
        "-    fluxcd.io/tag.job: semver:~1",
        '+    fluxcd.io/locked: "true"',
    ]


def test_removing_the_last_annotation_removes_the_key() -> None:
    cron = find_workloads("apps.yaml", FILE)[1]
    edits = edit_annotations(FILE, cron, {}, ["fluxcd.io/automated", "fluxcd.io/tag.job", "x/y"])
    assert changed_lines(FILE, apply_edits(FILE, edits)) == [
        "-  annotations:",
        "-    fluxcd.io/automated: 'true'",
        "-    fluxcd.io/tag.job: semver:~1",
    ]


def test_nothing_to_do_gives_no_edit() -> None:
    cron = find_workloads("apps.yaml", FILE)[1]
    assert edit_annotations(FILE, cron, {"fluxcd.io/automated": "true"}, ["kgit.dev/locked"]) == []


def test_empty_annotations_and_file_without_final_newline() -> None:
    text = "kind: Deployment\nmetadata:\n  name: a\n  annotations: {}\nspec: {}"
    workload = find_workloads("a.yaml", text)[0]
    after = apply_edits(text, edit_annotations(text, workload, {"kgit.dev/locked": "true"}, []))
    assert after == (
        'kind: Deployment\nmetadata:\n  name: a\n  annotations:\n    kgit.dev/locked: "true"\n'
        "spec: {}"
    )
    text = "kind: Job\nmetadata:\n    name: a"
    workload = find_workloads("a.yaml", text)[0]
    after = apply_edits(text, edit_annotations(text, workload, {"k": "v"}, []))
    assert after == "kind: Job\nmetadata:\n    name: a\n    annotations:\n        k: v\n"


def test_flow_style_annotations_are_refused_when_lines_must_move() -> None:
    text = "kind: Job\nmetadata:\n  name: a\n  annotations: {a: b}\n"
    workload = find_workloads("a.yaml", text)[0]
    with pytest.raises(ManifestError, match=r"a.yaml:4: annotations in flow style"):
        edit_annotations(text, workload, {"k": "v"}, [])
    # Replacing a value in place still works.
    after = apply_edits(text, edit_annotations(text, workload, {"a": "c"}, []))
    assert after == "kind: Job\nmetadata:\n  name: a\n  annotations: {a: c}\n"


def test_json_files_keep_their_form() -> None:
    text = '{"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {"spec":\n  {"containers": [{"name": "a", "image": "app:1"}]}}}}\n'
    workload = find_workloads("a.json", text)[0]
    after = apply_edits(text, [replace_scalar(workload.containers[0].node, "app:2", "x")])
    assert after == text.replace('"app:1"', '"app:2"')


def test_block_scalars_are_not_rewritten() -> None:
    text = "kind: Job\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: >-\n          app:1\n"
    container = find_workloads("a.yaml", text)[0].containers[0]
    with pytest.raises(ManifestError, match="block scalar"):
        replace_scalar(container.node, "app:2", "a.yaml:9")


def test_invalid_yaml_names_file_and_line() -> None:
    with pytest.raises(ManifestError, match=r"bad.yaml:4: invalid YAML"):
        find_workloads("bad.yaml", "kind: Job\nmetadata:\n  name: [a\n")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("semver:~1", "semver:~1"),
        ("regex:^v\\d+$", "regex:^v\\d+$"),
        ("true", '"true"'),
        ("1.0", '"1.0"'),
        ("a # b", '"a # b"'),
        ("*", '"*"'),
        ("glob:*", "glob:*"),
        ("", '""'),
    ],
)
def test_scalars_are_plain_only_when_that_reads_back_the_same(value: str, text: str) -> None:
    assert scalar_text(value) == text
