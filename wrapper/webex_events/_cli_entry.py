"""The ``webex-events`` console script and ``python -m webex_events``.

The command needs click, which is the ``cli`` extra, not a dependency of the library: this
entry imports the command only when run, so a library-only install answers with the one line
that fixes it (exit 2, bad usage) instead of a traceback.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import Any, NoReturn

__all__ = ["INSTALL_HINT", "main"]

INSTALL_HINT = "webex-events: the command needs click; install it with: pip install 'webex-events[cli]'"


def main() -> None:
    """Run the ``webex-events`` command, or say how to install it and exit 2."""
    try:
        from .cli import main as command  # noqa: PLC0415  (click is imported only here)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if missing == "click" or missing.startswith("click."):
            print(INSTALL_HINT, file=sys.stderr)
            raise SystemExit(2) from None
        if missing == f"{__package__}.cli":  # a vendored copy: the library without the command
            print(f"webex-events: {__package__} has no command-line interface", file=sys.stderr)
            raise SystemExit(2) from None
        raise
    try:
        command()
    except SystemExit as done:
        _leave(done.code)


def _leave(code: object) -> NoReturn:
    """Exit with ``code`` as ``sys.exit`` would, without the interpreter's teardown.

    The command has closed (and where it promises, fsynced) everything it wrote by the time it
    exits; what remains is freeing every module it imported (httpx, click, the generated models),
    about 50 ms of each run on the benchmark machine (`import webex_events.cli`: 302 -> 248 ms,
    median of 25). Only the console script and ``python -m`` come here, never an in-process
    caller such as click's test runner. The atexit functions (logging's flush, coverage's
    save...) still run and the standard streams are flushed; a stream that cannot be flushed (a
    closed pipe) turns a success into 120, as Python's own exit does (a failure keeps its own
    status). Under a profiler or a tracer, which report after the program, it exits normally.
    """
    if _observed():
        raise SystemExit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    if not flush_standard_streams():
        status = status or 120
    os._exit(status)


def flush_standard_streams() -> bool:
    """Flush stdout and stderr before an ``os._exit``; False if one could not be (a closed pipe).

    A stream that is None (the process started with that descriptor closed) or closed is skipped.
    """
    flushed = True
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            flushed = False
    return flushed


def _observed() -> bool:
    """Whether a profiler, tracer or coverage tool is attached (they report after the program).

    Python 3.12+ tools may use ``sys.monitoring`` (cProfile does) instead of the hooks.
    """
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring: Any = getattr(sys, "monitoring", None)
    return monitoring is not None and any(monitoring.get_tool(tool) is not None for tool in range(6))
