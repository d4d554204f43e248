"""Views of the Flux verbs: a watch round's log lines, how a sync ended, install's YAML."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from kgit.redact import redact_url
from kgit.watch.rounds import RoundResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kgit.watch.loop import RoundReport


def render_round(report: RoundReport, *, as_json: bool) -> str:
    """One log line for a round: ``key=value`` text, or a JSON object; no URL's
    credentials (an error may quote the URL)."""
    return redact_url(_round_line(report, as_json=as_json))


def _round_line(report: RoundReport, *, as_json: bool) -> str:
    if as_json:
        return json.dumps(_round_fields(report), separators=(",", ":"))
    text = [
        report.started,
        f"stack={report.stack or '-'}",
        f"commit={report.commit[:12] or '-'}",
        f"result={report.result.value}",
        f"+{report.add} ~{report.change} -{report.delete}",
        f"duration={report.seconds:.1f}s",
        f"trigger={report.trigger}",
    ]
    if report.images is not None:
        text.append(f"images={len(report.images.updated)}")
        if report.images.errors:
            text.append(f"image_errors={len(report.images.errors)}")
    if report.plan_file:
        text.append(f"plan={report.plan_file}")
    if report.health:
        text.append(f"health={json.dumps(report.health)}")
    if report.error:
        text.append(f"error={json.dumps(report.error)}")
    return " ".join(text)


def _round_fields(report: RoundReport) -> dict[str, object]:
    fields: dict[str, object] = {
        "time": report.started,
        "msg": "round",
        "stack": report.stack,
        "ref": report.ref,
        "commit": report.commit,
        "trigger": report.trigger,
        "result": report.result.value,
        "add": report.add,
        "change": report.change,
        "delete": report.delete,
        "duration_seconds": round(report.seconds, 3),
    }
    if report.images is not None:
        fields["images"] = list(report.images.updated)
        fields["image_errors"] = len(report.images.errors)
    if report.plan_file:
        fields["plan"] = report.plan_file
    if report.health:
        fields["health"] = report.health
    if report.error:
        fields["error"] = report.error
    return fields


def render_image_errors(report: RoundReport, *, as_json: bool) -> list[str]:
    """One log line per image (or policy) the round's image automation failed on."""
    errors = report.images.errors if report.images is not None else ()
    if as_json:
        return [
            redact_url(
                json.dumps(
                    {
                        "time": report.started,
                        "msg": "image error",
                        "stack": report.stack,
                        "commit": report.commit,
                        "error": error,
                    },
                    separators=(",", ":"),
                )
            )
            for error in errors
        ]
    prefix = f"{report.started} stack={report.stack or '-'} image_error="
    return [redact_url(prefix + json.dumps(error)) for error in errors]


def render_round_end(
    result: RoundResult, stack: str, commit: str, error: str, summary: str
) -> tuple[str, bool]:
    """How a ``kgit sync`` round ended, for a person; True when it is an error line."""
    if result in (RoundResult.APPLIED, RoundResult.UNCHANGED):
        return "Done.", False
    if result is RoundResult.PENDING:
        return (
            f"Revision {commit} waits for approval ({summary}): kgit apply --pending --stack {stack}",
            False,
        )
    return redact_url(f"Error: the round {result.value}: {error}"), True


def render_manifests(objects: Sequence[dict[str, Any]]) -> str:
    """Objects as a YAML stream, ready for ``kubectl apply -f -``."""
    return yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True)
