"""CPU per event of the typed and raw listings ÷ CPU of ``json.loads`` of the same pages.

``python bench/_cpu.py --events N --reps R`` prints ``RESULT {json}``.

Only the public API is timed: ``WebexEvents(transport=...).list_events(...)``, reading
``.id .resource .created`` of each ``Event`` (typed) or ``.id .created .raw_json`` (raw, what an
export writes). The pages come from the fake (seed 1, 30 days, pages of 1000): recorded once
through ``FakeWebex.transport()``, then replayed from memory, so no server CPU is counted, only
what the client does per page (httpx objects, paging, decoding, events) and what the consumer
reads. Each repetition times ``json.loads`` of every page, then the typed pass, then the raw
pass; a row's ratio is the median of the repetitions' ratios, each to the baseline timed just
before it, because the CPU a shared machine gives drifts over a run more than within a repetition.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from _common import END, TOKEN, emit

from webex_events import Event, WebexEvents
from webex_events.testing import FakeWebex

PAGE_SIZE = 1000


class ReplayTransport(httpx.BaseTransport):
    """Answers from recorded responses, recording them first through ``inner`` while it is set."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner: httpx.BaseTransport | None = inner
        self.recorded: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = str(request.url)
        if self.inner is not None:
            response = self.inner.handle_request(request)
            body = response.read()
            self.recorded[key] = (response.status_code, list(response.headers.raw), body)
            if response.status_code == 200:
                self.bodies.append(body)
        status, headers, body = self.recorded[key]  # KeyError: a request the recording never made
        return httpx.Response(status, headers=headers, content=body, request=request)


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    """CPU seconds of ``fn`` (which returns how many events it handled), after a collection."""
    gc.collect()
    t0 = time.process_time()
    count = fn()
    return time.process_time() - t0, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    start = END - timedelta(days=30)
    fake = FakeWebex(events=args.events, seed=1, end=END, start=start, token=TOKEN)
    replay = ReplayTransport(fake.transport())

    def listing(read: Callable[[Event], object]) -> int:
        n = 0
        with WebexEvents(token=TOKEN, transport=replay) as client:
            for event in client.list_events(from_=start, to=END, page_size=PAGE_SIZE, concurrency=1):
                read(event)
                n += 1
        return n

    listing(lambda event: None)  # record every page through the fake
    # Then let the fake go: its events (millions of objects at 1M) would stay in this heap, and
    # each full collection during a timed pass would walk them.
    replay.inner = None
    del fake
    gc.collect()
    pages = replay.bodies

    def json_loads() -> int:
        return sum(len(json.loads(body)["items"]) for body in pages)

    def typed(event: Event) -> object:
        return event.id, event.resource, event.created

    def raw(event: Event) -> object:
        return event.id, event.created, event.raw_json

    rows: dict[str, tuple[str, Callable[[], int]]] = {
        "typed": ("`list_events` + `.id .resource .created`", lambda: listing(typed)),
        "raw": ("`list_events` + `.id .created .raw_json` (raw export)", lambda: listing(raw)),
    }

    base_cpu: list[float] = []
    cpu: dict[str, list[float]] = {key: [] for key in rows}
    ratios: dict[str, list[float]] = {key: [] for key in rows}
    total = json_loads()
    for _ in range(args.reps):
        base, _n = timed(json_loads)
        base_cpu.append(base)
        for key, (_, fn) in rows.items():
            spent, count = timed(fn)
            if count != total:
                raise SystemExit(f"{key}: {count} events, the pages hold {total}")
            cpu[key].append(spent)
            ratios[key].append(spent / base)
    out = [
        {
            "key": "json_loads",
            "label": "`json.loads(page)` (baseline)",
            "us_per_event": min(base_cpu) / total * 1e6,
            "ratio": 1.0,
        }
    ]
    for key, (label, _) in rows.items():
        out.append(
            {
                "key": key,
                "label": label,
                "us_per_event": min(cpu[key]) / total * 1e6,
                "ratio": statistics.median(ratios[key]),
                "ratios": [round(r, 3) for r in ratios[key]],
            }
        )
    result: dict[str, Any] = {
        "events": total,
        "pages": len(pages),
        "page_size": PAGE_SIZE,
        "reps": args.reps,
        "bytes_per_event": sum(map(len, pages)) / total,
        "orjson": importlib.util.find_spec("orjson") is not None,
        "rows": out,
    }
    emit(result)


if __name__ == "__main__":
    main()
