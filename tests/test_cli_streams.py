"""``export`` and ``follow --stream admin-audit|security-audit``: the audit streams from the command.

Against the fake's audit streams (its organization's admin actions and sign-ins), in process and
as a subprocess over loopback: exports exact in JSON Lines and CSV, the organization taken from
the token, options of another stream refused before any request, a state of one stream never
taken up by another, and ``follow`` exact in JSON Lines and SQLite (one database, a table per
stream) through SIGKILLs and restarts, over a simulated day of late arrivals and cron-style at
real speed against the live fake.

Run as a script (``python test_cli_streams.py SINK CLOCK STREAM``), this file is the follow
that the simulated-day test kills and restarts (as ``_follow_child.py`` is for events).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _cli import cli_env, run_cli, webex_token

from webex_events import FollowCheckpoint, WebexEvents
from webex_events._streams import STREAMS
from webex_events.cli._export import ExportRequest
from webex_events.cli._follow import FollowRequest, run_follow, sink_kind
from webex_events.cli._main import main as cli_main
from webex_events.cli._sinks import checkpoint_key, follow_state_path
from webex_events.cli._spec_options import validate_filters
from webex_events.cli._streams import fill_from_token, stream_columns, table_name, token_org_id
from webex_events.testing import FakeWebex, SimClock

HERE = Path(__file__).parent
AUDITS = ("admin-audit", "security-audit")
START = datetime(2024, 3, 1, tzinfo=UTC)
END = datetime(2024, 3, 4, tzinfo=UTC)
RANGE = ("--from", "2024-03-01T00:00:00Z", "--to", "2024-03-04T00:00:00Z")
SECRET = "tok-SECRET-streams-7d1e"
EXIT_USAGE = 2


def _expected(fake: FakeWebex, stream: str, **kw: object) -> list[str]:
    ids: list[str] = fake.audit_logs[stream].expected_ids(org_id=fake.org_id, **kw)
    return ids


def _org_fake(**knobs: object) -> FakeWebex:
    """An organization with both audit streams, whose token names it (as Webex tokens do)."""
    fake = FakeWebex(
        events=200,
        seed=21,
        start=START,
        end=END,
        admin_audit_events=1200,
        security_audit_events=2000,
        **knobs,  # type: ignore[arg-type]
    )
    fake.knobs.token = webex_token(SECRET, fake.org_id)
    return fake


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeWebex, str]]:
    fake = _org_fake()
    with fake.serve() as url:
        yield fake, url


def _clean(result: subprocess.CompletedProcess[str], *files: Path) -> None:
    """The secret part of the token is nowhere (the organization's uuid at its end is public)."""
    assert SECRET not in result.stdout + result.stderr
    for f in files:
        if f.exists():
            assert SECRET.encode() not in f.read_bytes()


# --- export ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("stream", AUDITS)
def test_export_of_an_audit_stream_is_exact_over_loopback(
    served: tuple[FakeWebex, str], tmp_path: Path, stream: str, fmt: str
) -> None:
    """Every event of the range once, as Webex sent it; the organization from the token."""
    fake, url = served
    out = tmp_path / f"{stream}.{fmt}"
    r = run_cli(
        "export", "--stream", stream, "--base-url", url, *RANGE, "--page-size", "50", "-o", str(out),
        token=fake.token,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    _clean(r, out)
    truth = {e["id"]: e for e in fake.audit_logs[stream].events}
    expected = _expected(fake, stream, from_=START, to=END)
    assert len(expected) == len(truth) > 1000  # every event of the organization is in the range
    if fmt == "jsonl":
        lines = out.read_text(encoding="utf-8").splitlines()
        ids = [json.loads(line)["id"] for line in lines]
        assert all(json.loads(line) == truth[json.loads(line)["id"]] for line in lines)
    else:
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
        assert tuple(rows[0]) == stream_columns(STREAMS[stream])
        ids = [row["id"] for row in rows]
        for row in rows[:50]:
            event = truth[row["id"]]
            assert row["created"] == event["created"]
            assert row["data.eventCategory"] == event["data"]["eventCategory"]
            assert row["actorOrgId"] == fake.org_id
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert set(ids) == set(expected)
    assert not out.with_name(out.name + ".webex-events-state.json").exists()


def test_export_in_process_with_org_id_and_categories_repeated_or_comma_separated(
    served: tuple[FakeWebex, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, url = served
    log = fake.admin_audit
    busy = [c for c in log.categories if _expected(fake, "admin-audit", event_categories=[c])][:3]
    assert len(busy) == 3
    out = tmp_path / "three.csv"
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", fake.token)
    admin = ["export", "--stream", "admin-audit", "--base-url", url, *RANGE, "-q"]
    categories = ["--event-categories", busy[0], "--event-categories", f"{busy[1]}, {busy[2]}"]
    code = cli_main([*admin, "--org-id", fake.org_id, *categories, "-o", str(out)], standalone_mode=False)
    assert code in (0, None), capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    expected = _expected(fake, "admin-audit", from_=START, to=END, event_categories=busy)
    assert sorted(row["id"] for row in rows) == sorted(expected)
    assert {row["data.eventCategory"] for row in rows} == set(busy)
    assert len(rows) < len(log.events)  # the filter selected

    # --org-id wins over the token: another organization has no events here.
    other = tmp_path / "other.jsonl"
    code = cli_main([*admin, "--org-id", "another-org", "-o", str(other)], standalone_mode=False)
    assert code in (0, None)
    assert other.read_bytes() == b""


# --- options, organization ------------------------------------------------------------------------


_NOT_OF = "is not an option of --stream"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["export", "--stream", "admin-audit", "--resource", "messages"],
            f"--resource {_NOT_OF} admin-audit",
        ),
        (["export", "--stream", "security-audit", "--type", "created"], f"--type {_NOT_OF} security-audit"),
        (["export", "--org-id", "X"], f"--org-id {_NOT_OF} events"),
        (
            ["export", "--stream", "events", "--event-categories", "LOGINS"],
            f"--event-categories {_NOT_OF} events",
        ),
        (["follow", "--stream", "admin-audit", "--service-type", "x", "-o", "f.db"], "--service-type is not"),
        (["follow", "--org-id", "X", "-o", "f.jsonl"], f"--org-id {_NOT_OF} events"),
        (
            ["export", "--stream", "admin-audit", "--page-size", "500"],
            "--page-size must be between 1 and 200",
        ),
        (["follow", "--stream", "admin-audit", "--page-size", "201", "-o", "f.db"], "between 1 and 200"),
        (["export", "--stream", "security-audit", "--event-categories", " , "], "--event-categories must be"),
        (["export", "--stream", "stream-of-consciousness"], "--stream"),
    ],
)
def test_an_option_a_stream_does_not_have_is_refused_before_any_request(
    served: tuple[FakeWebex, str], tmp_path: Path, args: list[str], message: str
) -> None:
    fake, url = served
    before = fake.stats.requests
    since = "--since" if args[0] == "follow" else "--from"
    r = subprocess.run(
        [sys.executable, "-m", "webex_events.cli", *args, "--base-url", url, since, "2024-03-02"],
        env=cli_env(fake.token), capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == EXIT_USAGE, r.stderr
    assert message in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr  # one line
    assert fake.stats.requests == before, "a request was sent"
    assert not list(tmp_path.iterdir()), "something was written"


def test_the_organization_comes_from_the_token_as_webex_spells_it() -> None:
    """Webex's documented example: ``..._PF84_<org uuid>``; the API's id is the unpadded base64
    of ``ciscospark://us/ORGANIZATION/<uuid>`` (``Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8...``)."""
    uuid = "1eb65fdf-9643-417f-9974-ad72cae0e10f"
    want = base64.b64encode(f"ciscospark://us/ORGANIZATION/{uuid}".encode()).rstrip(b"=").decode()
    assert want.startswith("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8")
    assert (
        token_org_id(f"ZDI3MGEyYzQtNmFlNS00NDNhLWFlNzAtZGVjNjE0MGU1OGZmZWNmZDEwN2ItYTU3_PF84_{uuid}") == want
    )
    assert token_org_id("NGM2_A52D_" + uuid.upper()) == want
    for token in ("fake-token", f"{uuid}", f"abc_{uuid}", f"abc_PF84_{uuid}x", "abc_PF84_1eb65fdf"):
        assert token_org_id(token) is None, token
    stream = STREAMS["admin-audit"]
    assert fill_from_token({}, stream, f"abc_PF84_{uuid}") == {"org_id": want}
    assert fill_from_token({"org_id": "mine"}, stream, f"abc_PF84_{uuid}") == {"org_id": "mine"}
    assert fill_from_token({}, STREAMS["events"], "fake-token") == {}  # events take no organization
    # `auth status` shows it: what the audit streams default to.
    status = run_cli("auth", "status", token=f"abc_PF84_{uuid}")
    assert status.returncode == 0, status.stderr
    assert f"organization (the audit streams' default --org-id): {want}" in status.stdout
    assert "none named by the token" in run_cli("auth", "status", token="fake-token").stdout


@pytest.mark.parametrize("command", ["export", "follow"])
def test_without_org_id_a_token_naming_no_organization_is_a_usage_error(
    served: tuple[FakeWebex, str], tmp_path: Path, command: str
) -> None:
    fake, url = served
    before = fake.stats.requests
    args = [
        command,
        "--stream",
        "security-audit",
        "--base-url",
        url,
        "--since",
        "1d",
        "-o",
        str(tmp_path / "s.jsonl"),
    ]
    r = run_cli(*args, token="tok-without-organization")
    assert r.returncode == EXIT_USAGE, r.stderr
    assert "--stream security-audit needs --org-id" in r.stderr
    assert "tok-without-organization" not in r.stderr
    assert fake.stats.requests == before
    # The same token with --org-id is sent (and refused by the fake: it is not its token).
    r = run_cli(*args, "--org-id", fake.org_id, token="tok-without-organization")
    assert r.returncode == 3, r.stderr
    assert "audit:events_read" in r.stderr or "check the access token" in r.stderr


# --- one stream's state is never another's -------------------------------------------------------


def test_an_export_state_of_one_stream_is_refused_for_another_then_resumes_exactly(tmp_path: Path) -> None:
    fake = _org_fake(latency=0.03)
    out = tmp_path / "admin.jsonl"
    state = out.with_name(out.name + ".webex-events-state.json")
    with fake.serve() as url:
        export = [
            "export",
            "--base-url",
            url,
            *RANGE,
            "--window",
            "2h",
            "--concurrency",
            "1",
            "--page-size",
            "20",
        ]
        export += ["-q", "-o", str(out)]
        admin = [*export, "--stream", "admin-audit"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "webex_events.cli", *admin],
            env=cli_env(fake.token), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if out.exists() and out.stat().st_size > 40_000 and state.exists():
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.returncode == 0:
            pytest.skip("the export finished before the kill")  # only on an unexpectedly fast machine
        fingerprint = json.loads(state.read_text())["fingerprint"]
        assert fingerprint["stream"] == "admin-audit"
        assert fingerprint["org_id"] == fake.org_id  # from the token
        before = out.read_bytes(), state.read_bytes()
        for other in ([*export, "--stream", "security-audit"], export):  # export: the events stream
            r = run_cli(*other, "--resume", token=fake.token)
            assert r.returncode == EXIT_USAGE, r.stderr
            assert "records an export of the admin-audit stream" in r.stderr
            assert "pass --stream admin-audit to continue it" in r.stderr
            assert (out.read_bytes(), state.read_bytes()) == before
        r = run_cli(*admin, "--resume", token=fake.token)
    assert r.returncode == 0, r.stderr
    _clean(r, out)
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(_expected(fake, "admin-audit", from_=START, to=END))
    assert not state.exists()


def test_a_follow_checkpoint_of_one_stream_is_refused_for_another(
    served: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    fake, url = served
    common = ["--base-url", url, "--since", "2024-03-03", "--lag", "1s", "--once", "-q"]
    jsonl, db, cp = tmp_path / "admin.jsonl", tmp_path / "audit.db", tmp_path / "cp.json"
    r = run_cli("follow", "--stream", "admin-audit", "-o", str(jsonl), *common, token=fake.token)
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "follow", "--stream", "admin-audit", "-o", "-", "--checkpoint", str(cp), *common, token=fake.token
    )
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == len(jsonl.read_text().splitlines()) > 0
    before = jsonl.read_bytes(), follow_state_path(jsonl).read_bytes(), cp.read_bytes()
    for stream in ("security-audit", "events"):
        for output in (["-o", str(jsonl)], ["-o", "-", "--checkpoint", str(cp)]):
            r = run_cli("follow", "--stream", stream, *output, *common, token=fake.token)
            assert r.returncode == EXIT_USAGE, r.stderr
            assert "holds a follow of the admin-audit stream" in r.stderr
            assert "pass --stream admin-audit to continue it" in r.stderr
            assert r.stdout == ""
    assert (jsonl.read_bytes(), follow_state_path(jsonl).read_bytes(), cp.read_bytes()) == before

    # One SQLite database holds the three streams side by side, each with its own checkpoint.
    for stream in ("admin-audit", "security-audit", "events"):
        r = run_cli("follow", "--stream", stream, "-o", str(db), *common, token=fake.token)
        assert r.returncode == 0, r.stderr
    with sqlite3.connect(db) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"events", "admin_audit_events", "security_audit_events", "follow_state"}
        for stream in AUDITS:
            ids = [row[0] for row in con.execute(f'SELECT id FROM "{table_name(STREAMS[stream])}"')]
            (text,) = con.execute(
                "SELECT value FROM follow_state WHERE name = ?", (checkpoint_key(STREAMS[stream]),)
            ).fetchone()
            checkpoint = FollowCheckpoint.from_json(text)
            assert checkpoint.stream == stream
            assert checkpoint.delivered == len(ids) == len(set(ids)) > 0
            assert set(ids) <= set(_expected(fake, stream))
            assert dict(checkpoint.filters) == {"orgId": fake.org_id}
        columns = [row[1] for row in con.execute('PRAGMA table_info("admin_audit_events")')]
        assert columns == ["id", "created", "org_id", "actor_id", "event_categories", "raw"]
        assert con.execute(
            "SELECT count(*) FROM admin_audit_events WHERE org_id != ?", (fake.org_id,)
        ).fetchone() == (0,)
    # A later run of a stream continues from its checkpoint; a stream the database lacks needs --since.
    r = run_cli(
        "follow", "--stream", "security-audit", "-o", str(db), *common[:2], "--once", "-q", token=fake.token
    )
    assert r.returncode == 0, r.stderr
    other = tmp_path / "events-only.db"
    assert run_cli("follow", "-o", str(other), *common, token=fake.token).returncode == 0
    r = run_cli(
        "follow", "--stream", "admin-audit", "-o", str(other), *common[:2], "--once", token=fake.token
    )
    assert r.returncode == EXIT_USAGE, r.stderr
    assert "has no checkpoint of the admin-audit stream: a new follow needs --since" in r.stderr


# --- follow over a simulated day, killed with SIGKILL and restarted --------------------------------

DAY = datetime(2024, 3, 5, tzinfo=UTC)
SINCE = DAY + timedelta(hours=1)
LAG, OVERLAP, HORIZON = timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=3)
RECONCILE_EVERY, POLL = timedelta(minutes=30), timedelta(minutes=5)
# Within the lag; beyond it but within lag + overlap; 30 to 90 minutes (a reconcile pass only).
LATE = ((0.15, 0.0, 300.0), (0.03, 300.0, 1200.0), (0.02, 1800.0, 5400.0))
FINISH = DAY + timedelta(days=1, hours=2)


