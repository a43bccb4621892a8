"""``Query``: the validated arguments of one ``list_events`` call (what to ask, how to split it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import attrs

from webex_events_api.spec import LIST_EVENTS

from ._config import validate_concurrency
from ._dates import WindowPlan, ceil_ms, floor_ms, format_ms, from_ms, timedelta_ms, to_aware
from ._errors import InvalidArgumentError
from ._filters import check_number, filter_values
from ._streams import EVENTS, Stream

__all__ = ["MAX_WINDOWS", "PAGE_SIZE", "Query", "build_query"]

_PAGE_SIZE = LIST_EVENTS.role("page-size")
#: A fixed ``window`` may cut a range into at most this many windows (one request each at least):
#: ``timedelta(microseconds=1)`` over ten years would otherwise mean 3e11 windows.
MAX_WINDOWS = 1_000_000
#: Default page size of List Events: the largest the spec allows (fewest requests).
PAGE_SIZE = int(_PAGE_SIZE.maximum) if _PAGE_SIZE.maximum is not None else int(_PAGE_SIZE.default or 100)


def default_page_size(stream: Stream) -> int:
    """The largest page the stream's operation allows (fewest requests)."""
    size = stream.operation.role("page-size")
    return int(size.maximum) if size.maximum is not None else int(size.default or 100)


@attrs.frozen(kw_only=True)
class Query:
    """One ``list_events`` call: filters by wire name, the range in epoch ms (``lo_ms`` None:
    unbounded), the fixed window length or ``adaptive`` (``"auto"``; neither: not windowed)."""

    filters: dict[str, str]
    page_size: int
    lo_ms: int | None
    hi_ms: int
    step_ms: int | None
    concurrency: int
    adaptive: bool = False
    strict: bool = False  # bad_events="error"
    stream: Stream = EVENTS

    @property
    def windowed(self) -> bool:
        """Whether the range is split into windows fetched concurrently."""
        return self.step_ms is not None or self.adaptive

    @property
    def windows_total(self) -> int:
        """How many windows the listing has (1 when not windowed; an estimate when adaptive)."""
        if self.step_ms is None or self.lo_ms is None:
            return 1  # window="auto" starts with the whole range and refines it (see _schedule)
        return WindowPlan(self.lo_ms, self.hi_ms, step_ms=self.step_ms).estimated_total()

    @property
    def start(self) -> datetime | None:
        """``from_`` rounded up to the millisecond, or None."""
        return None if self.lo_ms is None else from_ms(self.lo_ms)

    @property
    def end(self) -> datetime:
        """``to`` rounded up to the millisecond (clamped to now)."""
        return from_ms(self.hi_ms)


def build_query(
    *,
    filters: Mapping[str, object],
    from_: object,
    to: object,
    page_size: object,
    window: object,
    concurrency: object,
    default_concurrency: int,
    bad_events: object = "deliver",
    stream: Stream = EVENTS,
    now: datetime | None = None,
) -> Query:
    """Validate ``list_events`` arguments (raises InvalidArgumentError naming the argument)."""
    operation = stream.operation
    wire = filter_values(filters, operation=operation)
    if page_size is None:
        page_size = default_page_size(stream)
    if bad_events not in ("deliver", "error"):
        raise InvalidArgumentError(f"bad_events must be 'deliver' or 'error', got {bad_events!r}")
    size = int(check_number(operation.role("page-size"), page_size, "page_size"))
    conc = default_concurrency if concurrency is None else validate_concurrency(concurrency)

    current = now if now is not None else datetime.now(UTC)
    now_ms = floor_ms(current)
    if from_ is None and operation.role("range-start").required:
        raise InvalidArgumentError(f"from_ is required: {operation.summary} lists a date range")
    lo_ms = None if from_ is None else ceil_ms(to_aware(from_, name="from_"))
    hi_ms = now_ms if to is None else min(ceil_ms(to_aware(to, name="to")), now_ms)
    # No event predates 1970; clamping there keeps "since year 1" valid (the range start is
    # sent 1 ms early, which year 1 cannot represent).
    lo_ms = None if lo_ms is None else max(lo_ms, 0)
    hi_ms = max(hi_ms, 0)
    if lo_ms is not None and lo_ms > hi_ms:
        raise InvalidArgumentError(
            f"from_ must not be after to, got from_={format_ms(lo_ms)} and to={format_ms(hi_ms)}"
            + (" (to is clamped to now)" if to is None or hi_ms == now_ms else "")
        )

    step_ms: int | None = None
    adaptive = False
    if window is None and conc > 1 and (concurrency is not None or lo_ms is not None):
        # A date range is fetched concurrently by default (asking for parallelism implies it
        # too); an unbounded listing (no from_) has nothing to split and stays sequential, and
        # concurrency=1 asks for one query streamed in the server's order.
        window = "auto"
    if window is not None:
        if lo_ms is None:
            raise InvalidArgumentError("from_ is required when window or concurrency > 1 is given")
        if window == "auto":
            adaptive = True
        elif isinstance(window, timedelta):
            if window <= timedelta(0):
                raise InvalidArgumentError(f"window must be a positive timedelta or 'auto', got {window!r}")
            step_ms = timedelta_ms(window)
            if stream.max_range_ms is not None and step_ms > stream.max_range_ms:
                raise InvalidArgumentError(
                    f"window={window!r} is longer than one request of {operation.summary} may cover"
                    f" ({operation.max_range})"
                )
            windows = -(-(hi_ms - lo_ms) // step_ms)
            if windows > MAX_WINDOWS:
                raise InvalidArgumentError(
                    f"window={window!r} cuts this range into {windows:,} windows (at most {MAX_WINDOWS:,}):"
                    " use a longer window or window='auto'"
                )
        else:
            raise InvalidArgumentError(f"window must be a timedelta, 'auto' or None, got {window!r}")
    return Query(
        filters=wire,
        page_size=size,
        lo_ms=lo_ms,
        hi_ms=hi_ms,
        step_ms=step_ms,
        concurrency=conc,
        adaptive=adaptive,
        strict=bad_events == "error",
        stream=stream,
    )
