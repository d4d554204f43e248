"""``python -m kgit``: the same as the ``kgit`` command."""

from kgit.cli import run

run()
