"""The bad-input corpus: each case through the real CLI fails cleanly and changes nothing.

Every case (``tests/corpus/<case>/``, see corpuslib) must end with exit 1 and one
``Error:`` message that names the file and line, the object or the plan file, with no
traceback, within bounded time and memory, and with nothing of its stack created or
changed in the cluster. The cases run a few at a time; each is its own test.
"""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from corpuslib import Outcome, run_case

from kgit.cluster import NAMESPACE, AlreadyExistsError, connect

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
MAX_SECONDS = 30.0
MAX_RSS_MB = 256.0
WORKERS = 3
OBJECTS_NAMESPACE = "corpus"


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, kubeconfig: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Outcome]]:
    """The outcome of every selected case (``-k`` picks some), run concurrently once."""
    selected = [
        str(item.callspec.params["name"])
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_bad_input_fails_cleanly"
    ]
    state_ns = f"corpus-{uuid.uuid4().hex[:8]}"
    work = tmp_path_factory.mktemp("corpus")
    with connect(kubeconfig) as cluster:
        # The state's namespace, and the one the cases' objects name (a plan refuses
        # objects whose namespace neither exists nor is created by it).
        for name in (state_ns, OBJECTS_NAMESPACE):
            with contextlib.suppress(AlreadyExistsError):
                cluster.create(
                    NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                )
        try:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                futures = {
                    name: pool.submit(
                        run_case,
                        CORPUS / name,
                        work / name,
                        kubeconfig=kubeconfig,
                        cluster=cluster,
                        state_ns=state_ns,
                        timeout=MAX_SECONDS * 2,
                    )
                    for name in selected
                }
                yield {name: future.result() for name, future in futures.items()}
        finally:
            cluster.delete(NAMESPACE, None, state_ns, uid=None)


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", CASES)
def test_bad_input_fails_cleanly(outcomes: dict[str, Outcome], name: str) -> None:
    outcome = outcomes[name]
    run = outcome.run
    assert run.code == 1, run.output
    assert "Traceback" not in run.output, run.output
    assert not run.stderr.startswith("Error: unexpected "), run.output
    assert run.stdout == "", run.output
    assert run.stderr.startswith("Error: ") and run.stderr.count("Error:") == 1, run.stderr
    for fragment in outcome.expect:
        assert fragment in run.stderr, run.stderr
    assert run.seconds < MAX_SECONDS, f"{run.seconds:.1f} s"
    assert run.max_rss_mb < MAX_RSS_MB, f"{run.max_rss_mb:.0f} MB"
    before, after = outcome.before, outcome.after
    assert after["labelled"] == [] and not after["lock"], after
    if before["state"] is None and after["state"] is not None:
        # A stack's first plan creates its empty state (its lineage and digest key), as
        # `terraform init` would, before the server refused the input: nothing recorded.
        assert after["state"]["objects"] == "0", after
    else:
        assert after == before
