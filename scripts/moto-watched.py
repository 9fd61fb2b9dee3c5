#!/usr/bin/env python3
"""Runs a moto server script (moto's own, or a wrapper) until its parent is gone.

Test binaries start moto once and keep it in a static, which Rust never
drops, so without this every test binary left a moto process running after
it ended. The test harness (rampart-testkit's `Moto`) holds this process's
stdin open. However the test process ends (a normal exit, a panic, a kill),
the pipe closes, stdin reads end of file and this process exits with it.

Run with the moto venv's Python (scripts/tools-env.sh):

    $RAMPART_PYTHON scripts/moto-watched.py "$RAMPART_MOTO_SERVER" -H 127.0.0.1 -p 5000
    $RAMPART_PYTHON scripts/moto-watched.py scripts/moto-ssm.py -H 127.0.0.1 -p 5000

The script runs in this process (runpy), so it must be Python: moto's
`moto_server` entry point is.
"""

import os
import runpy
import sys
import threading


def watch_parent() -> None:
    """Exits the whole process once stdin reaches end of file."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: moto-watched.py SCRIPT [moto_server arguments]")
    script, args = sys.argv[1], sys.argv[2:]
    threading.Thread(target=watch_parent, name="watch-parent", daemon=True).start()
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
