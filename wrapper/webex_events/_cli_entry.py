"""The ``webex-events`` console script and ``python -m webex_events``.

The command needs click, which is the ``cli`` extra, not a dependency of the library: this
entry imports the command only when run, so a library-only install answers with the one line
that fixes it (exit 2, bad usage) instead of a traceback.
"""

from __future__ import annotations

import sys

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
    command()
