"""The fake's misbehaviour knobs, fetched raw with plain httpx: each does what it says, no more.

Pages out of order, cursor overlaps, duplicates in a page, stripped Link headers, bodies
mislabelled gzip, bad ``created`` values, missing and shared ids, a very deep, a very large and
a lone-surrogate event; and the fake server's command lines, which print a token only when the
fake made it up.
"""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import _cli
import httpx
import pytest
from click.testing import CliRunner

import webex_events.testing.__main__ as module_main
from webex_events.testing import Damage, FakeWebex
from webex_events.testing import _command as command

END = datetime(2024, 3, 1, tzinfo=UTC)
BASE = "https://webexapis.com/v1"
NOT_A_DATE = "2025-13-45T99:99:99.999Z"


def client(fake: FakeWebex) -> httpx.Client:
    return httpx.Client(transport=fake.transport(), headers={"Authorization": f"Bearer {fake.token}"})


def raw_pages(http: httpx.Client, url: str) -> list[httpx.Response]:
    """Every page of a listing, following the next links."""
    pages = [http.get(url)]
    while "next" in pages[-1].links:
        assert len(pages) < 1000, "the next links go round in circles"
        pages.append(http.get(pages[-1].links["next"]["url"]))
    assert [r.status_code for r in pages] == [200] * len(pages), pages[-1].text
    return pages


def page_items(http: httpx.Client, url: str) -> list[list[dict[str, Any]]]:
    return [r.json()["items"] for r in raw_pages(http, url)]


def ranks(fake: FakeWebex, page: list[dict[str, Any]], **query: Any) -> list[int]:
    """Each event's place in the true listing (0: newest)."""
    order = {event_id: n for n, event_id in enumerate(fake.expected_ids(**query))}
    return [order[item["id"]] for item in page]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def depth(raw: bytes) -> int:
    """How deep the objects and arrays of a JSON text nest (without parsing it)."""
    deepest = level = 0
    in_string = escaped = False
    for char in raw.decode():
        if in_string:
            escaped = not escaped and char == "\\"
            in_string = escaped or char != '"'
        elif char == '"':
            in_string = True
        elif char in "{[":
            level += 1
            deepest = max(deepest, level)
        elif char in "}]":
            level -= 1
    return deepest


# ------------------------------------------------------------------------------ paging misbehaviours


def test_shuffled_pages_are_each_newest_first_but_out_of_order() -> None:
    fake = FakeWebex(events=300, seed=5, end=END, shuffled_pages=True)
    with client(fake) as http:
        pages = page_items(http, f"{BASE}/events?max=40")
    assert [len(p) for p in pages] == [40] * 7 + [20]  # full pages; the last one served is short
    placed = [ranks(fake, page) for page in pages]
    assert all(r == sorted(r) for r in placed)  # each page newest first
    firsts = [r[0] for r in placed]
    assert firsts != sorted(firsts)  # but the pages are not in order
    served = [item["id"] for page in pages for item in page]
    assert sorted(served) == sorted(fake.expected_ids())  # every event exactly once
    with client(FakeWebex(events=300, seed=5, end=END, shuffled_pages=True)) as http:
        again = page_items(http, f"{BASE}/events?max=40")
    assert again == pages  # a fixed order, drawn from the seed


