"""Health of Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs (kstatus' core.go)."""

from __future__ import annotations

import pytest
from healthlib import assert_health, health

from kgit.health import Status

pytestmark = pytest.mark.unit

CURRENT, IN_PROGRESS, FAILED = Status.CURRENT, Status.IN_PROGRESS, Status.FAILED

SPEC = "{replicas: 2, progressDeadlineSeconds: 600}"
DEPLOYMENT = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop, generation: 2}}
spec: {SPEC}
"""

ROLLED_OUT = """
status:
  observedGeneration: 2
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
"""


def deployment(status: str, spec: str = SPEC) -> str:
    """The Deployment with ``status`` (and another ``spec``)."""
    return DEPLOYMENT.replace(SPEC, spec) + status


# --- Deployment -------------------------------------------------------------------------


def test_a_new_deployment_without_status_is_in_progress() -> None:
    assert_health(DEPLOYMENT, IN_PROGRESS, "LessReplicas", "0 of 2 replicas created")


def test_a_rolled_out_deployment_is_current() -> None:
    assert_health(deployment(ROLLED_OUT), CURRENT, "Current", "2 replicas updated and available")


def test_a_deployment_past_its_progress_deadline_failed() -> None:
    status = """
status:
  observedGeneration: 2
  replicas: 2
  updatedReplicas: 1
  readyReplicas: 1
  availableReplicas: 1
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "False", reason: ProgressDeadlineExceeded,
     message: 'ReplicaSet "web-7d9f" has timed out progressing.'}
"""
    assert_health(
        deployment(status),
        FAILED,
        "ProgressDeadlineExceeded",
        "rollout failed: ProgressDeadlineExceeded",
    )


def test_updated_replicas_not_yet_available_are_counted() -> None:
    status = """
status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1,
         availableReplicas: 1}
"""
    assert_health(
        deployment(status), IN_PROGRESS, "LessAvailable", "1 of 2 updated replicas available"
    )


def test_replicas_not_yet_updated_are_counted() -> None:
    status = "status: {observedGeneration: 2, replicas: 2, updatedReplicas: 1}\n"
    assert_health(deployment(status), IN_PROGRESS, "LessUpdated", "1 of 2 replicas updated")


def test_a_surge_replica_still_running_is_pending_termination() -> None:
    status = """
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 3,
         availableReplicas: 3}
"""
    assert_health(deployment(status), IN_PROGRESS, "ExtraPods", "1 replica pending termination")


def test_max_unavailable_makes_available_true_before_the_rollout_is_done() -> None:
    # With maxUnavailable: 1 the controller says Available while one of 3 replicas is
    # still missing: the counts, not the condition, decide.
    status = """
status:
  observedGeneration: 2
  replicas: 3
  updatedReplicas: 3
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: ReplicaSetUpdated}
"""
    spec = "{replicas: 3, strategy: {rollingUpdate: {maxUnavailable: 1}}}"
    assert_health(
        deployment(status, spec), IN_PROGRESS, "LessAvailable", "2 of 3 updated replicas available"
    )


def test_counts_reached_but_the_new_replicaset_not_reported_available() -> None:
    status = ROLLED_OUT.replace("NewReplicaSetAvailable", "ReplicaSetUpdated")
    assert_health(deployment(status), IN_PROGRESS, "ReplicaSetNotAvailable")


def test_without_a_progress_deadline_the_progressing_condition_is_not_needed() -> None:
    status = """
status:
  observedGeneration: 2
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
"""
    spec = "{replicas: 2, progressDeadlineSeconds: 2147483647}"
    assert health(deployment(status, spec)).status is CURRENT


def test_counts_reached_but_not_available_is_in_progress() -> None:
    status = ROLLED_OUT.replace(
        '{type: Available, status: "True"', '{type: Available, status: "False"'
    )
    assert_health(deployment(status), IN_PROGRESS, "DeploymentNotAvailable")


def test_a_paused_deployment_with_its_rollout_done_is_current() -> None:
    # The controller replaces Progressing by Unknown/DeploymentPaused while paused;
    # kstatus would wait for ever here.
    status = ROLLED_OUT.replace(
        '{type: Progressing, status: "True", reason: NewReplicaSetAvailable}',
        '{type: Progressing, status: "Unknown", reason: DeploymentPaused}',
    )
    spec = "{replicas: 2, paused: true}"
    assert_health(
        deployment(status, spec), CURRENT, "Current", "paused, 2 replicas updated and available"
    )


def test_a_paused_deployment_mid_rollout_says_it_is_paused() -> None:
    status = """
status:
  observedGeneration: 2
  replicas: 2
  updatedReplicas: 0
  conditions:
  - {type: Progressing, status: "Unknown", reason: DeploymentPaused}
