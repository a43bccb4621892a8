"""What the cyclic GC costs per event as more decoded pages are alive at once (in process).

``python bench/gc_cost.py [--events N]`` decodes the fake's pages with ``orjson.loads`` (the
fast path's decoder) while keeping the last K pages alive, as a listing keeps its pages in
flight and in its reorder buffer, and prints the CPU per event with the collector on and off
(best of 3), for dicts alone and with one small slotted object per item (like ``Event``).

It explains why a listing's CPU per event grows with its concurrency: every full collection
walks every container still alive, and a page of 1000 events is a few thousand of them.
"""

from __future__ import annotations

import argparse
import collections
import json
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from _common import END, TOKEN
from _cpu import best_of, collector_off

from webex_events.testing import FakeWebex


class Item:
    """Stands for ``Event``: a slotted object holding the decoded dict."""

    __slots__ = ("created", "id", "model", "raw")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.id = self.created = self.model = None


def run(pages: list[bytes], loads: Callable[[bytes], Any], alive: int, *, wrap: bool) -> int:
    held: collections.deque[list[Any]] = collections.deque()
    n = 0
    for body in pages:
        items = loads(body)["items"]
        held.append([Item(d) for d in items] if wrap else items)
        if len(held) > alive:
            n += len(held.popleft())
    return n + sum(map(len, held))


def cpu_per_event(fn: Callable[[], int], *, collector: bool) -> float:
    """µs per event, best of 3 (``_cpu.best_of``), with the collector on or off."""
    cpu, n = best_of(3, fn if collector else collector_off(fn))
    return cpu / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    try:
        import orjson  # noqa: PLC0415 - the fast path's decoder, optional

        loads: Callable[[bytes], Any] = orjson.loads
    except ImportError:
        loads = json.loads
    fake = FakeWebex(events=args.events, seed=1, end=END, start=END - timedelta(days=30), token=TOKEN)
    events = fake.events
    compact = (",", ":")
    pages = [
        json.dumps({"items": events[i : i + 1000]}, separators=compact).encode()
        for i in range(0, len(events), 1000)
    ]
    del fake, events  # (not alive while measuring: the collector would walk them too)
    print(f"{loads.__module__}.loads, {len(pages)} pages of 1000 events; µs per event, best of 3")
    print("pages alive | objects | GC on | GC off | GC cost")
    for alive in (1, 16, 48):
        for wrap in (False, True):
            listing = partial(run, pages, loads, alive, wrap=wrap)
            on = cpu_per_event(listing, collector=True)
            off = cpu_per_event(listing, collector=False)
            what = "dict + object" if wrap else "dict"
            print(f"{alive:11d} | {what:13s} | {on:5.2f} | {off:6.2f} | {on - off:7.2f}")


if __name__ == "__main__":
    main()
