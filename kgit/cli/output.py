"""How verbs write: stdout for results, stderr for progress and errors, colour on a TTY."""

from __future__ import annotations

import os
import sys

import typer


def use_color(choice: bool | None) -> bool:
    """Colour when asked, else only on a terminal and without NO_COLOR."""
    if choice is not None:
        return choice
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def progress(message: str) -> None:
    """Progress of long work, on stderr and only on a terminal, so pipes stay clean."""
    if sys.stderr.isatty():
        typer.echo(f"kgit: {message}", err=True)


def echo(text: str) -> None:
    """Write ``text`` to stdout with exactly one trailing newline."""
    typer.echo(text.rstrip("\n"))


def ask_yes(question: str) -> bool:
    """Ask on the terminal; only ``yes`` approves (Terraform's rule)."""
    typer.echo(question)
    return bool(typer.prompt("  Enter a value", default="", show_default=False) == "yes")