def _day_fake(clock: SimClock | None = None) -> FakeWebex:
    fake = FakeWebex(
        events=50, seed=25, start=DAY, end=DAY + timedelta(days=1), late=LATE, wall_clock=clock,
        admin_audit_events=2500, security_audit_events=2500,
    )  # fmt: skip
    fake.knobs.token = webex_token(SECRET, fake.org_id)
    return fake


def _child(sink: Path, clock_file: Path, name: str) -> int:
    """The follow the simulated-day test kills: the command's filters, sinks, checkpoints, signals."""
    start = datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else SINCE
    clock = SimClock(start)
    fake = _day_fake(clock)
    stream = STREAMS[name]
    request = FollowRequest(
        filters=fill_from_token(validate_filters({}, stream), stream, fake.token),
        since=SINCE, lag=LAG, poll_interval=POLL, overlap=OVERLAP, reconcile_horizon=HORIZON,
        reconcile_interval=RECONCILE_EVERY, once=False, page_size=100, concurrency=4,
        kind=sink_kind(str(sink), None), output=sink, checkpoint_file=None, quiet=True, stream=stream,
    )  # fmt: skip

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        tmp = clock_file.with_suffix(".tmp")
        tmp.write_text(clock.now().isoformat())
        tmp.replace(clock_file)
        if clock.now() >= FINISH:
            raise KeyboardInterrupt  # as a signal: the commit done, exit 0

    def client() -> WebexEvents:
        return WebexEvents(token=fake.token, transport=fake.transport(), concurrency=4)

    run_follow(request, client, clock=clock.now, sleep=sleep)
    return 0


