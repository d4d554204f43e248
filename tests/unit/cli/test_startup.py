"""Start-up stays lazy: --version loads no CLI framework, --help no Kubernetes or Git client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

HEAVY = ("kubernetes", "git", "urllib3", "yaml", "typer", "pydantic")


def loaded_after(*args: str) -> set[str]:
    """The heavy top-level packages a fresh interpreter imported to run ``kgit ARGS``."""
    code = (
        "import json, sys\n"
        f"sys.argv = ['kgit', *{list(args)!r}]\n"
        "from kgit.cli import run\n"
        "try:\n"
        "    run()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_version_loads_nothing_heavy() -> None:
    assert loaded_after("--version") == set()


def test_help_loads_no_kubernetes_or_git_client() -> None:
    loaded = loaded_after("--help")
    assert "typer" in loaded
    assert not loaded & {"kubernetes", "git", "urllib3"}


def test_a_verb_converts_its_options_without_pydantic() -> None:
    # Parsed (a path and a choice), then stopped at the missing file: typer's pydantic
    # converters (about 80 ms of start-up) were never needed.
    loaded = loaded_after("show", "/nonexistent/plan.json", "--format", "json")
    assert "typer" in loaded
    assert "pydantic" not in loaded
