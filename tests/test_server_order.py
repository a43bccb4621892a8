"""Exact whatever order and repeats the server's pages come in (the fake's paging knobs).

Webex documents no order for a listing's pages. Each case: every event of the range once, in
every listing mode of the library (sync and async, in process and over loopback) and of the
command (export JSONL to a file and to stdout, CSV; follow JSONL and SQLite).
"""

from __future__ import annotations

import asyncio
import csv
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _cli import run_cli

from webex_events import AsyncWebexEvents, RetryPolicy, WebexEvents
from webex_events.testing import FakeWebex

END = datetime(2024, 5, 1, tzinfo=UTC)
START = END - timedelta(days=2)
TOKEN = "tok-order-5d1c"
FAST = RetryPolicy(backoff_base=0.001, backoff_cap=0.002, max_attempts=8, seed=3)
#: Each misbehaviour of the pages that a listing must see through.
PAGINGS = {
    "shuffled": {"shuffled_pages": True},
    "newest-last": {"newest_last": True},
    "overlap": {"overlapping_pages": True},
    "repeat-in-page": {"repeated_in_page": True},
    "no-link": {"strip_link_header": True},
    "all": {"shuffled_pages": True, "overlapping_pages": True, "repeated_in_page": True},
}
#: Every way the library lists a range.
LISTINGS = {
    "unbounded": {},
    "sequential": {"from_": START, "to": END, "concurrency": 1},
    "auto": {"from_": START, "to": END},
    "auto-2": {"from_": START, "to": END, "concurrency": 2},
    "fixed": {"from_": START, "to": END, "window": timedelta(hours=6)},
}


def _fake(knobs: dict[str, bool]) -> FakeWebex:
    return FakeWebex(events=600, seed=11, start=START, end=END, token=TOKEN, **knobs)  # type: ignore[arg-type]


def _exact(got: list[str], fake: FakeWebex) -> None:
    assert len(got) == len(set(got)), "an event was delivered twice"
    assert sorted(got) == sorted(fake.expected_ids(from_=START, to=END))


@pytest.mark.parametrize("paging", sorted(PAGINGS))
@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_every_listing_is_exact_whatever_the_pages(paging: str, listing: str) -> None:
    fake = _fake(PAGINGS[paging])
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST) as client:
        got = [e.id for e in client.list_events(page_size=40, **LISTINGS[listing])]  # type: ignore[arg-type]
    _exact(got, fake)


@pytest.mark.parametrize("paging", ["shuffled", "newest-last", "all"])
def test_async_auto_windows_are_exact_whatever_the_pages(paging: str) -> None:
    fake = _fake(PAGINGS[paging])

    async def listing() -> list[str]:
        async with AsyncWebexEvents(token=TOKEN, transport=fake.async_transport(), retry=FAST) as client:
            return [e.id async for e in client.list_events(from_=START, to=END, page_size=40)]

    _exact(asyncio.run(listing()), fake)


@pytest.mark.parametrize("paging", ["shuffled", "newest-last"])
def test_follow_is_exact_whatever_the_pages(paging: str) -> None:
    fake = _fake(PAGINGS[paging])
    with WebexEvents(token=TOKEN, transport=fake.transport(), retry=FAST) as client:
        after = END + timedelta(hours=1)
        batches = list(client.follow(since=START, once=True, page_size=40, clock=lambda: after))
    _exact([e.id for b in batches for e in b.events], fake)


def test_over_loopback_auto_windows_are_exact_with_pages_out_of_order() -> None:
    fake = _fake({"shuffled_pages": True, "newest_last": True})
    with fake.serve() as url, WebexEvents(token=TOKEN, base_url=url, retry=FAST) as client:
        got = [e.id for e in client.list_events(from_=START, to=END, page_size=40)]
    _exact(got, fake)


# ------------------------------------------------------------------ the command

_RANGE = ("--from", "2024-04-29", "--to", "2024-05-01")


def _lines(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("paging", ["shuffled", "newest-last", "all", "no-link"])
def test_export_is_exact_whatever_the_pages(paging: str, tmp_path: Path) -> None:
    fake = _fake(PAGINGS[paging])
    with fake.serve() as url:
        base = ("export", "--base-url", url, *_RANGE, "--page-size", "40", "-q")
        jsonl, table = tmp_path / "out.jsonl", tmp_path / "out.csv"
        for args in ((*base, "-o", str(jsonl)), (*base, "-o", str(table))):
            r = run_cli(*args, token=TOKEN, timeout=60)
            assert r.returncode == 0, r.stderr
        stdout = run_cli(*base, "--window", "auto", token=TOKEN, timeout=60)
        assert stdout.returncode == 0, stdout.stderr
    _exact(_lines(jsonl), fake)
    with table.open(newline="", encoding="utf-8") as f:
        _exact([row["id"] for row in csv.DictReader(f)], fake)
    _exact([json.loads(line)["id"] for line in stdout.stdout.splitlines()], fake)


@pytest.mark.parametrize("paging", ["shuffled", "newest-last", "all"])
def test_follow_command_is_exact_whatever_the_pages(paging: str, tmp_path: Path) -> None:
    fake = _fake(PAGINGS[paging])
    jsonl, db = tmp_path / "f.jsonl", tmp_path / "f.db"
    with fake.serve() as url:
        for out in (jsonl, db):
            for _ in range(2):  # a second run goes on from the first's checkpoint, adding nothing
                r = run_cli(
                    "follow", "--base-url", url, "--since", "2024-04-29", "--once", "--page-size", "40",
                    "-q", "-o", str(out), token=TOKEN, timeout=60,
                )  # fmt: skip
                assert r.returncode == 0, r.stderr
    _exact(_lines(jsonl), fake)
    with sqlite3.connect(db) as conn:
        _exact([row[0] for row in conn.execute("SELECT id FROM events")], fake)


def test_export_summary_counts_bad_events_and_repeats(tmp_path: Path) -> None:
    fake = FakeWebex(
        events=600, seed=11, start=START, end=END, token=TOKEN, bad_created=3, overlapping_pages=True
    )
    out = tmp_path / "out.jsonl"
    with fake.serve() as url:
        r = run_cli(
            "export", "--base-url", url, *_RANGE, "--page-size", "40", "--concurrency", "1", "-o", str(out),
            token=TOKEN, timeout=60,
        )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    (done,) = (line for line in r.stderr.splitlines() if "done: 600 events" in line)
    assert "3 events without a readable created or id" in done
    assert "the server sent again skipped" in done
    assert sum("unreadable created" in line for line in r.stderr.splitlines()) == 3
    assert len(_lines(out)) == 600
