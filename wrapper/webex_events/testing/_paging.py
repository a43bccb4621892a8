"""Pages of a misbehaving listing: pages out of order, a cursor overlap, an event twice in a page.

The listing of one query is cut into pages up front (``page_of``), so the next links still lead
through every event of the query exactly once (each duplicate aside), whatever order the pages
come in. Each page holds up to ``max`` events, newest first; only the last page served is short.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

__all__ = ["page_of"]


def page_of(
    positions: Sequence[int],
    limit: int,
    index: int,
    *,
    shuffle: bool,
    overlap: bool,
    repeat: bool,
    key: str,
) -> tuple[list[int], bool]:
    """Page ``index`` (from 0) of a listing of ``positions`` (newest first), and whether one follows.

    ``shuffle``: the pages come in a fixed order drawn from ``key`` (never the listing's own order
    when there are two or more); ``overlap``: each page after the first also holds the oldest new
    event of the page before (a cursor that includes its own event); ``repeat``: each page holds
    one of its events twice. A page too small to hold its duplicates and one new event has none.

    >>> pages = [page_of(range(9, -1, -1), 4, i, shuffle=False, overlap=True, repeat=False, key="")
    ...          for i in range(4)]
    >>> pages
    [([9, 8, 7, 6], True), ([6, 5, 4, 3], True), ([3, 2, 1, 0], False), ([], False)]
    """
    if limit < 1 + overlap + repeat:
        overlap = repeat = False
    n = len(positions)
    # New events per page in the order served: the first page has no overlap.
    sizes = [min(limit - repeat, n)]
    left = n - sizes[0]
    while left > 0:
        sizes.append(min(limit - repeat - overlap, left))
        left -= sizes[-1]
    order = list(range(len(sizes)))  # order[j]: the stretch of the listing served as page j
    if shuffle and len(order) > 1:
        random.Random(key).shuffle(order)  # noqa: S311 - a reproducible page order
        if order == sorted(order):
            order = order[1:] + order[:1]
    if index >= len(order):
        return [], False
    # Stretch i of the listing is as long as the page that serves it.
    served_as = {stretch: j for j, stretch in enumerate(order)}
    starts = [0, *itertools.accumulate(sizes[served_as[i]] for i in range(len(order)))]
    start = starts[order[index]]
    new = list(positions[start : start + sizes[index]])
    twice = []
    if overlap and index > 0:
        before = order[index - 1]
        twice.append(positions[starts[before] + sizes[index - 1] - 1])
    if repeat and new:
        twice.append(new[len(new) // 2])
    return sorted(new + twice, reverse=True), index + 1 < len(order)