"""
    assert_health(
        deployment(status, "{replicas: 2, paused: true}"),
        IN_PROGRESS,
        "DeploymentPaused",
        "rollout paused: 0 of 2 replicas updated",
    )


def test_a_deployment_whose_new_generation_is_not_observed_is_in_progress() -> None:
    status = ROLLED_OUT.replace("observedGeneration: 2", "observedGeneration: 1")
    assert_health(
        deployment(status),
        IN_PROGRESS,
        "LatestGenerationNotObserved",
        "generation 2 not observed yet (the controller saw 1)",
    )


def test_a_deployment_scaled_to_zero_is_current() -> None:
    status = """
status:
  observedGeneration: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
"""
    assert_health(
        deployment(status, "{replicas: 0}"), CURRENT, "Current", "0 replicas updated and available"
    )


def test_replicas_default_to_one_as_in_the_controller() -> None:
    status = "status: {observedGeneration: 2, replicas: 0}\n"
    assert_health(deployment(status, "{}"), IN_PROGRESS, "LessReplicas", "0 of 1 replicas created")


# --- ReplicaSet -------------------------------------------------------------------------

REPLICASET = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-7d9f, namespace: shop}
spec: {replicas: 2}
"""


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        ("{}", "LessLabelled", "0 of 2 replicas labelled"),
        (
            "{replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1}",
            "LessAvailable",
            "1 of 2 replicas available",
        ),
        (
            "{replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 1, availableReplicas: 2}",
            "LessReady",
            "1 of 2 replicas ready",
        ),
        (
            "{replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3}",
            "ExtraPods",
            "1 replica pending termination",
        ),
    ],
)
def test_a_replicaset_in_progress(status: str, reason: str, message: str) -> None:
    assert_health(REPLICASET + f"status: {status}\n", IN_PROGRESS, reason, message)


def test_a_replicaset_with_its_replicas_available_is_current() -> None:
    status = (
        "status: {replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2}\n"
    )
    assert_health(REPLICASET + status, CURRENT, "Current", "2 replicas available")


def test_a_replica_failure_is_in_progress_with_its_reason() -> None:
    status = """
status:
  replicas: 0
  conditions:
  - type: ReplicaFailure
    status: "True"
    reason: FailedCreate
    message: |
      pods "web-7d9f-x" is forbidden: exceeded quota: pods,
      requested: pods=1, used: pods=10, limited: pods=10
"""
    found = health(REPLICASET + status)
    assert (found.status, found.reason) == (IN_PROGRESS, "ReplicaFailure")
    assert found.message == (
        'replica failure: FailedCreate: pods "web-7d9f-x" is forbidden: exceeded quota: pods, '
        "requested: pods=1, used: pods=10, limited: pods=10"
    )


# --- StatefulSet ------------------------------------------------------------------------

STATEFULSET = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  replicas: 3
  updateStrategy: {type: RollingUpdate}
"""


def statefulset(status: str, strategy: str = "{type: RollingUpdate}") -> str:
    return STATEFULSET.replace("{type: RollingUpdate}", strategy) + status


def test_a_new_statefulset_is_in_progress() -> None:
    assert_health(STATEFULSET, IN_PROGRESS, "LessReplicas", "0 of 3 replicas created")


def test_a_statefulset_waits_for_ready_replicas() -> None:
    status = "status: {replicas: 3, readyReplicas: 2, currentReplicas: 3}\n"
    assert_health(statefulset(status), IN_PROGRESS, "LessReady", "2 of 3 replicas ready")


def test_a_statefulset_with_too_many_replicas_is_in_progress() -> None:
    status = "status: {replicas: 4, readyReplicas: 4, currentReplicas: 4}\n"
    assert_health(statefulset(status), IN_PROGRESS, "ExtraPods", "1 replica pending termination")


def test_a_statefulset_at_its_current_revision_is_current() -> None:
    status = """
status: {replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3,
         currentRevision: db-5c6, updateRevision: db-5c6}
"""
    assert_health(
        statefulset(status), CURRENT, "Current", "3 replicas ready at the current revision"
    )


def test_a_statefulset_rolling_to_a_new_revision_is_in_progress() -> None:
    status = """
status: {replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 1,
         currentRevision: db-5c6, updateRevision: db-7f8}
"""
    assert_health(statefulset(status), IN_PROGRESS, "RevisionMismatch")


def test_a_statefulset_with_replicas_at_an_old_revision_is_in_progress() -> None:
    status = "status: {replicas: 3, readyReplicas: 3, currentReplicas: 2}\n"
    assert_health(
        statefulset(status), IN_PROGRESS, "LessCurrent", "2 of 3 replicas at the current revision"
    )


def test_a_partitioned_rollout_waits_only_for_the_ordinals_above_the_partition() -> None:
    strategy = "{type: RollingUpdate, rollingUpdate: {partition: 1}}"
    halfway = "status: {replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1}\n"
    assert_health(
        statefulset(halfway, strategy),
        IN_PROGRESS,
        "PartitionRollout",
        "1 of 2 replicas updated (partition 1)",
    )
    done = "status: {replicas: 3, readyReplicas: 3, currentReplicas: 1, updatedReplicas: 2}\n"
    assert_health(
        statefulset(done, strategy),
        CURRENT,
        "Current",
        "partitioned rollout complete: 2 replicas updated",
    )


def test_an_on_delete_statefulset_is_current() -> None:
    assert_health(statefulset("", "{type: OnDelete}"), CURRENT, "OnDelete")


# --- DaemonSet --------------------------------------------------------------------------

DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system, generation: 1}
"""


