"""Run one command and report its wall time and peak RSS: ``launch.py RESULT -- CMD...``.

Peak RSS comes from ``wait4``'s rusage, which on Linux counts the memory of the process
the command was forked from (kept across ``exec``). The benchmark itself holds kgit,
YAML and matplotlib, so it forks this small interpreter, which forks the command.
Writes ``{"seconds", "rss_kib", "code"}`` as JSON to RESULT.
"""

import json
import os
import sys
import time


def main() -> None:
    """Fork, exec, wait, write the measurements."""
    result, cmd = sys.argv[1], sys.argv[3:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    with open(result, "w", encoding="utf-8") as f:
        json.dump(
            {
                "seconds": seconds,
                "rss_kib": usage.ru_maxrss,
                "code": os.waitstatus_to_exitcode(status),
            },
            f,
        )


main()
