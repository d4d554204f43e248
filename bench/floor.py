"""The floor of a plan: only the LIST calls it needs, raw HTTPS, nothing else.

Run as its own process (``python -m bench.floor``) so its time includes an interpreter's
start, like any command. It lists the given collections concurrently with as many
threads as kgit's cluster pool, in pages of kgit's size, parses every page, and prints
how many objects it read.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.kube import Api, Credentials


def main(argv: list[str] | None = None) -> int:
    """List every path given; print the number of objects read."""
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--server", required=True)
    parser.add_argument("--ca", type=Path, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    api = Api(Credentials(args.server, args.ca, args.cert, args.key))
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        counts = pool.map(lambda p: len(api.list_all(p, args.page_size)), args.paths)
        total = sum(counts)
    print(total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
