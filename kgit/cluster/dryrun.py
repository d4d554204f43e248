"""Server-side dry-runs of the objects a plan may change: refusals become data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kgit.cluster.errors import ApiError, ImmutableFieldError
from kgit.manifests.normalize import normalize
from kgit.plan.inputs import DryRun

if TYPE_CHECKING:
    from collections.abc import Mapping

    from kgit.cluster.client import Cluster
    from kgit.manifests.keys import ObjectKey
    from kgit.manifests.normalize import SensitiveRule


def dry_run_all(
    cluster: Cluster,
    objects: Mapping[ObjectKey, dict[str, Any]],
    hmac_key: bytes,
    sensitive: tuple[SensitiveRule, ...] = (),
) -> dict[ObjectKey, DryRun]:
    """Server-side dry-run apply of each object, concurrently, normalised like live ones.

    An immutable field becomes ``DryRun.immutable``; any other refusal ``DryRun.error``
    naming the object, so the plan can show every refusal at once.
    """

    def one(key: ObjectKey, obj: dict[str, Any]) -> DryRun:
        try:
            result = cluster.server_side_apply(obj, dry_run=True)
        except ImmutableFieldError as err:
            return DryRun(key, immutable=err.fields)
        except ApiError as err:
            return DryRun(
                key,
                error=f"{key.subject}: dry-run failed ({err.reason or err.code}): {err.server_message}",
            )
        return DryRun(key, normalize(result, hmac_key, sensitive))

    futures = {key: cluster.submit(one, key, obj) for key, obj in objects.items()}
    return {key: future.result() for key, future in futures.items()}
