"""The command against bad data and failing storage: one-line errors with a documented exit code,
never a traceback, and every good event written once (issue 30).

Each test runs the real command in a subprocess against the fake server over loopback.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _cli import cli_env, run_cli

from webex_events.cli import _resume
from webex_events.cli._main import main as cli_main
from webex_events.cli._spec_options import cli_label
from webex_events.testing import FakeWebex
from webex_events_api.spec import LIST_EVENTS

START = datetime(2024, 5, 1, tzinfo=UTC)
END = datetime(2024, 5, 3, tzinfo=UTC)
RANGE = ("--from", "2024-05-01", "--to", "2024-05-03")
TOKEN = "tok-bad-data-3e1f"
EXIT_IO, EXIT_USAGE, EXIT_API = 1, 2, 4


def _fake(**knobs: object) -> FakeWebex:
    return FakeWebex(events=300, seed=5, start=START, end=END, token=TOKEN, **knobs)  # type: ignore[arg-type]


@pytest.fixture
def served() -> Iterator[tuple[FakeWebex, str]]:
    fk = _fake()
    with fk.serve() as url:
        yield fk, url


def _export(
    url: str, out: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    options = ("--window", "12h", "--concurrency", "1", "-q", "-o", str(out))
    return run_cli("export", "--base-url", url, *RANGE, *options, *extra, token=TOKEN, env=env, timeout=30)


def _one_error_line(r: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The run exited ``code`` with one error line holding every needle, and no traceback."""
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, r.stderr
    for needle in needles:
        assert needle in errors[0], r.stderr
    return errors[0]


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def _follow(url: str, out: Path, *extra: str) -> tuple[str, ...]:
    """The arguments of a follow of the fake from its start into ``out``."""
    return ("follow", "--base-url", url, "--since", "2024-05-01", "-q", "-o", str(out), *extra)


def _expected(fk: FakeWebex) -> list[str]:
    return sorted(fk.expected_ids(from_=START, to=END))


# ------------------------------------------------------------------ --max-response-bytes


def test_a_response_over_the_cap_names_the_option_and_resume_completes(tmp_path: Path) -> None:
    fk = _fake(large_event=200_000)
    out = tmp_path / "capped.jsonl"
    with fk.serve() as url:
        r = _export(url, out, "--max-response-bytes", "100000")
        line = _one_error_line(
            r, EXIT_API, "larger than --max-response-bytes=100000; raise it with --max-response-bytes"
        )
        assert "progress saved" in line
        before = _ids(out)
        assert before
        assert len(before) == len(set(before))
        assert set(before) < set(_expected(fk))
        # The environment variable raises it as well; the cap is not part of the resume check.
        r = _export(url, out, "--resume", env={"WEBEX_MAX_RESPONSE_BYTES": "1000000"})
    assert r.returncode == 0, r.stderr
    ids = _ids(out)
    assert ids[: len(before)] == before
    assert sorted(ids) == _expected(fk)


def test_get_and_follow_take_the_cap(tmp_path: Path) -> None:
    fk = _fake(large_event=200_000)
    (large,) = fk.damaged
    out = tmp_path / "follow.jsonl"
    with fk.serve() as url:
        r = run_cli("get", large, "--base-url", url, "--max-response-bytes", "100000", token=TOKEN)
        _one_error_line(r, EXIT_API, "larger than --max-response-bytes=100000")
        assert r.stdout == ""
        r = run_cli("get", large, "--base-url", url, token=TOKEN)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["id"] == large
        r = run_cli(
            *_follow(url, out, "--once", "--lag", "1s"),
            token=TOKEN,
            env={"WEBEX_MAX_RESPONSE_BYTES": "100000"},
        )
        _one_error_line(r, EXIT_API, "larger than --max-response-bytes=100000")


# ------------------------------------------------------------------ --resume over a finished export


