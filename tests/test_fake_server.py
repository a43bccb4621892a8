"""The fake over real loopback HTTP: paging, concurrency, socket faults, command line, fixtures."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from webex_events.testing import FakeWebex, Fault
from webex_events.testing.pytest_plugin import fake_webex, fake_webex_url

__all__ = ["fake_webex", "fake_webex_url"]  # imported fixtures (the lead will enable the plugin)

END = datetime(2024, 3, 1, tzinfo=UTC)


def page_all(http: httpx.Client, url: str) -> list[str]:
    ids: list[str] = []
    next_url: str | None = url
    while next_url:
        r = http.get(next_url)
        assert r.status_code == 200, r.text
        ids += [item["id"] for item in r.json()["items"]]
        next_url = r.links.get("next", {}).get("url")
    return ids


def test_paging_over_loopback(fake_webex: FakeWebex, fake_webex_url: str) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", fake_webex_url)
    headers = {"Authorization": f"Bearer {fake_webex.token}"}
    with httpx.Client(headers=headers) as http:
        first = http.get(f"{fake_webex_url}/events?max=40")
        assert first.links["next"]["url"].startswith(f"{fake_webex_url}/events?")
        assert first.headers["content-type"] == "application/json;charset=UTF-8"
        assert first.headers["TrackingID"].startswith("ROUTER_")
        ids = page_all(http, f"{fake_webex_url}/events?max=40")
        event = http.get(f"{fake_webex_url}/events/{ids[3]}")
        assert event.content == fake_webex.event_json(ids[3])
        assert http.get(f"{fake_webex_url}/events/nope").status_code == 404
        assert http.post(f"{fake_webex_url}/events", content=b"{}").status_code == 405
        assert http.get(f"{fake_webex_url}/events", headers={"Authorization": "Bearer x"}).status_code == 401
    assert ids == fake_webex.expected_ids()
    assert len(ids) == 300


def test_sixteen_concurrent_clients() -> None:
    fake = FakeWebex(events=2000, seed=4, end=END, latency=0.002)
    start = END - timedelta(days=20)
    windows = [(start + timedelta(days=i), start + timedelta(days=i + 5)) for i in range(16)]
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def worker(i: int, base_url: str) -> None:
        lo, hi = windows[i]
        params = f"from={lo.isoformat()}&to={hi.isoformat()}&max={25 + i}".replace("+", "%2B")
        try:
            with httpx.Client(headers={"Authorization": f"Bearer {fake.token}"}, timeout=30) as http:
                barrier.wait()
                results[i] = page_all(http, f"{base_url}/events?{params}")
        except BaseException as exc:
            errors.append(exc)

    with fake.serve() as base_url:
        threads = [threading.Thread(target=worker, args=(i, base_url)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors
    for i, (lo, hi) in enumerate(windows):
        assert results[i] == fake.expected_ids(from_=lo, to=hi)
        assert results[i]
    assert fake.stats.items == sum(len(r) for r in results.values())


def test_socket_faults_and_recovery() -> None:
    fake = FakeWebex(events=200, end=END, fault_rate=1.0, faults=[Fault.CONNECTION_RESET])
    with fake.serve() as base_url, httpx.Client(headers={"Authorization": f"Bearer {fake.token}"}) as http:
        with pytest.raises(httpx.TransportError):
            http.get(f"{base_url}/events")
        fake.knobs.faults = (Fault.TRUNCATED_BODY,)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.get(f"{base_url}/events")
        fake.knobs.faults = (Fault.LOCKED,)
        fake.knobs.fault_retry_after = 0.0
        r = http.get(f"{base_url}/events")
        assert (r.status_code, r.headers["Retry-After"]) == (423, "0")
        fake.knobs.fault_rate = 0.0
        assert page_all(http, f"{base_url}/events?max=60") == fake.expected_ids()
    assert fake.stats.faults == 3


def test_keep_alive_reuses_one_connection() -> None:
    fake = FakeWebex(events=300, end=END)
    with fake.serve() as base_url:
        host, port = base_url.split("//")[1].split("/")[0].split(":")
        with socket.create_connection((host, int(port))) as sock:
            request = (
                f"GET /v1/events?max=5 HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {fake.token}\r\n\r\n"
            )
            stream = sock.makefile("rb")
            for _ in range(3):
                sock.sendall(request.encode())
                status = stream.readline()
                assert status.startswith(b"HTTP/1.1 200")
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                assert len(stream.read(length)) == length
    assert fake.stats.requests == 3


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    fake = FakeWebex(events=10, end=END)
    try:
        ctx = fake.serve(host="::1")
        base_url = ctx.__enter__()
    except OSError:
        pytest.skip("::1 not available")
    try:
        assert base_url.startswith("http://[::1]:")
        r = httpx.get(f"{base_url}/events", headers={"Authorization": f"Bearer {fake.token}"})
        assert len(r.json()["items"]) == 10
    finally:
        ctx.__exit__(None, None, None)


def test_command_line_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "webex_events.testing", "--events", "120", "--seed", "3", "--token", "t0k",
         "--days", "2", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url)
        with httpx.Client(headers={"Authorization": "Bearer t0k"}, timeout=10) as http:
            assert len(page_all(http, f"{base_url}/events?max=50")) == 120
            assert http.get(f"{base_url}/events", headers={"Authorization": "Bearer x"}).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
