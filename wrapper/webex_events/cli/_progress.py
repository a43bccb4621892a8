"""Progress reporting on stderr: in place on a terminal, sparse plain lines otherwise."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress", "format_seconds"]

_TTY_INTERVAL = 0.1  # at most ~10 redraws per second
_PLAIN_INTERVAL = 10.0  # at least one plain line per this many seconds of progress


def format_seconds(seconds: float) -> str:
    """Render a duration as ``4.2s``, ``3m05s`` or ``2h03m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Throttled progress display; :meth:`update` is cheap when nothing is drawn."""

    def __init__(self, stream: TextIO, *, enabled: bool = True, tty: bool | None = None) -> None:
        self._stream = stream
        self._enabled = enabled
        self._tty = stream.isatty() if tty is None else tty
        self._start = time.monotonic()
        self._next_draw = 0.0
        self._next_decile = 1
        self._drawn = False
        self._base_events = 0  # events already written by an earlier (resumed) run

    @property
    def elapsed(self) -> float:
        """Seconds since the display started."""
        return time.monotonic() - self._start

    def set_base(self, events: int) -> None:
        """Count ``events`` as written before this run (a resumed export)."""
        self._base_events = events

    def update(self, events: int, windows_done: int, windows_total: int) -> None:
        """Report the counters of this run; draws only when the throttle allows."""
        if not self._enabled:
            return
        now = time.monotonic()
        if self._tty:
            if now < self._next_draw:
                return
            self._next_draw = now + _TTY_INTERVAL
            self._stream.write("\r\x1b[K" + self._line(events, windows_done, windows_total, now))
            self._stream.flush()
            self._drawn = True
            return
        decile = windows_done * 10 // windows_total if windows_total > 0 else 0
        if decile >= self._next_decile or now >= self._next_draw:
            self._next_decile = decile + 1
            if self._next_draw == 0.0:
                # The first call only arms the timer: no line for "0 events".
                self._next_draw = now + _PLAIN_INTERVAL
                if decile == 0:
                    return
            self._next_draw = now + _PLAIN_INTERVAL
            self._stream.write("webex-events: " + self._line(events, windows_done, windows_total, now) + "\n")
            self._stream.flush()

    def _line(self, events: int, windows_done: int, windows_total: int, now: float) -> str:
        elapsed = max(now - self._start, 1e-9)
        rate = events / elapsed
        parts = [f"{self._base_events + events:,} events"]
        if windows_total > 0:
            parts.append(f"windows {windows_done}/{windows_total}")
        parts.append(f"{rate:,.0f} events/s")
        if 0 < windows_done < windows_total:
            eta = elapsed / windows_done * (windows_total - windows_done)
            parts.append(f"ETA {format_seconds(eta)}")
        return ", ".join(parts)

    def finish(self) -> None:
        """Clear the in-place line so the summary starts on a clean line."""
        if self._enabled and self._tty and self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False