def test_resume_over_a_finished_export_is_refused_without_force(
    served: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    fk, url = served
    out = tmp_path / "done.jsonl"
    assert _export(url, out).returncode == 0
    finished = out.read_bytes()
    r = _export(url, out, "--resume", "--to", "2024-05-02")  # a shorter range: would replace it
    _one_error_line(r, EXIT_USAGE, "no unfinished export", str(out), "--force")
    assert out.read_bytes() == finished
    r = _export(url, out, "--resume", "--force")
    assert r.returncode == 0, r.stderr
    assert sorted(_ids(out)) == _expected(fk)


# ------------------------------------------------------------------ filter values that look like typos


def _near_miss() -> tuple[str, str, str]:
    """(option, a known enum value, that value one letter short), from a spec enum."""
    parameter = next(p for p in LIST_EVENTS.filters if len(p.enum) > 0 and max(map(len, p.enum)) > 5)
    known = max(parameter.enum, key=len)
    return cli_label(parameter), known, known[:-1]


def test_a_value_a_small_edit_from_a_known_one_is_refused_with_a_suggestion(
    served: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    fk, url = served
    option, known, typo = _near_miss()
    out = tmp_path / "typo.jsonl"
    before = fk.stats.requests
    r = _export(url, out, option, typo)
    _one_error_line(r, EXIT_USAGE, f"did you mean {known!r}?", "--allow-unknown-values")
    assert fk.stats.requests == before  # nothing sent
    assert not out.exists()
    r = _export(url, out, option, typo, "--allow-unknown-values")
    assert r.returncode == 0, r.stderr
    assert "is not one of the spec's values" in r.stderr
    assert out.read_text() == ""  # sent as given: the fake knows no such value


def test_follow_refuses_a_typo_too(served: tuple[FakeWebex, str], tmp_path: Path) -> None:
    _, url = served
    option, known, typo = _near_miss()
    follow = ("follow", "--base-url", url, "--since", "1d", "--once", "-o", str(tmp_path / "f.jsonl"))
    r = run_cli(*follow, option, typo.upper(), token=TOKEN)
    _one_error_line(r, EXIT_USAGE, f"did you mean {known!r}?")


# ------------------------------------------------------------------ storage failures


def _limited(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The command with files limited to ``limit`` bytes (a full disk: writes fail with EFBIG)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "webex_events.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(TOKEN),
        timeout=30,
        check=False,
        preexec_fn=cap,
    )


def test_a_full_disk_under_export_is_one_line_and_resume_completes(
    served: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    fk, url = served
    out = tmp_path / "full.jsonl"
    options = ("--window", "12h", "--concurrency", "1", "-q", "-o", str(out))
    r = _limited(150_000, "export", "--base-url", url, *RANGE, *options)
    _one_error_line(r, EXIT_IO, f"cannot write {out}: File too large", "--resume")
    before = _ids(out)  # whole lines only: back to the last checkpoint
    assert len(before) == len(set(before))
    r = _export(url, out, "--resume")
    assert r.returncode == 0, r.stderr
    assert sorted(_ids(out)) == _expected(fk)


@pytest.mark.parametrize("suffix", [".db", ".jsonl"])
def test_a_full_disk_under_follow_is_one_line_naming_the_output(
    served: tuple[FakeWebex, str], tmp_path: Path, suffix: str
) -> None:
    _, url = served
    out = tmp_path / f"full{suffix}"
    r = _limited(40_000, *_follow(url, out, "--once"))
    _one_error_line(r, EXIT_IO, f"cannot write {out}")


@pytest.mark.parametrize("before", ["empty", "followed"])
def test_a_sqlite_database_locked_by_another_process_is_named_as_locked(
    served: tuple[FakeWebex, str], tmp_path: Path, before: str
) -> None:
    fk, url = served
    out = tmp_path / "locked.db"
    follow = _follow(url, out, "--once")
    if before == "followed":
        assert run_cli(*follow, token=TOKEN).returncode == 0
    holder = sqlite3.connect(out, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a write lock, as another program's transaction
    try:
        r = run_cli(*follow, token=TOKEN)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _one_error_line(r, EXIT_IO, f"{out} is locked by another process (database is locked)")
    assert "not a SQLite database" not in r.stderr
    if before == "empty":
        r = run_cli(*follow, token=TOKEN)  # unlocked: it completes
        assert r.returncode == 0, r.stderr
    with sqlite3.connect(out) as db:
        assert sorted(row[0] for row in db.execute("SELECT id FROM events")) == _expected(fk)


def test_an_unwritable_lock_file_is_one_line(served: tuple[FakeWebex, str], tmp_path: Path) -> None:
    _, url = served
    out = tmp_path / "lock.jsonl"
    lock = out.with_name(out.name + ".webex-events.lock")
    lock.mkdir()  # not a file: opening it for writing fails, as on a read-only directory
    r = _export(url, out)
    _one_error_line(r, EXIT_IO, f"cannot write the lock file {lock}")
    assert not out.exists()


def test_an_unwritable_state_file_is_named_not_the_output(
    served: tuple[FakeWebex, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A state file that cannot be replaced (read-only) after the output was started: in process,
    since the tests run as root, for whom no file is read-only."""
    _, url = served
    out = tmp_path / "ro.jsonl"
    spath = out.with_name(out.name + ".webex-events-state.json")
    real = _resume.write_atomic
    saves = []

    def read_only_after_the_first(path: Path, data: bytes) -> None:
        saves.append(path)
        if path == spath and len(saves) > 1:
            raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        real(path, data)

    monkeypatch.setattr(_resume, "write_atomic", read_only_after_the_first)
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", TOKEN)
    code = cli_main.main(
        ["export", "--base-url", url, *RANGE, "--window", "2h", "-q", "-o", str(out)], standalone_mode=False
    )
    err = capsys.readouterr().err
    assert code == EXIT_IO, err
    line = _one_error_line(subprocess.CompletedProcess([], code, "", err), EXIT_IO)
    assert f"cannot write the state file {spath}: Read-only file system" in line
    assert f"cannot write {out}" not in line


# ------------------------------------------------------------------ an output deleted or replaced mid-run


def _when_written(path: Path, proc: subprocess.Popen[str]) -> None:
    """Wait until ``path`` holds something (or the process ended)."""
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if path.stat().st_size > 0:
                return
        time.sleep(0.005)


def _mishap(out: Path, how: str) -> None:
    if how == "deleted":
        out.unlink()
    elif how == "directory deleted":
        shutil.rmtree(out.parent)
    else:
        out.rename(out.with_name("moved-" + out.name))
        out.write_bytes(b"")


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "webex_events.cli", *args],
        env=cli_env(TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("how", ["deleted", "directory deleted", "renamed and recreated"])
def test_an_export_whose_output_vanishes_does_not_say_done(tmp_path: Path, how: str) -> None:
    fk = _fake(latency=0.03)
    out = tmp_path / "sub" / "vanishing.jsonl"
    out.parent.mkdir()
    with fk.serve() as url:
        proc = _popen(
            "export", "--base-url", url, *RANGE, "--window", "1h", "--concurrency", "1", "-q", "-o", str(out)
        )
        _when_written(out, proc)
        _mishap(out, how)
        _, err = proc.communicate(timeout=20)
    r = subprocess.CompletedProcess(proc.args, proc.returncode, "", err)
    expected = "replaced by another file" if how == "renamed and recreated" else "deleted"
    _one_error_line(r, EXIT_IO, f"{out} was {expected} while the export wrote it")
    assert "done" not in err
    if how == "renamed and recreated":
        assert out.read_bytes() == b""  # the new file is left alone
        moved = _ids(out.with_name("moved-" + out.name))
        assert len(moved) == len(set(moved))


def _committed(db: Path) -> bool:
    """A follow committed a checkpoint to ``db``."""
    if not db.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)) as conn:
            return conn.execute("SELECT count(*) FROM follow_state").fetchone()[0] > 0
    except sqlite3.Error:
        return False


@pytest.mark.parametrize("how", ["deleted", "renamed and recreated"])
def test_a_sqlite_follow_whose_database_vanishes_stops(
    served: tuple[FakeWebex, str], tmp_path: Path, how: str
) -> None:
    _, url = served
    out = tmp_path / "vanishing.db"
    proc = _popen(*_follow(url, out, "--poll-interval", "1s", "--lag", "1s"))
    deadline = time.monotonic() + 10
    while not _committed(out) and time.monotonic() < deadline:
        assert proc.poll() is None, "follow ended before its first commit"
        time.sleep(0.02)
    _mishap(out, how)
    _, err = proc.communicate(timeout=10)
    r = subprocess.CompletedProcess(proc.args, proc.returncode, "", err)
    expected = "replaced by another file" if how == "renamed and recreated" else "deleted"
    _one_error_line(r, EXIT_IO, f"{out} was {expected} while follow committed to it")


# ------------------------------------------------------------------ events CSV cannot hold


def _csv_ids(path: Path) -> list[str]:
    csv.field_size_limit(1 << 24)  # the large event's text is longer than the default limit
    with path.open(newline="", encoding="utf-8") as fh:
        return [row["id"] for row in csv.DictReader(fh)]


def _quarantine(out: Path) -> Path:
    return out.with_name(out.name + ".quarantine.jsonl")


def test_an_event_csv_cannot_hold_is_set_aside_with_a_warning(tmp_path: Path) -> None:
    fk = _fake(lone_surrogate=True)
    (bad,) = fk.damaged
    out = tmp_path / "events.csv"
    with fk.serve() as url:
        r = run_cli("export", "--base-url", url, *RANGE, "--window", "12h", "-o", str(out), token=TOKEN)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    warning = next(line for line in r.stderr.splitlines() if "warning:" in line)
    assert bad in warning
    assert "in the window ending" in warning
    assert str(_quarantine(out)) in warning
    assert f"1 event CSV cannot hold set aside in {_quarantine(out)}" in r.stderr
    assert sorted(_csv_ids(out)) == sorted(set(_expected(fk)) - {bad})
    # Its exact JSON, once.
    assert _quarantine(out).read_bytes() == fk.event_json(bad) + b"\n"  # type: ignore[operator]


def test_bad_events_error_stops_and_resume_sets_it_aside(tmp_path: Path) -> None:
    fk = _fake(lone_surrogate=True)
    (bad,) = fk.damaged
    out = tmp_path / "events.csv"
    with fk.serve() as url:
        r = _export(url, out, "--bad-events", "error")
        _one_error_line(r, EXIT_API, bad, "cannot be written as CSV", "--resume")
        assert not _quarantine(out).exists()
        r = _export(url, out, "--resume")
    assert r.returncode == 0, r.stderr
    assert "1 event CSV cannot hold set aside" in r.stderr
    assert sorted(_csv_ids(out)) == sorted(set(_expected(fk)) - {bad})
    assert [json.loads(line)["id"] for line in _quarantine(out).read_text().splitlines()] == [bad]


def test_the_quarantine_survives_an_interrupted_csv_export(tmp_path: Path) -> None:
    """A set-aside event is in the resume state: a resumed run neither loses nor repeats it."""
    fk = FakeWebex(
        events=300, seed=0, start=START, end=END, token=TOKEN, lone_surrogate=True, large_event=200_000
    )
    bad = next(i for i, d in fk.damaged.items() if d.kind == "lone-surrogate")
    out = tmp_path / "events.csv"
    with fk.serve() as url:
        r = _export(url, out, "--max-response-bytes", "100000")  # stops at the large event, after it
        _one_error_line(r, EXIT_API, "--max-response-bytes")
        assert _quarantine(out).exists()
        r = _export(url, out, "--resume")
    assert r.returncode == 0, r.stderr
    assert "1 event CSV cannot hold set aside" in r.stderr
    ids = _csv_ids(out)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(set(_expected(fk)) - {bad})
    assert [json.loads(line)["id"] for line in _quarantine(out).read_text().splitlines()] == [bad]


def test_csv_on_stdout_refuses_an_event_it_cannot_hold(tmp_path: Path) -> None:
    fk = _fake(lone_surrogate=True)
    (bad,) = fk.damaged
    with fk.serve() as url:
        r = run_cli("export", "--base-url", url, *RANGE, "--format", "csv", "-q", token=TOKEN)
    _one_error_line(r, EXIT_API, bad, "--output FILE")


@pytest.mark.parametrize("sink", ["export.jsonl", "follow.jsonl", "follow.db"])
def test_jsonl_and_sqlite_hold_such_an_event_as_it_is(tmp_path: Path, sink: str) -> None:
    fk = _fake(lone_surrogate=True)
    (bad,) = fk.damaged
    out = tmp_path / sink
    with fk.serve() as url:
        if sink.startswith("export"):
            r = _export(url, out)
        else:
            r = run_cli(*_follow(url, out, "--once"), token=TOKEN)
    assert r.returncode == 0, r.stderr
    assert not _quarantine(out).exists()
    exact = fk.event_json(bad)
    assert exact is not None
    if sink.endswith(".db"):
        with contextlib.closing(sqlite3.connect(out)) as db:
            rows = dict(db.execute("SELECT id, raw FROM events").fetchall())
        assert sorted(rows) == _expected(fk)
        assert rows[bad] == exact.decode()
    else:
        assert sorted(_ids(out)) == _expected(fk)
        assert exact + b"\n" in out.read_bytes().splitlines(keepends=True)
