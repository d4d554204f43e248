"""The ``kgit`` command line: typer verbs in the modules of this package."""

from __future__ import annotations

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
    from kgit.cli.main import app

    app()
