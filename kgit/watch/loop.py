"""``kgit watch``: fetch, plan, apply (as the auto-apply mode allows), record, sleep.

A round never raises: whatever fails (Git or the API server unreachable, a stale plan,
a held lock) becomes a ``failed`` round, logged and retried at the next one. Applying
goes through :func:`kgit.services.apply.apply_stored` with the plan the round decided
on, so what is applied is exactly what was judged safe, under the stack's lock, and
journaled like any apply. SIGTERM and SIGINT stop the loop between rounds, or an apply
between its batches (never mid-record). With image automation (``kgit watch --images``),
each round first commits and pushes the newer image tags, and plans that new commit;
what fails in the image round is reported and the round goes on with Git as it was.

Between rounds the watcher polls its status ConfigMap every second for a
``kgit sync`` request, and runs a round at once when one comes.
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kgit.apply.model import ApplyOptions, Result
from kgit.cluster.health import wait_healthy
from kgit.errors import KgitError
from kgit.plan.store import default_plan_path, plan_digest, plan_to_json, write_plan
from kgit.services.apply import ApplyHooks, apply_stored
from kgit.services.options import PlanningOptions, TargetOptions
from kgit.services.plan import make_plan
from kgit.services.target import Target, resolve_target
from kgit.source.read import read_source
from kgit.state.lock import default_who
from kgit.state.store import STATE_NAMESPACE
from kgit.watch.images import ImagesDone, update_images
from kgit.watch.modes import AutoApply
from kgit.watch.remote import open_remote
from kgit.watch.rounds import (
    RoundOutcome,
    RoundResult,
    applied_outcome,
    clip,
    exit_code_of,
    judge_health,
)
from kgit.watch.status import (
    WatchStatus,
    now_stamp,
    pack_plan,
    read_status,
    with_liveness,
    write_status,
)
from kgit.watch.sync import SyncListener

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from kgit.apply.model import ObjectResult
    from kgit.cluster import Cluster
    from kgit.health.wait import HealthReport
    from kgit.manifests.keys import ObjectKey
    from kgit.plan.model import Plan
    from kgit.source.read import Source, SourceSpec
    from kgit.watch.images import ImageWatchOptions
    from kgit.watch.remote import RemoteOptions


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """The watcher's settings; ``interval`` in seconds, varied by ±``jitter`` of itself.

    ``images`` set: an image automation round before each sync round. Each round that
    applied or found nothing to do waits up to ``health_timeout`` for the stack's objects
    to be Current; a Failed object fails the round.
    """

    remote: RemoteOptions
    target: TargetOptions = field(default_factory=TargetOptions)
    planning: PlanningOptions = field(default_factory=PlanningOptions)
    mode: AutoApply = AutoApply.SAFE
    interval: float = 300.0
    jitter: float = 0.1
    plans_dir: Path = Path("plans")
    lock_timeout: float = 0.0
    poll_interval: float = 1.0
    images: ImageWatchOptions | None = None
    health_timeout: float = 300.0


@dataclass(frozen=True, slots=True)
class RoundReport:
    """One round, as logged: what was read, what happened, how long it took.

    ``add``/``change``/``delete`` count what was applied, or, for a pending plan,
    what waits. ``images`` is None when the round ran no image automation.
    """

    result: RoundResult
    started: str
    seconds: float
    trigger: str
    stack: str = ""
    ref: str = ""
    commit: str = ""
    add: int = 0
    change: int = 0
    delete: int = 0
    error: str = ""
    plan_file: str = ""
    images: ImagesDone | None = None
    health: str = ""  # how the wait for health ended ("current: 3 Current"); "" if none

    @property
    def exit_code(self) -> int:
        """``kgit watch --once``'s exit code: 0 in sync, 1 failed, 2 changes pending."""
        return exit_code_of(self.result)