def _sink_ids(sink: Path, stream: str) -> list[str]:
    if sink.suffix == ".db":
        with sqlite3.connect(sink) as con:
            return [row[0] for row in con.execute(f'SELECT id FROM "{table_name(STREAMS[stream])}"')]
    return [json.loads(line)["id"] for line in sink.read_bytes().splitlines()]


def _sink_checkpoint(sink: Path, stream: str) -> FollowCheckpoint:
    if sink.suffix == ".db":
        with sqlite3.connect(sink) as con:
            key = checkpoint_key(STREAMS[stream])
            text = con.execute("SELECT value FROM follow_state WHERE name = ?", (key,)).fetchone()[0]
    else:
        text = json.loads(follow_state_path(sink).read_bytes())["current"]["checkpoint"]
    return FollowCheckpoint.from_json(text)


def _simulated_now(clock_file: Path) -> datetime:
    try:
        return datetime.fromisoformat(clock_file.read_text())
    except (FileNotFoundError, ValueError):
        return SINCE


@pytest.mark.parametrize("suffix", [".jsonl", ".db"])
@pytest.mark.parametrize("stream", AUDITS)
def test_a_simulated_day_with_sigkills_at_random_moments_is_exact(
    tmp_path: Path, stream: str, suffix: str
) -> None:
    sink, clock_file = tmp_path / f"audit{suffix}", tmp_path / "clock"
    rng = random.Random(f"streams-sigkill{stream}{suffix}")
    args = [sys.executable, str(Path(__file__)), str(sink), str(clock_file), stream]
    span = FINISH - SINCE
    kill_points = sorted(SINCE + span * rng.uniform(0.05, 0.85) for _ in range(4))
    kills = 0
    for kill_point in [*kill_points, None]:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE)
        if kill_point is not None:
            deadline = time.monotonic() + 120
            while proc.poll() is None and _simulated_now(clock_file) < kill_point:
                assert time.monotonic() < deadline, "the follow made no progress"
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.08))  # mid-request, mid-write or mid-commit
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        break
    assert kills == len(kill_points), f"only {kills} kills happened"
    ids = _sink_ids(sink, stream)
    assert len(ids) == len(set(ids)), "an event was written twice"
    fake = _day_fake()
    assert set(ids) == set(_expected(fake, stream, from_=SINCE, to=fake.end))
    checkpoint = _sink_checkpoint(sink, stream)
    assert checkpoint.stream == stream
    assert checkpoint.delivered == len(ids)
    assert checkpoint.reconciled > 0, "events later than lag + overlap were found by a reconcile pass"


