"""The ``kgit`` command line: typer verbs in the modules of this package."""

from __future__ import annotations

import gc
import sys

from kgit import __version__


def run() -> None:
    """Console-script entry point.

    ``kgit --version`` is answered here, before typer, click and rich load (a tenth of a
    second): scripts and CI call it often.
    """
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"kgit {__version__}\n")
        return
    # kgit builds large acyclic trees (manifests, LIST answers, the state): with the
    # default gen-0 threshold of 700 the cyclic collector walks them again and again, a
    # fifth of the CPU of a 10,000-object plan. Cycles are still collected, less often.
    gc.set_threshold(100_000, 20, 100)
    from kgit.cli.main import build_command

    build_command(sys.argv[1:])(prog_name="kgit")
