"""The pure decisions of image automation: what each container does, which annotations change."""

from __future__ import annotations

import textwrap

import pytest

from kgit.images.decisions import compute_annotation_change, compute_statuses, parse_workload_id
from kgit.images.errors import ImageError, RegistryError
from kgit.images.registry import Tags
from kgit.images.workloads import Workload, find_workloads

pytestmark = pytest.mark.unit

REG = "reg.example:5000"


def workload(
    annotations: str, *containers: tuple[str, str], init: tuple[str, str] | None = None
) -> Workload:
    """A Deployment with the given annotation lines and (name, image) containers."""
    lines = ["kind: Deployment", "metadata:", "  name: web", "  namespace: apps"]
    if annotations:
        lines.append("  annotations:")
        lines.extend(f"    {line}" for line in textwrap.dedent(annotations).strip().splitlines())
    lines += ["spec:", "  template:", "    spec:"]
    if init:
        lines += ["      initContainers:", f"      - name: {init[0]}", f"        image: {init[1]}"]
    lines.append("      containers:")
    for name, image in containers:
        lines += [f"      - name: {name}", f"        image: {image}"]
    return find_workloads("web.yaml", "\n".join(lines) + "\n")[0]


def tags(image: str, *names: str) -> dict[str, Tags | RegistryError]:
    return {image: Tags(image, names, 0.0)}


AUTOMATED = 'kgit.dev/automated: "true"\nkgit.dev/tag.web: semver:~1'
ALL_TAGS = tags(f"{REG}/web", "v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v2.0.0")


def test_semver_tilde_one_picks_the_newest_release_of_v1() -> None:
    [status] = compute_statuses(
        [workload(AUTOMATED, ("web", f"{REG}/web:v1.0.0"))], ALL_TAGS, "default"
    )
    assert (status.action, status.newest_tag, status.new_image) == (
        "update",
        "v1.1.0",
        f"{REG}/web:v1.1.0",
    )
    assert (status.workload, status.policy, status.line) == ("Deployment/apps/web", "semver:~1", 13)


@pytest.mark.parametrize(
    ("annotations", "image", "action", "newest"),
    [
        (AUTOMATED, f"{REG}/web:v1.1.0", "up to date", "v1.1.0"),
        # A current tag above what the registry still lists is not rolled back.
        (AUTOMATED, f"{REG}/web:v1.5.0", "up to date", "v1.1.0"),
        # A current tag outside the policy moves to the newest allowed one.
        (AUTOMATED, f"{REG}/web:v2.0.0", "update", "v1.1.0"),
        (AUTOMATED, f"{REG}/web", "update", "v1.1.0"),
        (AUTOMATED + '\nkgit.dev/locked: "true"', f"{REG}/web:v1.0.0", "locked", "v1.1.0"),
        ("kgit.dev/tag.web: semver:~1", f"{REG}/web:v1.0.0", "not automated", "v1.1.0"),
        (
            'kgit.dev/automated: "true"\nkgit.dev/tag.web: semver:~3',
            f"{REG}/web:v1.0.0",
            "no allowed tag",
            None,
        ),
        (AUTOMATED, f"{REG}/web@sha256:{'a' * 64}", "pinned", None),
    ],
)
def test_actions(annotations: str, image: str, action: str, newest: str | None) -> None:
    [status] = compute_statuses(
        [workload(annotations, ("web", image))], ALL_TAGS, "d", include_all=True
    )
    assert (status.action, status.newest_tag) == (action, newest)
    assert status.new_image is None or action == "update"


def test_errors_stay_with_their_container() -> None:
    w = workload(
        'kgit.dev/automated: "true"\nkgit.dev/tag.bad: "regex:("',
        ("web", f"{REG}/web:v1.0.0"),
        ("bad", f"{REG}/web:v1.0.0"),
        ("down", "down.example/app:1"),
        ("odd", "Not/An/Image"),
    )
    found = {**ALL_TAGS, "down.example/app": RegistryError("down.example/app: cannot reach")}
    statuses = {s.container: s for s in compute_statuses([w], found, "d")}
    assert statuses["web"].action == "update"
    assert statuses["bad"].action == "error" and "bad regular expression" in (
        statuses["bad"].error or ""
    )
    assert statuses["down"].error == "down.example/app: cannot reach"
    assert statuses["odd"].action == "error"


def test_only_automated_workloads_unless_all() -> None:
    plain = workload("", ("web", f"{REG}/web:v1.0.0"))
    assert compute_statuses([plain], ALL_TAGS, "d") == []
    assert [s.action for s in compute_statuses([plain], ALL_TAGS, "d", include_all=True)] == [
        "not automated"
    ]


def test_flux_podinfo_example() -> None:
    w = workload(
        'fluxcd.io/automated: "true"\nfluxcd.io/tag.init: regex:^3.10.*\nfluxcd.io/tag.podinfod: semver:~3.1',
        ("podinfod", f"{REG}/podinfo:3.1.0"),
        init=("init", f"{REG}/alpine:3.10"),
    )
    found = {
        **tags(f"{REG}/podinfo", "3.0.0", "3.1.0", "3.1.5", "3.2.0"),
        **tags(f"{REG}/alpine", "3.9", "3.10", "3.10.3", "3.11"),
    }
    statuses = {s.container: s for s in compute_statuses([w], found, "d")}
    assert statuses["init"].new_image == f"{REG}/alpine:3.10.3"
    assert statuses["init"].init
    assert statuses["podinfod"].new_image == f"{REG}/podinfo:3.1.5"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("default:deployment/podinfo", ("default", "deployment", "podinfo")),
        ("Deployment/default/podinfo", ("default", "Deployment", "podinfo")),
        ("CronJob/nightly", (None, "CronJob", "nightly")),
    ],
)
def test_workload_ids(text: str, parsed: tuple[str | None, str, str]) -> None:
    assert parse_workload_id(text) == parsed


def test_bad_workload_id() -> None:
    with pytest.raises(ImageError, match="namespace:kind/name"):
        parse_workload_id("podinfo")


def test_edits_keep_the_prefix_already_in_use() -> None:
    flux = workload('fluxcd.io/automated: "true"', ("web", "a:1"), init=("init", "b:1"))
    assert compute_annotation_change(flux, [flux], "lock")[:2] == (
        {"fluxcd.io/locked": "true"},
        set(),
    )
    put, _, summary = compute_annotation_change(flux, [flux], "policy", tag_all="semver:~1")
    assert put == {"fluxcd.io/tag.init": "semver:~1", "fluxcd.io/tag.web": "semver:~1"}
    assert summary == "tag policy init=semver:~1, web=semver:~1"
    bare = workload("", ("web", "a:1"))
    assert compute_annotation_change(bare, [bare], "automate")[0] == {"kgit.dev/automated": "true"}
    # A workload without annotations follows the others in its file.
    assert compute_annotation_change(bare, [bare, flux], "automate")[0] == {
        "fluxcd.io/automated": "true"
    }
    _, remove, _ = compute_annotation_change(flux, [flux], "deautomate")
    assert remove == {"kgit.dev/automated", "fluxcd.io/automated", "flux.weave.works/automated"}


def test_policy_edits_are_checked() -> None:
    w = workload("", ("web", "a:1"))
    with pytest.raises(ImageError, match="no container 'nope'"):
        compute_annotation_change(w, [w], "policy", tags={"nope": "semver:~1"})
    with pytest.raises(ImageError, match="bad regular expression"):
        compute_annotation_change(w, [w], "policy", tags={"web": "regex:("})
    with pytest.raises(ImageError, match="give --tag-all"):
        compute_annotation_change(w, [w], "policy")