# --- follow --once cron-style at real speed over loopback, with SIGKILLs ---------------------------

# Late arrivals at real speed: within the lag, beyond it (the overlap), beyond both (reconcile).
LIVE_LATE = ((0.2, 0.0, 1.0), (0.05, 1.6, 3.6), (0.03, 5.6, 8.0))
CRON = [
    "--lag", "1.2s", "--overlap", "3.2s", "--reconcile-horizon", "2m", "--reconcile-interval", "6s",
    "--page-size", "40", "-q", "--once",
]  # fmt: skip


def _cron_loop(
    url: str, token: str, stream: str, sinks: list[Path], since: str, seconds: float
) -> tuple[int, int]:
    """``follow --once`` runs back to back into each sink for ``seconds``, every third one killed
    with SIGKILL at a random moment of its run; (runs, kills)."""
    rng = random.Random(f"cron-{stream}")
    runs = kills = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or runs < 8 * len(sinks):
        for sink in sinks:
            args = [sys.executable, "-m", "webex_events.cli", "follow", "--stream", stream, "--base-url", url]
            args += ["-o", str(sink), "--since", since, *CRON]
            proc = subprocess.Popen(
                args, env=cli_env(token), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            runs += 1
            if runs % 3 == 0:
                try:
                    proc.wait(timeout=rng.uniform(0.3, 1.0))  # the interpreter starts in about 0.3 s
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    continue
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert SECRET not in out + err
        time.sleep(0.5)
    return runs, kills


def test_cron_style_follow_once_of_both_audit_streams_with_late_events_and_sigkills(tmp_path: Path) -> None:
    """The issue's must-show: admin audit and security audit, each into its own JSON Lines file
    and both into one SQLite database (a table and a checkpoint each, followed concurrently),
    from the live fake with late arrivals, runs killed at random: every event once."""
    fake = FakeWebex.live(
        rate=60, history=timedelta(minutes=2), duration=timedelta(minutes=10), late=LIVE_LATE,
        admin_audit_events=3600, security_audit_events=7200,
    )  # fmt: skip
    fake.knobs.token = webex_token(SECRET, fake.org_id)
    shared = tmp_path / "audit.db"
    sinks = {stream: [tmp_path / f"{stream}.jsonl", shared] for stream in AUDITS}
    since = (fake.now() - timedelta(minutes=1)).isoformat()
    results: dict[str, tuple[int, int]] = {}
    with fake.serve() as url:

        def loop(stream: str) -> None:
            results[stream] = _cron_loop(url, fake.token, stream, sinks[stream], since, 20)

        threads = [threading.Thread(target=loop, args=(stream,)) for stream in AUDITS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(results) == set(AUDITS), "a cron loop failed"
        marks = {(s, p): _sink_checkpoint(p, s).high_water for s in AUDITS for p in sinks[s]}
        time.sleep(9)  # every event created before the marks is visible now (latest tier: 8 s)
        for stream in AUDITS:
            for sink in sinks[stream]:
                args = ["follow", "--stream", stream, "--base-url", url, "-o", str(sink), "--since", since]
                r = run_cli(*args, *CRON, "--reconcile-interval", "1s", token=fake.token)
                assert r.returncode == 0, r.stderr
    start = datetime.fromisoformat(since)
    for stream in AUDITS:
        runs, kills = results[stream]
        assert kills >= 3, f"{stream}: only {kills} of {runs} runs were killed"
        for sink in sinks[stream]:
            ids = _sink_ids(sink, stream)
            assert len(ids) == len(set(ids)), f"{stream} {sink.name}: an event was written twice"
            must = set(_expected(fake, stream, from_=start, to=marks[stream, sink]))
            assert must <= set(ids), f"{stream} {sink.name}: {len(must - set(ids))} events missing"
            checkpoint = _sink_checkpoint(sink, stream)
            assert set(ids) <= set(_expected(fake, stream, from_=start, to=checkpoint.high_water))
            assert checkpoint.delivered == len(ids)
            assert len(must) > 60
    assert _sink_ids(shared, "admin-audit")
    assert _sink_ids(shared, "security-audit")


def test_export_request_defaults_to_the_events_stream() -> None:
    """Code that builds the jobs' requests without a stream keeps listing events."""
    assert ExportRequest.__dataclass_fields__["stream"].default is STREAMS["events"]
    assert FollowRequest.__dataclass_fields__["stream"].default is STREAMS["events"]


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