class Watcher:
    """The watch loop for one source and stack.

    ``connect()`` opens a cluster for a round (probing the server); the watcher calls
    ``connect(probe=False, workers=1)`` once more for the cheap polling of its status.
    ``on_round`` receives each round's report; ``stop`` ends the loop when set (SIGTERM
    and SIGINT set it when the caller wires them).
    """

    def __init__(
        self,
        options: WatchOptions,
        connect: Callable[..., Cluster],
        *,
        stop: threading.Event,
        on_round: Callable[[RoundReport], None],
    ) -> None:
        self._options = options
        self._connect = connect
        self._stop = stop
        self._on_round = on_round
        self._stack = options.target.stack or ""
        # Until kgit.yaml is read, the default: a round that fails first still reports.
        self._namespace = options.target.state_namespace or STATE_NAMESPACE
        self._sync = SyncListener(self._quiet_connect, stop, options.poll_interval)
        self._who = f"{default_who()} (kgit watch)"
        # None: rounds run one by one by a caller (kgit sync --local), not by run().
        self._once: bool | None = None

    def run(self, *, once: bool = False) -> RoundReport:
        """Run rounds until ``stop`` is set (or one round with ``once``); the last report."""
        trigger, request = "start", ""
        self._once = once
        if not once:
            self._announce(running=True)
        try:
            while True:
                report = self.run_round(trigger=trigger, request=request)
                self._on_round(report)
                if once or self._stop.is_set():
                    return report
                trigger, request = self._sleep()
                if self._stop.is_set():
                    return report
        finally:
            if not once:
                self._announce(running=False)
            self._sync.close()

    def _announce(self, *, running: bool) -> None:
        """Tell ``kgit sync`` that a watcher starts, or that none runs any more (best
        effort: a killed watcher says nothing, and its ``next_round`` passing says it)."""
        if not self._stack or not self._namespace:
            return  # not known before kgit.yaml is read: the round's status says it
        try:
            with self._quiet_connect() as cluster:
                status = read_status(cluster, self._namespace, self._stack)
                if status is not None:
                    write_status(cluster, self._liveness(status, running=running))
        except KgitError:
            pass

    # --- one round -------------------------------------------------------------------

    def run_round(self, *, trigger: str = "interval", request: str = "") -> RoundReport:
        """Fetch, plan, and apply or store the plan; write the status. Never raises.

        A ``kgit sync`` request still unanswered when the round starts (``request``, or
        one made while the watcher was busy or not running) is answered by this round:
        its fetch comes after the request.
        """
        started, clock = now_stamp(), time.monotonic()
        remote = self._options.remote
        commit = ""
        status: WatchStatus | None = None
        cluster: Cluster | None = None
        images: ImagesDone | None = None
        try:
            cluster = self._connect()
            request = self._sync.answer(cluster, self._stack, self._namespace, request)
            source_options, commit = open_remote(cluster, remote)
            images = self._update_images(cluster, source_options, commit)
            if images is not None and images.commit:
                commit = images.commit  # the sync round applies what the images round pushed
            source = read_source(source_options, commit=commit)
            status = self._begin(cluster, source_options, source, commit, request)
            outcome = self._plan_and_apply(cluster, source_options, source, status)
        except KgitError as err:
            outcome = RoundOutcome(RoundResult.FAILED, status, error=clip(str(err)))
        except Exception as err:  # a watcher outlives any one round's surprise
            message = f"unexpected {type(err).__name__}: {err}"
            outcome = RoundOutcome(RoundResult.FAILED, status, error=clip(message))
        report = RoundReport(
            result=outcome.result,
            started=started,
            seconds=time.monotonic() - clock,
            trigger=trigger,
            stack=self._stack,
            ref=remote.ref,
            commit=commit,
            add=outcome.counts[0],
            change=outcome.counts[1],
            delete=outcome.counts[2],
            error=outcome.error,
            plan_file=outcome.plan_file,
            images=images,
            health=outcome.health,
        )
        try:
            if cluster is not None and self._stack and self._namespace:
                self._finish(cluster, outcome, report, request)
        except KgitError as err:
            report = dataclasses.replace(
                report, error=clip(f"{report.error}; status: {err}".lstrip("; "))
            )
        finally:
            if cluster is not None:
                cluster.close()
        return report

    def _update_images(
        self, cluster: Cluster, source_options: SourceSpec, commit: str
    ) -> ImagesDone | None:
        """The image round, when asked for; whatever fails in it is only reported."""
        options = self._options.images
        if options is None:
            return None
        try:
            return update_images(
                cluster,
                self._options.remote,
                source_options.repo,
                commit,
                options,
                self._quiet_connect,
            )
        except KgitError as err:
            return ImagesDone(errors=(clip(str(err)),))
        except Exception as err:  # image automation must never keep Git from the cluster
            return ImagesDone(errors=(clip(f"unexpected {type(err).__name__}: {err}"),))

    def _quiet_connect(self) -> Cluster:
        """A connection for light reads beside the round's: no probe, one worker."""
        return self._connect(probe=False, workers=1)

    def _blank(self) -> WatchStatus:
        return WatchStatus(self._stack, self._namespace)

    def _begin(
        self,
        cluster: Cluster,
        source_options: SourceSpec,
        source: Source,
        commit: str,
        request: str,
    ) -> WatchStatus:
        """Name the stack, read the last status, and answer a sync request's start."""
        target = resolve_target(self._options.target, source_options.repo, source.config)
        self._stack, self._namespace = target.stack, target.state_namespace
        previous = read_status(cluster, self._namespace, self._stack) or self._blank()
        status = dataclasses.replace(
            previous,
            url=source.url,
            ref=self._options.remote.ref,
            mode=self._options.mode.value,
            revision=commit,
            watcher=self._who,
        )
        if request:
            status = dataclasses.replace(status, sync_started=request)
            write_status(cluster, status)
        return status

    def _plan_and_apply(
        self, cluster: Cluster, source_options: SourceSpec, source: Source, status: WatchStatus
    ) -> RoundOutcome:
        target = Target(self._stack, self._namespace)
        run = make_plan(cluster, source, target, self._options.planning)
        plan, stack_objects = run.plan, list(run.gathered.desired)
        summary = plan.summary
        counts = (summary.add, summary.change, summary.delete)
        if not plan.has_changes:
            done = dataclasses.replace(status.without_pending(), applied=source.commit)
            return self._with_health(
                cluster, stack_objects, RoundOutcome(RoundResult.UNCHANGED, done)
            )
        mode = self._options.mode
        if mode is AutoApply.NONE or (mode is AutoApply.SAFE and plan.has_destruction):
            return self._store_pending(plan, status, counts)
        if self._stop.is_set():
            return RoundOutcome(RoundResult.INTERRUPTED, status, error="stopped before applying")
        failures: list[ObjectResult] = []
        hooks = ApplyHooks(
            progress=lambda _: None,
            on_result=lambda r: failures.append(r) if r.result is Result.FAILED else None,
            approve=lambda _: True,
            stop=self._stop,
        )
        report = apply_stored(
            cluster,
            plan,
            source_options,
            self._options.planning,
            ApplyOptions(
                allow_replace=mode is AutoApply.ALL,
                who=self._who,
                wait=True,
                timeout=self._options.health_timeout,
            ),
            hooks,
            state_namespace=self._namespace,
            lock_timeout=self._options.lock_timeout,
        )
        outcome = applied_outcome(report, status, source.commit, failures)
        if outcome.result is not RoundResult.APPLIED:
            return outcome
        return self._with_health(cluster, stack_objects, outcome, report.health)

    def _with_health(
        self,
        cluster: Cluster,
        keys: list[ObjectKey],
        outcome: RoundOutcome,
        known: HealthReport | None = None,
    ) -> RoundOutcome:
        """The round's outcome once the stack's objects are Current (``known``: the apply's
        own wait, kept when it did not end healthy): see :func:`judge_health`."""
        health = known
        if health is None or health.healthy:
            timeout = self._options.health_timeout
            health = wait_healthy(cluster, keys, timeout, stop=self._stop)
        return judge_health(outcome, health)

    def _store_pending(
        self, plan: Plan, status: WatchStatus, counts: tuple[int, int, int]
    ) -> RoundOutcome:
        """Keep the plan for a person: under plans/ and in the status (once per plan)."""
        digest = plan_digest(dataclasses.replace(plan, created_at=""))
        kept = status.pending_file
        if status.pending_digest == digest and kept and Path(kept).is_file():
            return RoundOutcome(RoundResult.PENDING, status, counts, plan_file=kept)
        path = self._options.plans_dir / default_plan_path(plan.stack, datetime.now(UTC)).name
        write_plan(plan, path)
        pending = dataclasses.replace(
            status,
            pending_commit=plan.source.commit,
            pending_file=str(path),
            pending_digest=digest,
            pending_plan=pack_plan(plan_to_json(plan)),
        )
        return RoundOutcome(RoundResult.PENDING, pending, counts, plan_file=str(path))

    def _finish(
        self, cluster: Cluster, outcome: RoundOutcome, report: RoundReport, request: str
    ) -> None:
        """Write the round's result into the status, keeping what it did not learn."""
        base = outcome.status or read_status(cluster, self._namespace, self._stack)
        status = dataclasses.replace(
            base or self._blank(),
            stack=self._stack,
            namespace=self._namespace,
            result=report.result.value,
            error=report.error,
            time=now_stamp(),
            summary=f"{report.add} to add, {report.change} to change, {report.delete} to delete",
            sync_done=request or (base.sync_done if base else ""),
            health=outcome.health,
        )
        if self._once is not None:
            status = self._liveness(status, running=not self._once)
        write_status(cluster, status)

    def _liveness(self, status: WatchStatus, *, running: bool) -> WatchStatus:
        options = self._options
        return with_liveness(status, options.interval * (1 + options.jitter) if running else None)

    def _sleep(self) -> tuple[str, str]:
        """Wait for the next round: ("interval", "") or ("sync", request time)."""
        options = self._options
        delay = options.interval * random.uniform(1 - options.jitter, 1 + options.jitter)
        return self._sync.wait(delay, self._stack, self._namespace)
