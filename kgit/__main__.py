"""``python -m kgit``: the same as the ``kgit`` command."""

from kgit.cli.main import run

run()
