"""Why an object is not healthy, from its pods and events: what ``kubectl describe``
would make a person look for (``pod web-7d9f…: ImagePullBackOff (nginx:v3)``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kgit.health.fields import field, get_int, get_str
from kgit.health.model import one_line

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# Waiting reasons of a container that is on its way, not stuck.
_ON_ITS_WAY = frozenset({"ContainerCreating", "PodInitializing"})
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PodProblem:
    """One thing wrong with one pod: a container waiting or failed, or the pod itself."""

    pod: str
    container: str  # "" when the problem is the pod's (Unschedulable, Evicted)
    reason: str  # ImagePullBackOff, CrashLoopBackOff, Error, NotReady, Unschedulable…
    message: str
    image: str  # the container's image as the pod spec asks for it; "" for the pod's

    def describe(self) -> str:
        """``pod web-7d9f-x2x9q: ImagePullBackOff (nginx:v3)``."""
        image = f" ({self.image})" if self.image else ""
        return f"pod {self.pod}: {self.reason}{image}"


@dataclass(frozen=True, slots=True)
class EventNote:
    """One Warning event about the object, one of its pods or one of its children."""

    subject: str  # Kind/name of the object the event is about
    reason: str
    message: str
    count: int
    time: str  # as the API server wrote it; "" if it did not

    def describe(self) -> str:
        """``Pod/web-7d9f-x2x9q: BackOff: Back-off pulling image "nginx:v3" (x4)``."""
        repeated = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.subject}: {self.reason}: {self.message}{repeated}"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the pods and events of an unhealthy object show."""

    pods: tuple[PodProblem, ...] = ()
    events: tuple[EventNote, ...] = ()

    def summary(self) -> str:
        """One line: each distinct pod problem, else the last Warning event; "" if none."""
        if self.pods:
            return "; ".join(dict.fromkeys(problem.describe() for problem in self.pods))
        return self.events[-1].describe() if self.events else ""


def compute_evidence(
    obj: Mapping[str, Any],
    pods: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
    *,
    children: Iterable[Mapping[str, Any]] = (),
    limit: int = 3,
) -> Evidence:
    """The evidence of a failure of ``obj``, from live pods and events.

    ``pods`` may be every pod of the namespace: only those ``obj`` selects count (the
    pod itself for a Pod, ``spec.selector`` for workloads and Services). ``events``
    likewise: only Warning events about ``obj``, its pods or its ``children`` (the
    ReplicaSets of a Deployment, whose events say when pods cannot even be created)
    count, the last ``limit`` of them, oldest first. Pods being deleted are left out.
    """
    own = [pod for pod in pods_of(obj, pods) if not get_str(pod, "metadata.deletionTimestamp")]
    problems = tuple(p for pod in sorted(own, key=_name) for p in pod_problems(pod))
    about = [obj, *own, *children]
    uids = {uid for uid in (get_str(o, "metadata.uid") for o in about) if uid}
    names = {(get_str(o, "kind"), _name(o)) for o in about}
    notes = sorted(
        (_note(event) for event in events if _is_warning_about(event, uids, names)),
        key=lambda pair: pair[0],
    )
    last = notes[-limit:] if limit > 0 else []
    return Evidence(problems, tuple(note for _, note in last))


def pods_of(obj: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods among ``pods`` that ``obj`` selects: itself for a Pod, those in its
    namespace matching ``spec.selector`` for workloads and Services, none otherwise."""
    if get_str(obj, "kind") == "Pod":
        return [obj]
    selector = field(obj, "spec.selector")
    if get_str(obj, "kind") == "Service" and isinstance(selector, Mapping):
        selector = {"matchLabels": selector}
    if not isinstance(selector, Mapping) or not selector:
        return []
    namespace = get_str(obj, "metadata.namespace")
    return [
        pod
        for pod in pods
        if get_str(pod, "metadata.namespace") == namespace
        and selector_matches(selector, _labels(pod))
    ]


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector (``matchLabels``, ``matchExpressions``) selects ``labels``."""
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in wanted.items()):
        return False
    return all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or ())


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = expression.get("values") or ()
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False


