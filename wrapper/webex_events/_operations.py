"""The two operations as sans-IO generators: Get Event Details, and the pages of List Events.

What to send comes from the spec facts (``webex_events_api.spec``): the method and path of
each operation, and which List Events parameters carry the date range and the page size. The
``Requester`` sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from typing import Any

import httpx

from webex_events_api.spec import (
    AUDIT_EVENT_CATEGORY_COLLECTION_RESPONSE_KEYS,
    GET_EVENT_DETAILS,
    LIST_ADMIN_AUDIT_EVENT_CATEGORIES,
    TOKEN_EXPIRY,
    TOKEN_EXPIRY_KEYS,
)

from ._actions import Action, Emit, Program
from ._dates import format_ms, from_ms, is_canonical, micros, parse_created
from ._errors import BadEventError, InvalidArgumentError, MalformedResponseError, PagingLoopError
from ._event import BaseEvent, Event
from ._links import next_link, operation_url
from ._models import ListStats
from ._query import Query
from ._requester import Requester
from ._wire import Page, decode_object, decode_page

__all__ = ["Overflow", "audit_event_categories", "get_event", "list_range", "operation_url", "token_expiry"]

logger = logging.getLogger("webex_events")


def get_event(requester: Requester, event_id: object) -> Program:
    """Get Event Details (validates ``event_id`` now, before the generator starts)."""
    if not isinstance(event_id, str) or not event_id.strip():
        raise InvalidArgumentError(f"event_id must be a non-empty str, got {event_id!r}")
    (path_parameter,) = (p for p in GET_EVENT_DETAILS.parameters if p.location == "path")
    url = operation_url(requester.base_url, GET_EVENT_DETAILS, {path_parameter.name: event_id})
    return _get(requester, url)


def _get(requester: Requester, url: httpx.URL) -> Program:
    _, _, (raw, text) = yield from requester.request(url, parse=decode_object)
    yield Emit(Event(raw_json=text, raw=raw))


def token_expiry(requester: Requester) -> Program:
    """When the token sent expires (``tokenExpiry``: its ``exp``, epoch ms)."""
    _, _, (raw, _) = yield from requester.request(
        operation_url(requester.base_url, TOKEN_EXPIRY), parse=decode_object
    )
    if type(exp := raw.get(TOKEN_EXPIRY_KEYS.exp)) is not int:
        raise MalformedResponseError(f"the token expiry answer has no integer {TOKEN_EXPIRY_KEYS.exp!r}")
    yield Emit(from_ms(exp))


def audit_event_categories(requester: Requester) -> Program:
    """The categories of admin audit events (List Admin Audit Event Categories)."""
    url = operation_url(requester.base_url, LIST_ADMIN_AUDIT_EVENT_CATEGORIES)
    _, _, (raw, _) = yield from requester.request(url, parse=decode_object)
    categories = raw.get(AUDIT_EVENT_CATEGORY_COLLECTION_RESPONSE_KEYS.event_categories)
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise MalformedResponseError("the event categories answer has no list of strings")
    yield Emit(categories)


def _in_range(
    page: Page, lo_ms: int | None, hi_ms: int, previous: dict[str, Any], stats: ListStats, *, query: Query
) -> tuple[list[BaseEvent], dict[str, Any]]:
    """The events of the page with ``lo <= created < hi`` (ms), and the page's ids.

    An event whose ``created`` cannot be read, or without an ``id``, is kept with a warning
    (never dropped), or with ``bad_events="error"``: a BadEventError. An id seen on this page or on the page
    before (``previous``: id -> created) is skipped: a repeat or a cursor overlap. The first
    copy is kept, with a warning if the other's created differs.
    """
    lo_us, hi_us = None if lo_ms is None else lo_ms * 1000, hi_ms * 1000
    lo_s, hi_s = None if lo_ms is None else format_ms(lo_ms), format_ms(hi_ms)
    view = query.stream.event_type
    id_key, created_key = view._id_key, view._created_key
    out: list[BaseEvent] = []
    ids: dict[str, Any] = {}
    repeated = bad = 0
    for index, item in enumerate(page.items):
        c = item.get(created_key)
        problem = None
        if type(key := item.get(id_key)) is str and key:
            if (first := ids.get(key, previous.get(key, ids))) is not ids:
                if first != c:
                    logger.warning(
                        "event %r was served again with created %r; the first copy is kept", key, c
                    )
                repeated += 1
                continue
            ids[key] = c
        else:
            problem = f"has no id ({key!r})"
        if type(c) is str and is_canonical(c) and c < hi_s and (lo_s is None or lo_s <= c):
            keep = True  # (compared as strings: canonical timestamps sort as the instants they are)
        elif (dt := parse_created(c) if isinstance(c, str) else None) is not None:
            us = micros(dt)
            keep = us < hi_us and (lo_us is None or lo_us <= us)
        else:
            keep, problem = True, f"has an unreadable created value {c!r}"
        if problem is not None and keep:
            where = f"item {index} of a page of [{lo_s or '-'}, {hi_s})"
            if query.strict:
                stats._add(repeated=repeated, bad=bad)
                raise BadEventError(f"event {key!r} ({where}) {problem} (bad_events='error')")
            logger.warning("event %r (%s) %s; delivered", key, where, problem)
            bad += 1
        if keep:
            out.append(view._of_page(page, index))
    stats._add(repeated=repeated, bad=bad)
    return out, ids


class Overflow:
    """A probe's first page had a next link: the range holds more than the probe lists alone.

    ``oldest_ms``: the oldest readable ``created`` on that page (None: none), for the density.
    """

    __slots__ = ("count", "oldest_ms")

    def __init__(self, count: int, oldest_ms: int | None) -> None:
        self.count, self.oldest_ms = count, oldest_ms


def list_range(
    requester: Requester,
    query: Query,
    lo_ms: int | None,
    hi_ms: int,
    stats: ListStats,
    *,
    probe_pages: int | None = None,
    halving: bool = False,
) -> Generator[Action, Any, Overflow | None]:
    """All pages of the query for ``[lo_ms, hi_ms)``; emits each page's events (a list).

    The range start is sent 1 ms early and the events filtered to ``lo <= created < hi``, so
    the result is exact whether the server treats the bounds as inclusive or exclusive. Every
    next link is followed: nothing here relies on the order of the server's pages (Webex
    documents none).

    ``probe_pages`` (auto windows): when the first page has a next link and, by its density,
    the range holds more than ``probe_pages`` pages, stop there and return an
    :class:`Overflow` (nothing emitted): the range is to be cut into windows listed
    concurrently. A range of few pages is listed on, whole.

    A full first page without a next link, from a server that has sent none yet (a proxy that
    strips ``Link`` headers), is not taken for the end: the range is listed in halves, each on
    its own, down to a millisecond, whose full page is all the server gives.
    """
    operation, offset_name = query.stream.operation, query.stream.offset_name
    size_name = operation.role("page-size").name
    params = dict(query.filters)
    if lo_ms is not None:
        params[operation.role("range-start").name] = format_ms(lo_ms - 1)
    params[operation.role("range-end").name] = format_ms(hi_ms)
    params[size_name] = str(query.page_size)
    size = query.page_size  # halved after a 504 or a body over the cap, for the next pages too

    def shrink(url: httpx.URL) -> httpx.URL | None:
        nonlocal size
        if size <= 1:
            return None
        size //= 2
        return url.copy_set_param(size_name, str(size))

    url = operation_url(requester.base_url, operation).copy_merge_params(params)
    # Every URL this range has asked for: a next link back to one of them is a loop.
    followed = {str(url)}
    pages = 0
    previous: dict[str, Any] = {}  # the previous page's ids
    while True:
        url, response, page = yield from requester.request(url, parse=decode_page, stats=stats, shrink=shrink)
        pages += 1
        if offset_name is not None:  # the next page: past the items received, until a short page
            offset = int(url.params.get(offset_name, "0")) + len(page.items)
            target = str(url.copy_set_param(offset_name, str(offset))) if len(page.items) >= size else None
        elif (target := next_link(response)) is not None:
            requester.links_seen = True
        if pages == 1 and probe_pages is not None and target is not None and lo_ms is not None:
            oldest = _oldest_ms(page, lo_ms, hi_ms, query.stream.event_type._created_key)
            span = hi_ms - (lo_ms if oldest is None else oldest)
            if len(page.items) * (hi_ms - lo_ms) > probe_pages * size * max(span, 1):
                stats._add(pages=1)
                return Overflow(len(page.items), oldest)
        if (
            target is None
            and pages == 1
            and len(page.items) >= size
            and hi_ms - (lo_ms or 0) > 1
            and not requester.links_seen
            and offset_name is None
        ):
            yield from _halves(requester, query, lo_ms, hi_ms, stats, halving=halving)
            return None
        if (
            offset_name is not None
            and page.items
            and all(
                type(i := item.get(query.stream.event_type._id_key)) is str and i in previous
                for item in page.items
            )
        ):
            raise PagingLoopError(
                f"page {pages} at {requester.scrub(str(url))} repeats the page before it: the server"
                f" ignores {offset_name}; stopped to avoid an endless loop"
            )
        events, previous = _in_range(page, lo_ms, hi_ms, previous, stats, query=query)
        stats._add(pages=1, events=len(events))
        yield Emit(events)
        if target is None:
            return None
        url = _repair_next(requester, url.join(target), params, size, size_name)
        if str(url) in followed:
            raise PagingLoopError(
                f"the server's next link after page {pages} leads back to a page already fetched"
                f" in this listing ({requester.scrub(str(url))}); stopped to avoid an endless loop"
            )
        followed.add(str(url))


def _oldest_ms(page: Page, lo_ms: int, hi_ms: int, created_key: str) -> int | None:
    """The oldest readable ``created`` (ms) of the page within ``[lo_ms, hi_ms)``, or None."""
    oldest = None
    for item in page.items:
        c = item.get(created_key)
        dt = parse_created(c) if isinstance(c, str) else None
        if dt is not None and lo_ms <= (ms := micros(dt) // 1000) < hi_ms:
            oldest = ms if oldest is None else min(oldest, ms)
    return oldest


def _halves(
    requester: Requester, query: Query, lo_ms: int | None, hi_ms: int, stats: ListStats, *, halving: bool
) -> Generator[Action, Any, None]:
    """``[lo_ms, hi_ms)`` listed in two halves, each on its own (see list_range)."""
    lo = 0 if lo_ms is None else lo_ms
    if not halving:  # (once per listing, not for each half)
        logger.warning(
            "a full first page without a next link for %s (a proxy stripping Link headers?):"
            " listing the range in halves",
            f"[{format_ms(lo)}, {format_ms(hi_ms)})",
        )
    mid = (lo + hi_ms) // 2  # the newer half first: the server's order, newest first
    yield from list_range(requester, query, mid, hi_ms, stats, halving=True)
    yield from list_range(requester, query, lo, mid, stats, halving=True)


def _repair_next(
    requester: Requester, url: httpx.URL, params: Mapping[str, str], size: int, size_name: str
) -> httpx.URL:
    """Check a next link's origin and repair known Webex defects (max=null, dropped filters)."""
    requester.check_origin(url)
    present = url.params
    for key, value in params.items():
        if key != size_name and key not in present:
            url = url.copy_add_param(key, value)
    raw_max = present.get(size_name)
    try:
        max_value: int | None = int(raw_max) if raw_max is not None else None
    except ValueError:
        max_value = None  # "null" and other garbage
    if max_value is None or not 1 <= max_value <= size:
        url = url.copy_set_param(size_name, str(size))
    return url