def test_a_daemonset_not_yet_observed_is_in_progress() -> None:
    assert_health(DAEMONSET, IN_PROGRESS, "NoObservedGeneration")
    no_generation = DAEMONSET.replace(", generation: 1", "") + "status: {observedGeneration: 1}\n"
    assert_health(no_generation, IN_PROGRESS, "NoGeneration")


def test_a_daemonset_without_a_desired_number_is_in_progress() -> None:
    assert_health(DAEMONSET + "status: {observedGeneration: 1}\n", IN_PROGRESS, "NoDesiredNumber")


@pytest.mark.parametrize(
    ("counts", "reason", "message"),
    [
        ("currentNumberScheduled: 2", "LessCurrent", "2 of 3 pods scheduled"),
        (
            "currentNumberScheduled: 3, updatedNumberScheduled: 1",
            "LessUpdated",
            "1 of 3 pods updated",
        ),
        (
            "currentNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2",
            "LessAvailable",
            "2 of 3 pods available",
        ),
        (
            "currentNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 0",
            "LessReady",
            "0 of 3 pods ready",
        ),
    ],
)
def test_a_daemonset_in_progress(counts: str, reason: str, message: str) -> None:
    status = f"status: {{observedGeneration: 1, desiredNumberScheduled: 3, {counts}}}\n"
    assert_health(DAEMONSET + status, IN_PROGRESS, reason, message)


def test_a_daemonset_on_every_node_is_current() -> None:
    status = """
status: {observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3,
         updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3}
"""
    assert_health(DAEMONSET + status, CURRENT, "Current", "3 pods updated and available")


def test_a_daemonset_with_a_stale_observed_generation_is_in_progress() -> None:
    stale = (
        DAEMONSET.replace("generation: 1", "generation: 2") + "status: {observedGeneration: 1}\n"
    )
    assert_health(stale, IN_PROGRESS, "LatestGenerationNotObserved")


# --- Job --------------------------------------------------------------------------------

JOB = """
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec: {completions: 1, backoffLimit: 0}
"""


def test_a_job_not_started_is_in_progress() -> None:
    assert_health(JOB, IN_PROGRESS, "JobNotStarted")


def test_a_running_job_is_in_progress_until_it_ends() -> None:
    # kstatus says Current here; a wait must see the Job end.
    status = "status: {startTime: '2026-01-01T10:00:00Z', active: 1}\n"
    assert_health(JOB + status, IN_PROGRESS, "JobRunning", "1 active, 0 of 1 succeeded, 0 failed")


def test_a_complete_job_is_current() -> None:
    status = """
status:
  startTime: '2026-01-01T10:00:00Z'
  succeeded: 1
  conditions:
  - {type: SuccessCriteriaMet, status: "True"}
  - {type: Complete, status: "True"}
"""
    assert_health(JOB + status, CURRENT, "Current", "complete: 1 of 1 succeeded")


def test_a_failed_job_failed_with_its_reason() -> None:
    status = """
status:
  startTime: '2026-01-01T10:00:00Z'
  failed: 1
  conditions:
  - {type: FailureTarget, status: "True", reason: BackoffLimitExceeded}
  - {type: Failed, status: "True", reason: BackoffLimitExceeded,
     message: Job has reached the specified backoff limit}
"""
    assert_health(
        JOB + status, FAILED, "BackoffLimitExceeded", "failed: BackoffLimitExceeded (1 pod failed)"
    )


def test_a_suspended_job_is_current_only_while_its_spec_says_suspend() -> None:
    suspended = (
        "status:\n  conditions:\n  - {type: Suspended, status: 'True', reason: JobSuspended}\n"
    )
    assert_health(
        JOB.replace("backoffLimit: 0", "backoffLimit: 0, suspend: true") + suspended,
        CURRENT,
        "Suspended",
    )
    assert_health(JOB + suspended, IN_PROGRESS, "JobNotStarted")


def test_completions_default_to_parallelism() -> None:
    job = JOB.replace("{completions: 1, backoffLimit: 0}", "{parallelism: 3}")
    status = "status: {startTime: '2026-01-01T10:00:00Z', active: 3}\n"
    assert health(job + status).message == "3 active, 0 of 3 succeeded, 0 failed"