def pod_problems(pod: Mapping[str, Any]) -> list[PodProblem]:
    """What is wrong with one pod: its scheduling, its eviction, each of its containers."""
    name = _name(pod)
    phase = get_str(pod, "status.phase")
    if phase == "Succeeded":
        return []
    problems = list(_pod_level(pod, name, phase))
    images = _images(pod)
    for status in _statuses(pod):
        container = str(status.get("name", ""))
        found = _container_problem(status, phase)
        if found is not None:
            reason, message = found
            problems.append(PodProblem(name, container, reason, message, images.get(container, "")))
    return problems


def _pod_level(pod: Mapping[str, Any], name: str, phase: str) -> Iterator[PodProblem]:
    for cond in field(pod, "status.conditions") or ():
        if (
            isinstance(cond, Mapping)
            and cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
        ):
            reason = str(cond.get("reason") or "Unschedulable")
            yield PodProblem(name, "", reason, one_line(str(cond.get("message") or "")), "")
    if phase == "Failed" and get_str(pod, "status.reason"):
        yield PodProblem(
            name, "", get_str(pod, "status.reason"), one_line(get_str(pod, "status.message")), ""
        )


def _container_problem(status: Mapping[str, Any], phase: str) -> tuple[str, str] | None:
    """(reason, message) of a container that is stuck, crashed or not ready, else None."""
    waiting = field(status, "state.waiting")
    if isinstance(waiting, Mapping):
        reason = str(waiting.get("reason") or "")
        if not reason or reason in _ON_ITS_WAY:
            return None
        message = one_line(str(waiting.get("message") or ""))
        last_exit = field(status, "lastState.terminated.exitCode")
        if isinstance(last_exit, int):
            message = f"{message} (last exit code {last_exit})".strip()
        return reason, message
    terminated = field(status, "state.terminated")
    if isinstance(terminated, Mapping):
        code = get_int(status, "state.terminated.exitCode", 0)
        if code == 0:
            return None
        detail = one_line(str(terminated.get("message") or ""))
        message = f"exit code {code}" + (f": {detail}" if detail else "")
        return str(terminated.get("reason") or "Error"), message
    if (
        phase == "Running"
        and field(status, "state.running") is not None
        and not status.get("ready")
    ):
        return "NotReady", "running but not ready (readiness probe)"
    return None


def _statuses(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for path in ("status.initContainerStatuses", "status.containerStatuses"):
        for status in field(pod, path) or ():
            if isinstance(status, Mapping):
                yield status


def _images(pod: Mapping[str, Any]) -> dict[str, str]:
    images = {}
    for path in ("spec.initContainers", "spec.containers"):
        for container in field(pod, path) or ():
            if isinstance(container, Mapping):
                images[str(container.get("name", ""))] = str(container.get("image", ""))
    return images


def _is_warning_about(
    event: Mapping[str, Any], uids: set[str], names: set[tuple[str, str]]
) -> bool:
    if event.get("type") != "Warning":
        return False
    subject = _subject(event)
    uid = str(subject.get("uid") or "")
    if uid:
        return uid in uids
    return (str(subject.get("kind", "")), str(subject.get("name", ""))) in names


def _note(event: Mapping[str, Any]) -> tuple[datetime, EventNote]:
    subject = _subject(event)
    when, text = _event_time(event)
    count = get_int(event, "series.count", 0) or get_int(event, "count", 0)
    count = count or get_int(event, "deprecatedCount", 1)
    note = EventNote(
        f"{subject.get('kind', '')}/{subject.get('name', '')}",
        str(event.get("reason") or ""),
        one_line(str(event.get("message") or event.get("note") or "")),
        count,
        text,
    )
    return when, note


def _subject(event: Mapping[str, Any]) -> Mapping[str, Any]:
    # core/v1 Events say involvedObject, events.k8s.io/v1 ones say regarding.
    subject = event.get("involvedObject") or event.get("regarding") or {}
    return subject if isinstance(subject, Mapping) else {}


def _event_time(event: Mapping[str, Any]) -> tuple[datetime, str]:
    """The latest time the event says it happened, and that time as written."""
    latest = (_EPOCH, "")
    for path in (
        "series.lastObservedTime",
        "lastTimestamp",
        "deprecatedLastTimestamp",
        "eventTime",
        "metadata.creationTimestamp",
    ):
        text = get_str(event, path)
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        latest = max(latest, (when, text))
    return latest


def _name(obj: Mapping[str, Any]) -> str:
    return get_str(obj, "metadata.name")


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    labels = field(obj, "metadata.labels")
    return labels if isinstance(labels, Mapping) else {}