def test_shuffled_pages_keep_ranges_and_filters() -> None:
    fake = FakeWebex(events=600, seed=2, end=END, shuffled_pages=True)
    lo, hi = END - timedelta(days=20), END - timedelta(days=5)
    query = {"from_": lo, "to": hi, "resource": "messages"}
    with client(fake) as http:
        pages = page_items(http, f"{BASE}/events?max=15&resource=messages&from={iso(lo)}&to={iso(hi)}")
    expected = fake.expected_ids(**query)
    assert len(pages) == -(-len(expected) // 15) > 2
    assert sorted(item["id"] for page in pages for item in page) == sorted(expected)
    assert all(r == sorted(r) for r in (ranks(fake, page, **query) for page in pages))


def test_overlapping_pages_repeat_the_last_event_of_the_page_before() -> None:
    fake = FakeWebex(events=200, seed=3, end=END, overlapping_pages=True)
    with client(fake) as http:
        pages = page_items(http, f"{BASE}/events?max=30")
    ids = [[item["id"] for item in page] for page in pages]
    assert all(len(page) == 30 for page in ids[:-1])
    for before, page in itertools.pairwise(ids):
        assert page[0] == before[-1]  # the cursor's own event again
        assert page[0] not in page[1:]
    served = [i for page in ids for i in page]
    assert list(dict.fromkeys(served)) == fake.expected_ids()  # in order, nothing lost
    assert len(served) - len(set(served)) == len(ids) - 1


def test_repeated_in_page_holds_one_event_twice() -> None:
    fake = FakeWebex(events=100, seed=4, end=END, repeated_in_page=True)
    with client(fake) as http:
        pages = page_items(http, f"{BASE}/events?max=25")
    twice = [[i for i, n in Counter(item["id"] for item in page).items() if n == 2] for page in pages]
    assert all(len(found) == 1 for found in twice)
    assert all(len(page) == 25 for page in pages[:-1])
    items = [item for page in pages for item in page]
    assert list(dict.fromkeys(item["id"] for item in items)) == fake.expected_ids()
    doubles = [item for item in items if item["id"] in {found[0] for found in twice}]
    assert all(doubles.count(item) == 2 for item in doubles)  # the same event, byte for byte


def test_paging_misbehaviours_together_still_visit_every_event() -> None:
    fake = FakeWebex(
        events=400, seed=9, end=END, shuffled_pages=True, overlapping_pages=True, repeated_in_page=True
    )
    lo = END - timedelta(days=12)
    with client(fake) as http:
        pages = page_items(http, f"{BASE}/events?max=10&from={iso(lo)}")
        tiny = page_items(http, f"{BASE}/events?max=2&from={iso(lo)}")  # too small for both
    expected = fake.expected_ids(from_=lo)
    for listing in (pages, tiny):
        assert {item["id"] for page in listing for item in page} == set(expected)
        assert all(len(page) <= len(listing[0]) for page in listing)
        assert all(r == sorted(r) for r in (ranks(fake, page, from_=lo) for page in listing))
    assert sum(map(len, tiny)) == len(expected)  # max=2 leaves the duplicates out


def test_stripped_link_header_ends_a_full_page_without_a_next_link() -> None:
    fake = FakeWebex(events=120, seed=1, end=END, strip_link_header=True)
    with client(fake) as http:
        first = http.get(f"{BASE}/events?max=50")
        assert len(first.json()["items"]) == 50
        assert "link" not in first.headers
        fake.knobs.strip_link_header = False  # a knob of the running fake
        assert "next" in http.get(f"{BASE}/events?max=50").links


def test_false_gzip_labels_a_share_of_plain_bodies() -> None:
    def labels(fake: FakeWebex) -> list[bool]:
        out = []
        with client(fake) as http:
            for _ in range(40):
                with http.stream("GET", f"{BASE}/events?max=5") as r:
                    labelled = r.headers.get("content-encoding") == "gzip"
                    body = b"".join(r.iter_raw()) if labelled else r.read()
                    assert len(json.loads(body)["items"]) == 5  # the body is plain JSON
                    out.append(labelled)
        return out

    fake = FakeWebex(events=20, seed=6, end=END, false_gzip_rate=0.4)
    seen = labels(fake)
    assert 6 <= sum(seen) <= 26
    assert fake.stats.false_gzip == sum(seen)
    assert labels(FakeWebex(events=20, seed=6, end=END, false_gzip_rate=0.4)) == seen  # from the seed
    fake.knobs.false_gzip_rate = 1.0
    with client(fake) as http, pytest.raises(httpx.DecodingError):
        http.get(f"{BASE}/events/{fake.expected_ids()[0]}")


def test_misbehaviours_over_loopback() -> None:
    fake = FakeWebex(
        events=150, seed=8, end=END, shuffled_pages=True, false_gzip_rate=1.0, bad_created=2, deep_event=300
    )
    with fake.serve() as base_url, httpx.Client(headers={"Authorization": f"Bearer {fake.token}"}) as http:
        with pytest.raises(httpx.DecodingError):
            http.get(f"{base_url}/events")
        fake.knobs.false_gzip_rate = 0.0
        pages = raw_pages(http, f"{base_url}/events?max=40")
    assert all(r.links.get("next", {}).get("url", base_url).startswith(base_url) for r in pages)
    served = [item["id"] for r in pages for item in r.json()["items"]]
    assert sorted(served) == sorted(fake.expected_ids())
    assert served != fake.expected_ids()
    assert max(depth(r.content) for r in pages) == 300 + 4  # page, items, event, data


# ------------------------------------------------------------------------------ bad data


def test_bad_created_values_and_their_true_place() -> None:
    fake = FakeWebex(events=200, seed=7, end=END, bad_created=8)
    damaged = fake.damaged
    assert Counter(d.kind for d in damaged.values()) == {
        "created-not-a-date": 2,
        "created-missing": 2,
        "created-null": 2,
        "created-yesterday": 2,
    }
    with client(fake) as http:
        served = {item["id"]: item for page in page_items(http, f"{BASE}/events?max=1000") for item in page}
        assert list(served) == fake.expected_ids()
        for event_id, damage in damaged.items():
            event = served[event_id]
            assert damage == Damage(damage.kind, event_id)
            expected = {
                "created-not-a-date": NOT_A_DATE,
                "created-null": None,
                "created-yesterday": "yesterday",
            }
            if damage.kind == "created-missing":
                assert "created" not in event
            else:
                assert event["created"] == expected[damage.kind]
            # Served by a query whose range holds its true time, one millisecond wide.
            true_time = fake.visible_at(event_id)
            assert true_time is not None
            window = f"from={iso(true_time)}&to={iso(true_time + timedelta(milliseconds=1))}"
            assert event_id in [item["id"] for item in http.get(f"{BASE}/events?{window}").json()["items"]]
    clean = [e for e in served.values() if e["id"] not in damaged]
    assert all(datetime.fromisoformat(e["created"]) for e in clean)
    assert len(FakeWebex(events=200, seed=7, end=END, bad_created=0.1).damaged) == 20  # a fraction


def test_missing_and_empty_ids() -> None:
    fake = FakeWebex(events=80, seed=2, end=END, missing_ids=4)
    with client(fake) as http:
        items = page_items(http, f"{BASE}/events?max=1000")[0]
    assert len(items) == 80
    assert sum("id" not in item for item in items) == 2
    assert sum(item.get("id") == "" for item in items) == 2
    assert items == fake.events
    for true_id, item in zip(fake.expected_ids(), items, strict=True):  # each in its true place
        damage = fake.damaged.get(true_id)
        if damage is None:
            assert item["id"] == true_id
        else:
            assert item.get("id") == damage.served_id
            assert ("id" in item) is (damage.kind == "id-empty")


def test_two_events_share_one_id() -> None:
    fake = FakeWebex(events=150, seed=11, end=END, shared_ids=2)
    pairs = [d.served_id for d in fake.damaged.values()]
    assert len(set(pairs)) == 2
    assert Counter(pairs) == dict.fromkeys(set(pairs), 2)
    with client(fake) as http:
        items = page_items(http, f"{BASE}/events?max=1000")[0]
    twins: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        twins.setdefault(item["id"], []).append(item)
    doubled = {i: events for i, events in twins.items() if len(events) > 1}
    assert set(doubled) == set(pairs)
    for a, b in doubled.values():
        assert a["created"] != b["created"]
        assert a["data"] != b["data"]


def test_deep_event() -> None:
    fake = FakeWebex(events=40, seed=1, end=END, deep_event=5000)
    [(event_id, damage)] = fake.damaged.items()
    assert damage.kind == "deep"
    with client(fake) as http:
        raw = http.get(f"{BASE}/events/{event_id}").content
        page = http.get(f"{BASE}/events?max=100").content
    assert raw == fake.event_json(event_id)
    assert depth(raw) == 5000 + 2  # the event, its data, then the nested objects
    assert raw in page
    node = next(e for e in fake.events if e["id"] == event_id)["data"]
    for _ in range(5000):
        node = node["nested"]
    assert node == {}


def test_large_event() -> None:
    fake = FakeWebex(events=30, seed=3, end=END, large_event=300_000)
    [(event_id, damage)] = fake.damaged.items()
    assert damage.kind == "large"
    with client(fake) as http:
        event = http.get(f"{BASE}/events/{event_id}")
        page = http.get(f"{BASE}/events")
    assert 300_000 < len(event.content) < 300_100
    assert len(page.content) > 300_000
    assert event.json()["id"] == event_id
    assert max(len(json.dumps(e)) for e in page.json()["items"] if e["id"] != event_id) < 10_000


def test_lone_surrogate_in_data_text() -> None:
    fake = FakeWebex(events=30, seed=4, end=END, lone_surrogate=True)
    [(event_id, damage)] = fake.damaged.items()
    assert damage.kind == "lone-surrogate"
    with client(fake) as http:
        raw = http.get(f"{BASE}/events/{event_id}").content
        page = http.get(f"{BASE}/events").content
    assert b"\\ud800" in raw
    assert raw in page
    raw.decode("utf-8")  # valid UTF-8: only the JSON escape is wrong
    text = json.loads(raw)["data"]["text"]
    assert "\ud800" in text
    with pytest.raises(UnicodeEncodeError):
        text.encode()


def test_damage_is_drawn_from_the_seed_on_distinct_events() -> None:
    options: dict[str, Any] = {
        "bad_created": 5,
        "missing_ids": 3,
        "shared_ids": 2,
        "deep_event": 50,
        "large_event": 2000,
        "lone_surrogate": True,
    }
    fake = FakeWebex(events=100, seed=12, end=END, **options)
    assert len(fake.damaged) == 5 + 3 + 2 * 2 + 3  # one damage an event
    assert fake.damaged == FakeWebex(events=100, seed=12, end=END, **options).damaged
    assert fake.damaged != FakeWebex(events=100, seed=13, end=END, **options).damaged
    assert FakeWebex(events=100, seed=12, end=END).damaged == {}
    for wrong in ({"bad_created": 101}, {"missing_ids": 1.5}, {"shared_ids": -1}, {"deep_event": -1}):
        with pytest.raises(ValueError, match=r"bad_created|missing_ids|shared_ids|deep_event|takes"):
            FakeWebex(events=100, end=END, **wrong)
    with pytest.raises(ValueError, match="false_gzip_rate"):
        FakeWebex(events=10, end=END, false_gzip_rate=2.0)


# ------------------------------------------------------------------------------ command lines


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeWebex]]:
    """The fakes the command lines would serve (run_server announces, then returns at once).

    The command sets up the library's logger for its process: put it back for the other tests.
    """
    fakes: list[FakeWebex] = []
    logger = logging.getLogger("webex_events")
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level

    def run_server(fake: FakeWebex, **kwargs: Any) -> None:
        fakes.append(fake)
        announce = kwargs.get("announce")
        if announce is not None:
            announce("http://127.0.0.1:1/v1")

    monkeypatch.setattr(command, "run_server", run_server)
    monkeypatch.setattr(module_main, "run_server", run_server)
    yield fakes
    logger.handlers, logger.propagate = handlers, propagate
    logger.setLevel(level)


