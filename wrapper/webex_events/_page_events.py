"""``PageEvents``: the events of one page, made when the consumer reaches them.

An ``Event`` is an object the garbage collector tracks. Made as soon as a page was decoded, the
events of every finished window waiting in the reorder buffer (up to ``REORDER_PAGES_PER_WORKER``
x concurrency pages) were all alive at once, and the collector walked them again and again:
young collections promoted them and full ones went over them (issue 13: with the collector off,
a listing at concurrency 32 took 0.1-0.15 s less CPU, a tenth of it). A page in the buffer is
now a few lists (its columns, its texts) and ``PageEvents`` makes the page's events in one C
loop when the consumer takes them; they die as it goes on (measured: time in the collector
0.17-0.22 s -> 0.11-0.17 s; what is left is the page's dicts while ``orjson.loads`` builds them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, NamedTuple

from ._event import Event
from ._models import Window

if TYPE_CHECKING:
    from ._wire import DecodedPage

__all__ = ["PageEvents", "WindowPages"]

_new_event = Event._from_wire


class PageEvents:
    """The first ``count`` elements of a page as events, or events already made (``of``).

    ``items``: the page's dicts (None: its events keep no dict); ``texts``: their exact texts
    if found already (None: cut from the page when asked). Both are the page's own lists, taken
    when it was filtered: the page may drop its references later (``DecodedPage.release``).

    >>> from webex_events._wire import decode_page
    >>> page = decode_page(b'{"items":[{"id":"a"},{"id":"b"}]}')
    >>> events = PageEvents(page, 2, items=page.items, texts=None)
    >>> (len(events), [e.id for e in events.make()])
    (2, ['a', 'b'])
    """

    __slots__ = ("_count", "_items", "_made", "_page", "_texts")

    def __init__(
        self,
        page: DecodedPage | None,
        count: int,
        *,
        items: list[Any] | None,
        texts: list[str] | list[bytes] | None,
    ) -> None:
        self._page = page
        self._count = count
        self._items = items
        self._texts = texts
        self._made: list[Event] | None = None

    @classmethod
    def of(cls, events: list[Event]) -> PageEvents:
        """Events already made (a page filtered item by item)."""
        made = cls(None, len(events), items=None, texts=None)
        made._made = events
        return made

    def __len__(self) -> int:
        return self._count

    def make(self) -> list[Event]:
        """The events (new ones on each call, unless they were given made)."""
        if self._made is not None:
            return self._made
        n = self._count
        items, texts = self._items, self._texts
        return list(
            map(
                _new_event,
                repeat(None, n) if items is None else items,
                repeat(None, n) if texts is None else texts,
                repeat(self._page, n),
                range(n),
            )
        )


class WindowPages(NamedTuple):
    """A finished window as its pages (what the drivers hand their consumer, before ``Window``)."""

    start: datetime | None
    end: datetime
    pages: list[PageEvents]

    def events(self) -> Iterator[Event]:
        """The window's events, each page's made as the iteration reaches it."""
        return chain.from_iterable(map(PageEvents.make, self.pages))

    def window(self) -> Window:
        """The public ``Window`` (every event made now)."""
        return Window(start=self.start, end=self.end, events=list(self.events()))
