"""Session fixtures: one real control plane per test run, fresh names per test."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_controlplane() -> ModuleType:
    """Import scripts/controlplane (a script without a .py suffix) as a module."""
    path = ROOT / "scripts" / "controlplane"
    loader = importlib.machinery.SourceFileLoader("kgit_controlplane", str(path))
    spec = importlib.util.spec_from_loader("kgit_controlplane", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kgit_controlplane"] = module
    loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin kubeconfig for a real control plane where pods run (scripts/controlplane).

    ``KGIT_TEST_KUBECONFIG`` points the suite at a running one; otherwise one is started
    for this run and stopped at its end. Its processes die with the test run, even when
    it is interrupted. A control plane that cannot start fails the tests: never a skip.
    """
    given = os.environ.get("KGIT_TEST_KUBECONFIG")
    if given:
        yield given
        return
    controlplane = load_controlplane()
    plane = controlplane.ControlPlane(tmp_path_factory.mktemp("controlplane"))
    started = time.monotonic()
    try:
        plane.start(tied_to_caller=True)
        _STARTUP.append(time.monotonic() - started)
    except SystemExit as err:
        plane.stop()
        pytest.fail(f"the control plane did not start: {err}", pytrace=False)
    try:
        yield str(plane.kubeconfig)
    finally:
        plane.stop()


_STARTUP: list[float] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how long the control plane took to start (the cached-binaries target is 15 s)."""
    for seconds in _STARTUP:
        terminalreporter.write_line(f"control plane: started and ready in {seconds:.1f} s")


@pytest.fixture(scope="session")
def controlplane() -> ModuleType:
    """scripts/controlplane as a module: certificates, free ports, extra control planes."""
    return load_controlplane()


@pytest.fixture(scope="session")
def kubectl() -> Path:
    """The real kubectl built with the control plane, to change objects as users do."""
    path: Path = load_controlplane().kubernetes_bin() / "kubectl"
    if not path.exists():
        pytest.fail(f"{path}: kubectl is missing (scripts/controlplane build)", pytrace=False)
    return path


@pytest.fixture
def unique() -> str:
    """A short lowercase prefix unique to this test, for namespaces, stacks and names."""
    return "t" + uuid.uuid4().hex[:8]
