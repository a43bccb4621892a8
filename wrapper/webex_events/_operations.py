"""The two operations as sans-IO generators: Get Event Details, and the pages of List Events.

What to send comes from the spec facts (``webex_events_api.spec``): the method and path of
each operation, and which List Events parameters carry the date range and the page size. The
``Requester`` sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx

from webex_events_api.spec import EVENT_KEYS, GET_EVENT_DETAILS, LIST_EVENTS, Operation

from ._actions import Action, Page
from ._dates import format_ms, is_canonical, micros, parse_created, parse_ms
from ._errors import InvalidArgumentError, PagingLoopError
from ._event import Event
from ._links import next_link
from ._models import ListStats
from ._page_events import PageEvents
from ._query import Query
from ._requester import Requester
from ._wire import DecodedPage, decode_object, decode_page

__all__ = ["Split", "get_event", "list_range", "operation_url"]

logger = logging.getLogger("webex_events")

_FROM = LIST_EVENTS.role("range-start").name
_TO = LIST_EVENTS.role("range-end").name
_MAX = LIST_EVENTS.role("page-size").name


def operation_url(
    base_url: httpx.URL, operation: Operation, path_values: Mapping[str, str] = {}
) -> httpx.URL:
    """The URL of ``operation`` below ``base_url``; path parameters are percent-encoded whole.

    >>> str(operation_url(httpx.URL("https://h/v1"), GET_EVENT_DETAILS, {"eventId": "a/b?c"}))
    'https://h/v1/events/a%2Fb%3Fc'
    """
    path = operation.path
    for parameter in operation.parameters:
        if parameter.location == "path":
            # Everything is encoded: an ID with "/" or "?" must stay one path segment.
            path = path.replace("{" + parameter.name + "}", quote(path_values[parameter.name], safe=""))
    raw = base_url.raw_path.rstrip(b"/") + path.encode("ascii")
    return base_url.copy_with(raw_path=raw)


def get_event(requester: Requester, event_id: object) -> Generator[Action, Any, Event]:
    """Get Event Details (validates ``event_id`` now, before the generator starts)."""
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidArgumentError(f"event_id must be a non-empty str, got {event_id!r}")
    (path_parameter,) = (p for p in GET_EVENT_DETAILS.parameters if p.location == "path")
    url = operation_url(requester.base_url, GET_EVENT_DETAILS, {path_parameter.name: event_id})
    return _get(requester, url)


def _get(requester: Requester, url: httpx.URL) -> Generator[Action, Any, Event]:
    _, _, (raw, text) = yield from requester.request(url, parse=decode_object)
    return Event._from_wire(raw, text)


def _in_range(
    page: DecodedPage, lo_s: str | None, hi_s: str, lo_us: int | None, hi_us: int, *, head: int | None = None
) -> PageEvents:
    """Events with ``lo <= created < hi`` (canonical timestamps compared as strings: fast).

    Elements of ``items`` that are not objects are skipped. Events of a ``text_only`` page keep
    their exact text and not the dict (decoded again if a field is read). ``head``: only the
    first ``head`` elements can be in range (a split page, whose oldest millisecond is left to
    the rest of its window): if they all are, they are kept without a Python loop too, and made
    only when the consumer reaches them (see ``_page_events``).
    """
    text_only = page.text_only
    created = page.created
    n = len(created) if head is None else head
    if _all_in_range(created if head is None else created[:n], lo_s, hi_s):
        # The common page: every event kept (or the head), made later without a Python loop.
        out = PageEvents(page, n, items=None if text_only else page.items, texts=page.texts_ready)
    else:
        out = PageEvents.of(_filter(page, lo_s, hi_s, lo_us, hi_us))
    if text_only:
        page.release()
    return out


def _all_in_range(created: list[Any], lo_s: str | None, hi_s: str) -> bool:
    """Whether every ``created`` (of each item, None for a non-object) is canonical and in ``[lo_s, hi_s)``.

    All in C calls (False as soon as anything is not so; ``_filter`` then decides per item):
    their lengths (24), the ``T``, ``.`` and ``Z`` of the canonical form (the same checks as
    ``_filter``) on slices of their concatenation, and the smallest and largest as strings.
    """
    if not created:
        return False
    try:
        joined = "".join(created)  # TypeError: a created that is not a string (or a non-object)
    except TypeError:
        return False
    n = len(created)
    return (
        set(map(len, created)) == {24}
        and joined[23::24] == "Z" * n
        and joined[10::24] == "T" * n
        and joined[19::24] == "." * n
        and max(created) < hi_s
        and (lo_s is None or lo_s <= min(created))
    )


def _filter(page: DecodedPage, lo_s: str | None, hi_s: str, lo_us: int | None, hi_us: int) -> list[Event]:
    """``_in_range`` item by item (any page: non-objects, other forms of ``created``, bounds)."""
    texts = page.texts_ready
    text_only = page.text_only
    items = page.items
    dictless = not items  # a page decoded lean or text-only: every element an object, no dicts kept
    new = Event._from_wire
    out: list[Event] = []
    append = out.append
    for index, c in enumerate(page.created):
        raw = None if dictless else items[index]
        if not dictless and type(raw) is not dict:
            continue
        text = None if texts is None else texts[index]
        if type(c) is str and len(c) == 24 and c[23] == "Z" and c[10] == "T" and c[19] == ".":
            keep = c < hi_s and (lo_s is None or lo_s <= c)
        else:
            dt = parse_created(c) if isinstance(c, str) else None
            if dt is None:
                # Never drop data silently: an event whose time cannot be read is kept. (Logged
                # as sent: page.item, not a number orjson may have rounded.)
                sent = page.item(index) if page.inexact or raw is None else raw
                logger.warning(
                    "event %r has an unparsable created value %r; kept",
                    sent.get(EVENT_KEYS.id),
                    sent.get(EVENT_KEYS.created),
                )
                keep = True
            else:
                us = micros(dt)
                keep = us < hi_us and (lo_us is None or lo_us <= us)
        if keep:
            append(new(None, text, page, index) if text_only else new(raw, text, page, index))
    return out


class _PageSize:
    """The page size of one range: halved after a 504 and kept for the following pages."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value

    def shrink(self, url: httpx.URL) -> httpx.URL | None:
        if self.value <= 1:
            return None
        self.value = max(1, self.value // 2)
        return url.copy_set_param(_MAX, str(self.value))


class Split:
    """How a ``split=True`` listing of ``[lo, hi)`` ended early: ``[lo, at)`` is still to fetch.

    The events yielded cover ``[at, hi)`` exactly. ``density`` is the events per millisecond the
    last page showed (what the remainder is expected to hold). ``unordered``: a page was
    not newest first, so this listing must not be split again (see ``_split_point``).
    """

    __slots__ = ("at", "density", "unordered")

    def __init__(self, at: int | None, density: float = 0.0, *, unordered: bool = False) -> None:
        self.at = at
        self.density = density
        self.unordered = unordered


def _split_point(created: list[Any], ceiling: object) -> tuple[int, int] | Literal[False] | None:
    """``(t, newest)`` in ms if a full page newest first can end the listing at ``t``.

    Webex (and the fake) list newest first, so once a full page ends at ``t`` (its oldest
    ``created``), every event newer than ``t`` in the range is on this page or an earlier one:
    the rest of the range is ``[lo, t + 1)``. Events *at* ``t`` may continue on the next page
    (same-millisecond ties), so they are left to the remainder. This only holds if the server
    really sorts newest first; that is checked on every page (False: not descending, the caller
    stops splitting this listing; ``ceiling``, the oldest ``created`` of the page before, if
    any, must not be older than this page's newest). Anything that cannot be read as a canonical
    instant, or a page inside one millisecond (no progress), means None: follow the next link.
    """
    previous = ceiling if type(ceiling) is str and is_canonical(ceiling) else None
    for c in created:  # (None for an item that is not an object)
        if type(c) is not str or not is_canonical(c):
            return None
        if previous is not None and c > previous:
            return False
        previous = c
    if previous is None or not created:
        return None
    first = created[0]
    if first == previous:
        return None  # one millisecond: splitting would not shrink anything
    try:
        return parse_ms(previous), parse_ms(first)
    except ValueError:  # canonical-looking but not a date ("2024-13-45T...")
        return None


def list_range(
    requester: Requester,
    query: Query,
    lo_ms: int | None,
    hi_ms: int,
    stats: ListStats,
    *,
    split: bool = False,
) -> Generator[Action, Any, Split | None]:
    """All pages of the query for ``[lo_ms, hi_ms)``; yields ``Page``s of filtered events.

    The range start is sent 1 ms early and the result filtered to ``lo <= created < hi``, so the
    result is exact whether the server treats the bounds as inclusive or exclusive.

    ``split=True`` (windowed listings): after a full page with a next link, stop and return a
    :class:`Split` instead of following the link, so the rest can be fetched by idle workers as
    windows of its own; the events yielded are then those of ``[split.at, hi_ms)``.
    """
    params = dict(query.filters)
    if lo_ms is not None:
        params[_FROM] = format_ms(lo_ms - 1)
    params[_TO] = format_ms(hi_ms)
    params[_MAX] = str(query.page_size)
    lo_s = None if lo_ms is None else format_ms(lo_ms)
    hi_s = format_ms(hi_ms)
    lo_us = None if lo_ms is None else lo_ms * 1000
    hi_us = hi_ms * 1000
    size = _PageSize(query.page_size)
    url = operation_url(requester.base_url, LIST_EVENTS).copy_merge_params(params)
    demand = query.text_demand

    def parse(body: bytes) -> DecodedPage:
        # The fast way until someone reads raw_json, then the exact way (see _wire).
        return decode_page(body, exact=demand.wanted, demand=demand)

    # Every URL this range has asked for: a next link back to one of them is a loop (A -> A or
    # A -> B -> A) that would never end and would yield the same events again.
    followed = {str(url)}
    pages = 0
    unordered = False
    ceiling: object = None  # the oldest created of the page before (newest first: an upper bound)
    while True:
        url, response, page = yield from requester.request(url, parse=parse, stats=stats, shrink=size.shrink)
        pages += 1
        target = next_link(response)
        created = page.created  # of each item (None: not an object)
        if split and lo_ms is not None and target is not None and len(created) >= size.value:
            point = _split_point(created, ceiling)
            if point is False:
                unordered, split = True, False
            elif point is not None and (at := max(lo_ms, point[0] + 1)) < hi_ms:
                # (at >= hi: a server sending created == to; splitting would ask the same again)
                t, newest = point
                # Events per ms over the page's own span [t, newest]: the local density.
                density = len(created) / (newest - t + 1)
                # The page is newest first (checked by _split_point): its oldest millisecond's
                # ties start at that value's first index; the rest of the window has them.
                head = created.index(created[-1])
                events = _in_range(page, format_ms(at), hi_s, at * 1000, hi_us, head=head)
                del page, response
                stats._add(pages=1, events=len(events))
                yield Page(events)
                return Split(at if at > lo_ms else None, density)
        ceiling = created[-1] if created else None
        events = _in_range(page, lo_s, hi_s, lo_us, hi_us)  # (may release the page's items)
        del page, response, created  # while the consumer has the events, hold nothing else of the page
        stats._add(pages=1, events=len(events))
        yield Page(events)
        del events
        if target is None:
            return Split(None, unordered=True) if unordered else None
        url = _repair_next(requester, url.join(target), params, size.value)
        if str(url) in followed:
            raise PagingLoopError(
                f"the server's next link after page {pages} leads back to a page already fetched"
                f" in this listing ({requester.scrub(str(url))}); stopped to avoid an endless loop"
            )
        followed.add(str(url))


def _repair_next(requester: Requester, url: httpx.URL, params: Mapping[str, str], size: int) -> httpx.URL:
    """Check a next link's origin and repair known Webex defects (max=null, dropped filters)."""
    requester.check_origin(url)
    present = url.params
    for key, value in params.items():
        if key != _MAX and key not in present:
            url = url.copy_add_param(key, value)
    raw_max = present.get(_MAX)
    try:
        max_value: int | None = int(raw_max) if raw_max is not None else None
    except ValueError:
        max_value = None  # "null" and other garbage
    if max_value is None or not 1 <= max_value <= size:
        url = url.copy_set_param(_MAX, str(size))
    return url