def test_fake_server_misbehave_option(served: list[FakeWebex]) -> None:
    argv = ["--events", "50", "--misbehave", "shuffled-pages", "--misbehave", "bad-created=0.1",
            "--misbehave", "deep-event", "--misbehave", "large-event=4096"]  # fmt: skip
    result = CliRunner().invoke(command.fake_server, argv, env={"WEBEX_ACCESS_TOKEN": None})
    assert result.exit_code == 0, result.output
    [fake] = served
    assert fake.knobs.shuffled_pages
    kinds = Counter(d.kind for d in fake.damaged.values())
    assert kinds == {
        "created-not-a-date": 2,
        "created-missing": 1,
        "created-null": 1,
        "created-yesterday": 1,
        "deep": 1,
        "large": 1,
    }
    for wrong in ("colour", "large-event", "shuffled-pages=yes", "bad-created=many", "bad-created=900"):
        result = CliRunner().invoke(command.fake_server, ["--events", "50", "--misbehave", wrong])
        assert result.exit_code == 2, (wrong, result.output)
        assert "Traceback" not in result.output


def test_module_misbehave_option(served: list[FakeWebex], capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        module_main.main(["--events", "40", "--misbehave", "missing-ids", "--misbehave", "strip-link-header"])
        == 0
    )
    [fake] = served
    assert fake.knobs.strip_link_header
    assert sorted(d.kind for d in fake.damaged.values()) == ["id-empty", "id-missing"]
    with pytest.raises(SystemExit) as stopped:
        module_main.main(["--misbehave", "colour=red"])
    assert stopped.value.code == 2
    assert "unknown misbehaviour 'colour'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "env", "shown"),
    [
        ([], {"WEBEX_ACCESS_TOKEN": "real-token-from-env"}, False),
        (["--token", "real-token-given"], {"WEBEX_ACCESS_TOKEN": None}, False),
        ([], {"WEBEX_ACCESS_TOKEN": None}, True),
    ],
)
def test_fake_server_prints_only_a_token_it_made_up(
    served: list[FakeWebex], argv: list[str], env: dict[str, str | None], shown: bool
) -> None:
    result = CliRunner().invoke(command.fake_server, ["--events", "5", *argv], env=env)
    assert result.exit_code == 0, result.output
    [fake] = served
    assert (fake.token in result.output) is shown
    if shown:
        assert fake.token == "fake-token"
        assert "WEBEX_ACCESS_TOKEN=fake-token" in result.output
    assert "export WEBEX_BASE_URL=http://127.0.0.1:1/v1" in result.output


def test_module_prints_only_a_token_it_made_up(
    served: list[FakeWebex], capsys: pytest.CaptureFixture[str]
) -> None:
    module_main.main(["--events", "5", "--token", "real-token-given"])
    module_main.main(["--events", "5"])
    said = capsys.readouterr().err
    assert [fake.token for fake in served] == ["real-token-given", "fake-token"]
    assert "real-token-given" not in said
    assert "token 'fake-token'" in said


def test_fake_server_process_keeps_an_exported_token_to_itself() -> None:
    argv = ["fake-server", "--events", "30", "--misbehave", "strip-link-header"]
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    env = _cli.cli_env("my-real-token-9f3a")
    with subprocess.Popen([sys.executable, "-m", "webex_events.cli", *argv], env=env, **pipes) as proc:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        try:
            auth = {"Authorization": "Bearer my-real-token-9f3a"}
            page = httpx.get(f"{base_url}/events?max=10", headers=auth)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=10)
    assert page.status_code == 200
    assert len(page.json()["items"]) == 10
    assert "link" not in page.headers
    assert "my-real-token-9f3a" not in out + err
    assert f"export WEBEX_BASE_URL={base_url}" in err
