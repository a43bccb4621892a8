"""The ``webex-events`` group: one-line errors, exit codes, commands imported when first used."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

import click

from webex_events import WebexError

from ._common import flush_standard_streams, mask
from ._errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError, from_webex_error
from ._logging import emit
from ._malloc import limit_malloc_arenas
from ._options import CliUsageError

__all__ = ["main"]


class _Commands(MutableMapping[str, click.Command]):
    """A group's commands by name; a deferred one is imported when first looked up.

    Listing the names (help, suggestions for a mistyped command) imports nothing, so a command
    whose module is costly to import (``fake-server`` and the fake) costs only the runs using it.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, click.Command] = {}
        self._deferred: dict[str, tuple[str, str]] = {}

    def defer(self, name: str, module: str, attribute: str) -> None:
        self._loaded.pop(name, None)
        self._deferred[name] = (module, attribute)

    def __getitem__(self, name: str) -> click.Command:
        if name in self._deferred:
            module, attribute = self._deferred[name]
            self._loaded[name] = getattr(importlib.import_module(module), attribute)
            del self._deferred[name]
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._deferred.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if self._deferred.pop(name, None) is None:
            del self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._deferred

    def __iter__(self) -> Iterator[str]:
        return iter([*self._loaded, *self._deferred])

    def __len__(self) -> int:
        return len(self._loaded) + len(self._deferred)


class _Group(click.Group):
    """A click group whose errors are one line ``webex-events: error: ...`` with our exit codes.

    Its commands may be deferred: imported when first looked up (``defer_command``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._commands = _Commands()
        self._commands.update(self.commands)
        self.commands = self._commands

    def defer_command(self, name: str, module: str, attribute: str) -> None:
        """Add ``module.attribute`` as the command ``name``, imported when first looked up."""
        self._commands.defer(name, module, attribute)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command and exit with its code (``standalone_mode=False`` returns it instead)."""
        limit_malloc_arenas()  # before any worker thread starts
        code = self._run(args, prog_name, complete_var, **extra)
        if not standalone_mode:
            return code
        if code > 128:
            # Stopped by a signal: what was written is checkpointed; do not wait for worker
            # threads still blocked on a server that stopped answering (they hold nothing).
            flush_standard_streams()
            os._exit(code)
        sys.exit(code)

    def _run(
        self, args: Sequence[str] | None, prog_name: str | None, complete_var: str | None, **extra: Any
    ) -> int:
        try:
            rv = super().main(args, prog_name or "webex-events", complete_var, standalone_mode=False, **extra)
        except CliError as exc:
            _error(exc.message)
            return exc.code
        except CliUsageError as exc:
            _error(str(exc))
            return EXIT_USAGE
        except click.exceptions.NoArgsIsHelpError as exc:
            sys.stderr.write(exc.ctx.get_help() + "\n" if exc.ctx is not None else "")
            return EXIT_USAGE
        except click.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            _error(exc.format_message() + hint)
            return EXIT_USAGE
        except click.ClickException as exc:
            _error(exc.format_message())
            return exc.exit_code
        except click.exceptions.Abort:
            _error("interrupted")
            return EXIT_INTERRUPTED
        except KeyboardInterrupt:
            _error("interrupted")
            return EXIT_INTERRUPTED
        except WebexError as exc:
            err = from_webex_error(exc)
            _error(err.message)
            return err.code
        return rv if isinstance(rv, int) else 0


def _error(message: str) -> None:
    emit(logging.ERROR, "error", mask(" ".join(message.split())))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(package_name="webex-events", prog_name="webex-events")
def main() -> None:
    """Export and read the events of a Webex organization (Webex Events API).

    The access token (scope spark-compliance:events_read) is read from WEBEX_ACCESS_TOKEN or
    --token-file; it is never printed or written anywhere. Try it offline with
    `webex-events export --demo --since 7d --output demo.jsonl`.

    Exit codes: 0 done, 1 local I/O failure, 2 bad usage (nothing sent), 3 token refused
    (401/403), 4 API failure after retries, 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).
    """
