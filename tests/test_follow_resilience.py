"""``follow`` as a daemon that runs for months: outages, a token changed on disk, log rotation.

Over loopback a relay (:class:`Relay`) stands between the command and the fake: taken down it
refuses connections and cuts the open ones, as a server or network gone away does, and it comes
back on the same port. In process, the fake's fault knobs make it answer 5xx, 429, resets and
cut bodies for a while. Every run ends with the sink checked exactly: each event created since
``--since`` and before the committed high-water mark, once. Also: ``--give-up-after`` (and
``--once``'s default), the 401 that re-reads ``--token-file`` (once per change), logrotate's
``create``, ``nocreate`` and ``copytruncate`` between and during runs, the output suffix refused
before any request, and the rate of the progress line over a real interval.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _cli import cli_env, run_cli
from _hostile import Answer, hostile_server

from webex_events import RetryPolicy, WebexEvents
from webex_events.cli._errors import EXIT_API, EXIT_AUTH, EXIT_USAGE, CliError
from webex_events.cli._follow import FollowRequest, run_follow, sink_kind
from webex_events.cli._sinks import follow_state_path
from webex_events.testing import FakeWebex

TOKEN = "tok-SECRET-resilience-5c1e"
# Quick polls, a short backoff and one retry per request: an outage of seconds is many failures.
FAST = ["--lag", "1s", "--overlap", "3s", "--reconcile-horizon", "1m", "--reconcile-interval", "1h"]
FAST += ["--page-size", "100", "--concurrency", "1", "--max-backoff", "0.3s"]
DAEMON = [*FAST, "--poll-interval", "0.5s"]
RETRIES = {"WEBEX_EVENTS_MAX_ATTEMPTS": "2"}


# ------------------------------------------------------------------------------------- helpers


class Relay:
    """A TCP relay on 127.0.0.1 in front of ``upstream``: ``down()`` refuses new connections and
    cuts the open ones (a server that went away); ``up()`` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.up()

    def url(self, path: str = "/v1") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def up(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        assert listener is not None
        listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # went down meanwhile
                    client.close()
                    server.close()
                    return
                self._open |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def _served(**knobs: object) -> Iterator[tuple[FakeWebex, Relay]]:
    """A live fake (every event visible at its ``created``) on loopback, behind a relay."""
    fake = FakeWebex.live(
        rate=900, history=timedelta(minutes=2), duration=timedelta(minutes=30), late=(), token=TOKEN, **knobs
    )
    with fake.serve() as url:
        host, port = url.split("//")[1].split("/")[0].split(":")
        relay = Relay((host, int(port)))
        try:
            yield fake, relay
        finally:
            if relay._listener is not None:
                relay.down()


def _checkpoint(sink: Path) -> dict[str, object] | None:
    state = follow_state_path(sink)
    if not state.exists():
        return None
    return dict(json.loads(json.loads(state.read_bytes())["current"]["checkpoint"]))


def _high_water(sink: Path) -> datetime:
    cp = _checkpoint(sink)
    assert cp is not None
    return datetime.fromisoformat(str(cp["high_water"]))


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _committed_past(sink: Path, instant: datetime) -> Callable[[], bool]:
    """The sink's committed high-water mark is past ``instant``."""
    return lambda: _checkpoint(sink) is not None and _high_water(sink) > instant


def _lines(*files: Path) -> list[str]:
    return [json.loads(line)["id"] for f in files if f.exists() for line in f.read_bytes().splitlines()]


def _assert_exact(fake: FakeWebex, since: datetime, sink: Path, *rotated: Path) -> int:
    """Each event created in [since, the committed high-water mark) is in the files once, and
    nothing else is; the number of events."""
    ids = _lines(*rotated, sink)
    assert len(ids) == len(set(ids)), "an event was written twice"
    expected = set(fake.expected_ids(from_=since, to=_high_water(sink)))
    assert set(ids) == expected, f"{len(expected - set(ids))} missing, {len(set(ids) - expected)} extra"
    cp = _checkpoint(sink)
    assert cp is not None
    assert cp["delivered"] == len(ids)
    return len(ids)


def _follow_args(url: str, sink: Path, since: datetime, *extra: str) -> list[str]:
    return ["follow", "--base-url", url, "-o", str(sink), "--since", since.isoformat(), *extra]


def _popen(
    args: list[str], *, token: str | None = TOKEN, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "webex_events.cli", *args],
        env=cli_env(token, {**RETRIES, **(env or {})}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return out, err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _no_secrets(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text


# ------------------------------------------------------------------------------------- outages


@pytest.mark.parametrize("suffix", [".jsonl", ".db"])
def test_a_server_gone_for_seconds_is_outlived_with_every_event_once(tmp_path: Path, suffix: str) -> None:
    """The relay goes down for 5 s (refused connections, open ones cut): follow keeps retrying,
    says how long it has been failing, and once it is back continues from its checkpoint."""
    sink = tmp_path / f"events{suffix}"
    with _served() as (fake, relay):
        since = fake.now() - timedelta(minutes=1)
        proc = _popen(_follow_args(relay.url(), sink, since, *DAEMON))
        probe = _probe(sink)
        _wait(lambda: probe() is not None, "a first commit")
        relay.down()
        gone = datetime.now(UTC)
        time.sleep(5)
        assert proc.poll() is None, "follow gave up during the outage"
        relay.up()
        _wait(lambda: (hw := probe()) is not None and hw > gone + timedelta(seconds=2), "a commit after it")
        _, err = _stop(proc)
    assert re.search(r"failing for \d", err), err
    assert "next attempt in" in err
    assert "recovered after" in err
    _no_secrets([err], TOKEN)
    if suffix == ".db":
        _assert_exact_db(fake, since, sink)
    else:
        assert _assert_exact(fake, since, sink) > 500


def _probe(sink: Path) -> Callable[[], datetime | None]:
    """The committed high-water mark of a .jsonl or SQLite sink (None before the first commit)."""

    def read() -> datetime | None:
        if sink.suffix != ".db":
            return _high_water(sink) if _checkpoint(sink) is not None else None
        import sqlite3  # noqa: PLC0415

        if not sink.exists():
            return None
        try:
            with contextlib.closing(sqlite3.connect(f"file:{sink}?mode=ro", uri=True, timeout=0.1)) as db:
                row = db.execute("SELECT value FROM follow_state WHERE name = 'checkpoint'").fetchone()
        except sqlite3.Error:
            return None
        return None if row is None else datetime.fromisoformat(json.loads(row[0])["high_water"])

    return read


def _assert_exact_db(fake: FakeWebex, since: datetime, sink: Path) -> None:
    import sqlite3  # noqa: PLC0415

    mark = _probe(sink)()
    assert mark is not None
    with contextlib.closing(sqlite3.connect(sink)) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM events")]
        (cp,) = db.execute("SELECT value FROM follow_state WHERE name = 'checkpoint'").fetchone()
    assert set(ids) == set(fake.expected_ids(from_=since, to=mark))
    assert json.loads(cp)["delivered"] == len(ids)  # none was delivered twice (OR IGNORE hides it)


def test_5xx_429_resets_and_cut_bodies_for_a_while_are_outlived_in_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The fake answers nothing but faults for 2 s (after the library's own retries gave up):
    follow waits and retries from its last checkpoint, and the sink is exact."""
    sink = tmp_path / "events.jsonl"
    fake = FakeWebex.live(
        rate=1200,
        history=timedelta(minutes=1),
        duration=timedelta(minutes=30),
        late=(),
        token=TOKEN,
        faults=["500", "502", "503", "429", "reset", "truncated"],
        fault_retry_after=0.05,
    )
    since = fake.now() - timedelta(minutes=1)
    req = _request(sink, since, poll_interval=timedelta(seconds=0.2))
    retry = RetryPolicy(max_attempts=2, backoff_base=0.01, retry_after_cap=0.05)
    started = time.monotonic()
    marks: list[datetime] = []

    def outage() -> None:
        fake.knobs.fault_rate = 1.0
        time.sleep(2)
        fake.knobs.fault_rate = 0.0

    timer = threading.Timer(1.0, outage)

    def sleep(seconds: float) -> None:
        if _checkpoint(sink) is not None:
            marks.append(_high_water(sink))
        if time.monotonic() - started > 5:
            raise KeyboardInterrupt  # as SIGTERM: the commit done, stop
        time.sleep(seconds)

    timer.start()
    caplog.set_level(logging.WARNING, logger="webex_events")
    try:
        stopped = run_follow(
            req, lambda: WebexEvents(token=TOKEN, transport=fake.transport(), retry=retry), sleep=sleep
        )
    finally:
        timer.join()
    assert stopped
    failing = [r.getMessage() for r in caplog.records if "failing for" in r.getMessage()]
    assert failing, "no status line while it failed"
    assert any("recovered after" in r.getMessage() for r in caplog.records)
    assert fake.stats.faults > 5
    assert marks[-1] > since + timedelta(seconds=63), "no progress after the outage"
    _assert_exact(fake, since, sink)


def _request(sink: Path, since: datetime, **changes: object) -> FollowRequest:
    fields: dict[str, object] = {
        "filters": {},
        "since": since,
        "lag": timedelta(seconds=0.5),
        "poll_interval": timedelta(seconds=0.5),
        "overlap": timedelta(seconds=3),
        "reconcile_horizon": timedelta(minutes=1),
        "reconcile_interval": timedelta(hours=1),
        "once": False,
        "page_size": 100,
        "concurrency": 2,
        "kind": sink_kind(str(sink), None),
        "output": sink,
        "checkpoint_file": None,
        "quiet": True,
        "max_backoff": 0.1,
    }
    fields.update(changes)
    return FollowRequest(**fields)  # type: ignore[arg-type]


def test_give_up_after_bounds_an_outage_and_once_gives_up_at_once(tmp_path: Path) -> None:
    """Nothing listens: --give-up-after 2s exits 4 after about that long of status lines (also
    from its environment variable); --once alone exits 4 after the request's own retries."""
    url = f"http://127.0.0.1:{_free_port()}/v1"
    sink = tmp_path / "events.jsonl"
    since = ["--since", "1h"]
    started = time.monotonic()
    r = run_cli("follow", "--base-url", url, "-o", str(sink), *since, *FAST, "--give-up-after", "2s",
                token=TOKEN, env=RETRIES)  # fmt: skip
    took = time.monotonic() - started
    assert r.returncode == EXIT_API, r.stderr
    assert took >= 2
    status = [line for line in r.stderr.splitlines() if "failing for" in line]
    assert len(status) >= 2, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "error:" in last
    assert "WebexConnectionError" in last
    assert "--give-up-after 2.0s" in last

    env = {**RETRIES, "WEBEX_EVENTS_GIVE_UP_AFTER": "1s", "WEBEX_EVENTS_LOG_FORMAT": "json"}
    r = run_cli("follow", "--base-url", url, "-o", str(sink), *since, *FAST, token=TOKEN, env=env)
    assert r.returncode == EXIT_API, r.stderr
    records = [json.loads(line) for line in r.stderr.splitlines()]
    failing = [rec for rec in records if rec.get("event") == "failing"]
    assert failing
    assert {"failing_seconds", "attempts", "retry_in_seconds", "error_type"} <= set(failing[0])
    assert records[-1]["event"] == "error"

    r = run_cli(
        "follow", "--base-url", url, "-o", str(sink), *since, *FAST, "--once", token=TOKEN, env=RETRIES
    )
    assert r.returncode == EXIT_API, r.stderr
    assert "failing for" not in r.stderr
    assert "--give-up-after" not in r.stderr


def test_a_signal_during_the_wait_between_attempts_stops_it_at_once(tmp_path: Path) -> None:
    """SIGTERM while it waits out a backoff: exit 0 without sleeping the wait to its end."""
    url = f"http://127.0.0.1:{_free_port()}/v1"
    args = ["follow", "--base-url", url, "-o", str(tmp_path / "e.jsonl"), "--since", "1h", *FAST]
    proc = _popen(
        [*args, "--max-backoff", "1m", "--log-format", "json"], env={"WEBEX_EVENTS_MAX_ATTEMPTS": "1"}
    )
    assert proc.stderr is not None
    wait = 0.0
    for line in proc.stderr:
        record = json.loads(line)
        if record.get("event") == "failing" and record["retry_in_seconds"] >= 3:
            wait = record["retry_in_seconds"]
            break
    assert wait, "no long wait between attempts"
    sent = time.monotonic()
    _, err = _stop(proc)
    assert time.monotonic() - sent < wait
    assert '"event": "stopped"' in err


def test_once_with_give_up_after_rides_out_an_outage(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    with _served() as (fake, relay):
        since = fake.now() - timedelta(minutes=1)
        relay.down()
        threading.Timer(2.0, relay.up).start()
        r = run_cli(*_follow_args(relay.url(), sink, since, *FAST, "--once", "--give-up-after", "1m"),
                    token=TOKEN, env=RETRIES)  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert "failing for" in r.stderr
        assert _assert_exact(fake, since, sink) > 500


@pytest.mark.parametrize("status", [403, 400])
def test_errors_that_are_not_transient_still_exit_at_once(tmp_path: Path, status: int) -> None:
    """A 403 is exit 3 and a 400 exit 4 on the first poll, outage retries or not."""

    def answer(number: int, path: str, headers: dict[str, str]) -> Answer:
        return Answer(status=status, body=b'{"message":"no","trackingId":"T-1"}')

    with hostile_server(answer) as server:
        r = run_cli("follow", "--base-url", server.base_url, "-o", str(tmp_path / "e.jsonl"), "--since", "1h",
                    *FAST, token=TOKEN, timeout=30)  # fmt: skip
        assert len(server.requests) == 1
    assert r.returncode == (EXIT_AUTH if status == 403 else EXIT_API), r.stderr
    assert "failing for" not in r.stderr


# ------------------------------------------------------------------------------------- the token


def _write_token(path: Path, token: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(token + "\n")
    tmp.replace(path)


def test_a_token_changed_in_token_file_is_read_after_a_401_once_per_change(tmp_path: Path) -> None:
    """The file gets a new token, then the server stops taking the old one: follow continues with
    the new one. The server then takes a third one the file does not hold: exit 3. No token in
    any output, log line or file."""
    old, new, third = "tok-OLD-aaaa-1111", "tok-NEW-bbbb-2222", "tok-THIRD-cccc-3333"
    token_file = tmp_path / "token"
    _write_token(token_file, old)
    sink = tmp_path / "events.jsonl"
    with _served() as (fake, relay):
        fake.knobs.token = old
        since = fake.now() - timedelta(minutes=1)
        proc = _popen(
            _follow_args(relay.url(), sink, since, *DAEMON, "--token-file", str(token_file)), token=None
        )
        _wait(_committed_past(sink, since), "a first commit")
        _write_token(token_file, new)
        fake.knobs.token = new
        switched = datetime.now(UTC)
        _wait(_committed_past(sink, switched + timedelta(seconds=1)), "a commit with the new token")
        assert proc.poll() is None
        assert fake.stats.statuses[401] >= 1, "the old token was refused before the new one was used"
        fake.knobs.token = third
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == EXIT_AUTH, err
    assert "another" in err  # the line saying it continued with the new token
    assert "HTTP 401" in err.strip().splitlines()[-1]
    files = [p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file() and p != token_file]
    _no_secrets([out, err, *files], old, new, third, TOKEN)
    _assert_exact(fake, since, sink)


def test_an_unchanged_token_file_makes_a_401_the_usual_exit_3(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    _write_token(token_file, "tok-WRONG-dddd-4444")
    with _served() as (_, relay):
        r = run_cli("follow", "--base-url", relay.url(), "-o", str(tmp_path / "e.jsonl"), "--since", "1h",
                    *DAEMON, "--token-file", str(token_file), token=None, env=RETRIES)  # fmt: skip
    assert r.returncode == EXIT_AUTH, r.stderr
    assert "check the access token" in r.stderr
    assert "another" not in r.stderr
    _no_secrets([r.stdout, r.stderr], "tok-WRONG-dddd-4444")


# ------------------------------------------------------------------------------------- rotation


def _rotate(sink: Path, how: str, number: int) -> Path:
    """Rotate ``sink`` as logrotate does; the rotated file."""
    rotated = sink.with_name(f"{sink.name}.{number}")
    if how == "copytruncate":
        shutil.copyfile(sink, rotated)
        with sink.open("r+b") as fh:
            fh.truncate(0)
        return rotated
    sink.rename(rotated)
    if how == "create":
        sink.touch()
    return rotated


@pytest.mark.parametrize("how", ["create", "nocreate", "copytruncate"])
def test_a_rotation_between_runs_is_picked_up(tmp_path: Path, how: str) -> None:
    """cron-style runs with a rotation between each: no exit 2, nothing rewritten or lost, and the
    last run needs no --since after a rotation (the checkpoint is beside the output)."""
    sink = tmp_path / "events.jsonl"
    rotated: list[Path] = []
    with _served() as (fake, relay):
        since = fake.now() - timedelta(minutes=1)
        for run in range(3):
            args = _follow_args(relay.url(), sink, since, *FAST, "--once")
            if run == 2:
                args.remove("--since")
                args.remove(since.isoformat())
            r = run_cli(*args, token=TOKEN, env={**RETRIES, "WEBEX_EVENTS_LOG_LEVEL": "info"})
            assert r.returncode == 0, r.stderr
            if run:
                assert "taken for a log rotation" in r.stderr
            rotated.append(_rotate(sink, how, run + 1))
            time.sleep(1.2)
        r = run_cli(*_follow_args(relay.url(), sink, since, *FAST, "--once"), token=TOKEN, env=RETRIES)
        assert r.returncode == 0, r.stderr
        assert all(p.stat().st_size for p in rotated), "each run wrote new events"
        _assert_exact(fake, since, sink, *rotated)


def test_damage_is_still_refused(tmp_path: Path) -> None:
    """A non-empty file that is not the one follow wrote (not a rotation): exit 2, as before."""
    sink = tmp_path / "events.jsonl"
    with _served() as (fake, relay):
        since = fake.now() - timedelta(minutes=1)
        args = _follow_args(relay.url(), sink, since, *FAST, "--once")
        assert run_cli(*args, token=TOKEN).returncode == 0
        sink.rename(sink.with_name("moved.jsonl"))
        sink.write_text('{"id":"someone else"}\n')
        r = run_cli(*args, token=TOKEN)
    assert r.returncode == EXIT_USAGE, r.stderr
    assert "does not match its follow checkpoint" in r.stderr


def test_rotations_while_it_runs_are_picked_up(tmp_path: Path) -> None:
    """A running follow: moved and created anew, moved away, copied and truncated (the copy and
    the truncation made while the follow is stopped, so that logrotate's own copytruncate race,
    a write between its copy and its truncation, cannot happen), each between polls."""
    sink = tmp_path / "events.jsonl"
    rotated: list[Path] = []
    with _served() as (fake, relay):
        since = fake.now() - timedelta(minutes=1)
        proc = _popen(_follow_args(relay.url(), sink, since, *DAEMON), env={"WEBEX_EVENTS_LOG_LEVEL": "info"})
        for number, how in enumerate(["create", "copytruncate", "nocreate", "copytruncate", "create"], 1):
            mark = _high_water(sink) if _checkpoint(sink) is not None else since
            _wait(_committed_past(sink, mark + timedelta(seconds=1)), f"a commit before rotation {number}")
            if how == "copytruncate":
                os.kill(proc.pid, signal.SIGSTOP)
                try:
                    rotated.append(_rotate(sink, how, number))
                finally:
                    os.kill(proc.pid, signal.SIGCONT)
            else:
                rotated.append(_rotate(sink, how, number))
            assert proc.poll() is None
        mark = _high_water(sink)
        _wait(_committed_past(sink, mark + timedelta(seconds=1)), "a commit after the last rotation")
        _, err = _stop(proc)
    assert err.count("taken for a log rotation") >= len(rotated), err
    assert sink.stat().st_size > 0
    assert _assert_exact(fake, since, sink, *rotated) > 500


def test_an_output_replaced_by_a_non_empty_file_while_it_runs_stops_it(tmp_path: Path) -> None:
    sink = tmp_path / "events.jsonl"
    with _served() as (fake, relay):
        since = fake.now() - timedelta(minutes=1)
        proc = _popen(_follow_args(relay.url(), sink, since, *DAEMON))
        _wait(_committed_past(sink, since), "a first commit")
        sink.rename(tmp_path / "moved.jsonl")
        sink.write_text('{"id":"someone else"}\n')
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "replaced by another file, not empty" in err
    assert sink.read_text() == '{"id":"someone else"}\n'


# ------------------------------------------------------------------------------------- usage


@pytest.mark.parametrize("name", ["x.csv", "x.parquet", "x.jsonl.gz"])
def test_an_output_suffix_follow_does_not_write_is_refused_before_any_request(
    tmp_path: Path, name: str
) -> None:
    def answer(number: int, path: str, headers: dict[str, str]) -> Answer:
        return Answer()

    with hostile_server(answer) as server:
        r = run_cli("follow", "--base-url", server.base_url, "-o", str(tmp_path / name), "--since", "1h",
                    "--once", token=TOKEN)  # fmt: skip
        assert server.requests == []
    assert r.returncode == EXIT_USAGE, r.stderr
    assert "follow writes JSON Lines (.jsonl) or SQLite" in r.stderr
    assert "--format jsonl" in r.stderr
    assert not (tmp_path / name).exists()
    if name.endswith(".csv"):
        assert "CSV is for `export`" in r.stderr


def test_format_jsonl_writes_any_name_and_known_suffixes_pass() -> None:
    assert sink_kind("x.csv", "jsonl") == "jsonl"
    assert sink_kind("events.jsonl", None) == "jsonl"
    assert sink_kind("events.ndjson", None) == "jsonl"
    assert sink_kind("archive", None) == "jsonl"
    assert sink_kind("archive.sqlite3", None) == "sqlite"
    with pytest.raises(CliError, match=r"not \.csv"):
        sink_kind("x.CSV", None)


def test_bad_give_up_after_and_max_backoff_are_usage_errors(tmp_path: Path) -> None:
    base = ["follow", "--base-url", "http://127.0.0.1:9/v1", "-o", str(tmp_path / "e.jsonl"), "--since", "1h"]
    for extra, message in (
        (["--give-up-after", "soon"], "--give-up-after"),
        (["--max-backoff", "0"], "--max-backoff"),
    ):
        r = run_cli(*base, *extra, token=TOKEN)
        assert r.returncode == EXIT_USAGE, r.stderr
        assert message in r.stderr


# ------------------------------------------------------------------------------------- the rate


def test_the_rate_is_over_the_span_the_poll_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A first poll over a day of 1,440 events reports 1.0/min over that day, however fast it
    ran; a poll whose span is too short to mean anything shows no rate."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    fake = FakeWebex(events=1440, seed=3, start=start, end=start + timedelta(days=1), token=TOKEN)
    now = [start + timedelta(days=1, seconds=30)]
    req = _request(
        tmp_path / "events.jsonl",
        start,
        lag=timedelta(seconds=30),
        quiet=False,
        poll_interval=timedelta(seconds=5),
    )
    polls = [0]

    def sleep(seconds: float) -> None:
        polls[0] += 1
        if polls[0] == 2:
            raise KeyboardInterrupt
        now[0] += timedelta(seconds=seconds)

    run_follow(
        req, lambda: WebexEvents(token=TOKEN, transport=fake.transport()), clock=lambda: now[0], sleep=sleep
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("webex-events: poll:")]
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        "webex-events: poll: 1,440 new (1.0/min over 24h00m), up to 2024-06-02T00:00:00Z"
    )
    assert "/min" not in lines[1]
    assert lines[1].startswith("webex-events: poll: 0 new, up to")
