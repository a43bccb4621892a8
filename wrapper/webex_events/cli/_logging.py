"""Where the command's diagnostics go: the ``webex_events`` logger, as text or JSON lines.

Every line the command writes to stderr (retries logged by the library, warnings, errors, the
summary) goes through here, so ``--log-format json`` gives a collector (cron mail, a SIEM
agent) one JSON object per line, and ``-q``/``-v``/``--log-level`` decide what is shown. Each
line is masked with the token before it is written, whatever produced it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["LEVELS", "configure", "emit", "json_mode"]

LEVELS = ("debug", "info", "warning", "error")
LogFormat = Literal["text", "json"]

_logger = logging.getLogger("webex_events")
_json = False


class _Redacting(logging.Filter):
    """Masks the token in every record (defence in depth: nothing should carry it)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, ensure_ascii=False)


def configure(
    *, level: str | None, fmt: LogFormat, verbose: int, quiet: bool, redact: Callable[[str], str]
) -> None:
    """Send ``webex_events`` records to stderr: ``--log-level`` wins, else -q/-v, else warning."""
    global _json  # noqa: PLW0603 - one process, one logging setup
    _json = fmt == "json"
    if level is None:
        level = "error" if quiet else ("debug" if verbose > 1 else "info" if verbose else "warning")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Redacting(redact))
    if _json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s webex-events %(levelname)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
        )
    _logger.handlers = [handler]
    _logger.propagate = False
    _logger.setLevel(level.upper())


def json_mode() -> bool:
    """Whether diagnostics are JSON lines (then the progress display is off)."""
    return _json


def emit(level: int, kind: str, text: str, **fields: Any) -> None:
    """A line of the command itself: its summary (``done``), a ``warning``, an ``error``.

    Always shown (``-q`` hides progress and library records, not the outcome): text mode writes
    ``webex-events: KIND: TEXT``, JSON mode an object with ``event: KIND`` and the fields. The
    caller has masked the token already.
    """
    if _json:
        record = logging.LogRecord("webex_events.cli", level, __file__, 0, text, None, None)
        record.fields = {"event": kind, **fields}
        line = _JsonFormatter().format(record)
    else:
        line = f"webex-events: {kind}: {text}"
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
