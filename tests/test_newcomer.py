"""A newcomer's first hour (issue 14): the fake server says how to use it, one configuration for
library and CLI, logs for cron and SIEM collectors, the CLI's rough edges."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _cli
import httpx
import pytest

from webex_events import WebexConnectionError, WebexEvents
from webex_events.testing import FakeWebex

START = datetime(2024, 3, 1, tzinfo=UTC)
END = datetime(2024, 3, 2, tzinfo=UTC)
TOKEN = "tok-newcomer-8d2e5f"


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return _cli.run_cli(*args, token=TOKEN, env=env, timeout=timeout)


# ------------------------------------------------------------------------------ 2. the fake server


def test_fake_server_accepts_the_token_the_shell_exported_and_never_prints_it() -> None:
    env = _cli.cli_env("my-own-token-1234")
    proc = subprocess.Popen(
        [sys.executable, "-m", "webex_events.cli", "fake-server", "--events", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        base_url = proc.stdout.readline().strip()
        said = proc.stderr.readline() + proc.stderr.readline()
        assert "$WEBEX_ACCESS_TOKEN" in said
        assert f"export WEBEX_BASE_URL={base_url}" in said
        assert "my-own-token-1234" not in said
        answer = httpx.get(f"{base_url}/events", headers={"Authorization": "Bearer my-own-token-1234"})
        assert answer.status_code == 200
        assert len(answer.json()["items"]) == 30
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


# ------------------------------------------------------------------------------ 3. one configuration


def test_the_library_honours_webex_base_url_as_the_cli_does(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWebex(events=40, seed=4, start=START, end=END, token=TOKEN)
    with fake.serve() as url:
        monkeypatch.setenv("WEBEX_BASE_URL", url)
        monkeypatch.setenv("WEBEX_ACCESS_TOKEN", TOKEN)
        with WebexEvents() as client:
            assert repr(client).startswith(f"WebexEvents(base_url={url!r}, ")
            assert sorted(e.id for e in client.list_events()) == sorted(fake.expected_ids())


# ------------------------------------------------------------------------------ 4. logging


@pytest.fixture(scope="module")
def faulty() -> typing.Iterator[tuple[FakeWebex, str]]:
    fake = FakeWebex(events=600, seed=8, start=START, end=END, token=TOKEN, fault_rate=0.3,
                     faults=["500"])  # fmt: skip
    with fake.serve() as url:
        yield fake, url


def _export(url: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    day = ["--from", "2024-03-01", "--to", "2024-03-02"]
    return run_cli(
        "export", "--base-url", url, *day, "--window", "3h", "--page-size", "50", "-o", str(out), *extra
    )


def test_retry_lines_are_timestamped_and_prefixed(faulty: tuple[FakeWebex, str], tmp_path: Path) -> None:
    _, url = faulty
    result = _export(url, tmp_path / "a.jsonl")
    assert result.returncode == 0, result.stderr
    retries = [line for line in result.stderr.splitlines() if "retrying GET" in line]
    assert retries
    for line in retries:
        stamp, _, rest = line.partition(" ")
        datetime.fromisoformat(stamp)
        assert rest.startswith("webex-events WARNING: retrying GET")


def test_quiet_silences_retry_lines_but_not_the_outcome(
    faulty: tuple[FakeWebex, str], tmp_path: Path
) -> None:
    _, url = faulty
    result = _export(url, tmp_path / "q.jsonl", "-q")
    assert result.returncode == 0, result.stderr
    assert "retrying" not in result.stderr
    assert result.stderr.startswith("webex-events: done: ")


def test_log_level_verbose_and_the_environment(faulty: tuple[FakeWebex, str], tmp_path: Path) -> None:
    _, url = faulty
    errors_only = _export(url, tmp_path / "e.jsonl", "--log-level", "error")
    assert errors_only.returncode == 0
    assert "retrying" not in errors_only.stderr
    verbose = _export(url, tmp_path / "v.jsonl", "-q", "-v", "--log-level", "info")
    assert verbose.returncode == 0
    assert "retrying" in verbose.stderr  # --log-level wins over -q
    by_env = run_cli("export", "--base-url", url, "--from", "2024-03-01", "--to", "2024-03-02",
                     "-o", str(tmp_path / "x.jsonl"), env={"WEBEX_EVENTS_LOG_LEVEL": "error"})  # fmt: skip
    assert by_env.returncode == 0
    assert "retrying" not in by_env.stderr


def test_json_log_lines_for_collectors(faulty: tuple[FakeWebex, str], tmp_path: Path) -> None:
    fake, url = faulty
    result = _export(url, tmp_path / "j.jsonl", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object
    assert {line["level"] for line in lines} == {"warning", "info"}
    retry = next(line for line in lines if line["message"].startswith("retrying GET"))
    assert retry["logger"] == "webex_events"
    datetime.fromisoformat(retry["time"])
    done = lines[-1]
    assert done["event"] == "done"
    assert done["events"] == len(fake.expected_ids(from_=START, to=END))
    assert TOKEN not in result.stderr


def test_json_errors_are_json_too(tmp_path: Path) -> None:
    result = run_cli("export", "--since", "1d", "--resource", "", "--log-format", "json")
    assert result.returncode == 2
    (line,) = [json.loads(text) for text in result.stderr.splitlines()]
    assert line["level"] == "error"
    assert line["event"] == "error"
    assert "--resource" in line["message"]


# ------------------------------------------------------------------------------ 8. types


def test_list_events_arguments_have_real_types() -> None:
    hints = typing.get_type_hints(WebexEvents.list_events)
    assert set(typing.get_args(hints["from_"])) == {datetime, str, type(None)}
    assert set(typing.get_args(hints["to"])) == {datetime, str, type(None)}
    assert typing.Literal["auto"] in typing.get_args(hints["window"])
    assert timedelta in typing.get_args(hints["window"])


# ------------------------------------------------------------------------------ 9. rough edges


def test_a_time_without_an_offset_is_utc_as_a_bare_date_is(tmp_path: Path) -> None:
    fake = FakeWebex(events=200, seed=6, start=START, end=END, token=TOKEN)
    outs = []
    with fake.serve() as url:
        for start in ("2024-03-01", "2024-03-01T00:00:00", "2024-03-01T00:00Z", "2024-03-01T01:00+01:00"):
            out = tmp_path / f"{len(outs)}.jsonl"
            result = run_cli(
                "export", "--base-url", url, "--from", start, "--to", "2024-03-02", "-q", "-o", str(out)
            )
            assert result.returncode == 0, result.stderr
            outs.append(out.read_bytes())
    assert outs[0]
    assert all(out == outs[0] for out in outs)


def test_help_documents_durations_defaults_and_the_time_rule() -> None:
    text = " ".join(run_cli("export", "--help").stdout.split())
    assert "1w" in text
    assert "1.5d" in text
    assert "without an offset is UTC" in text
    assert "[default: 1000" in text
    assert "default: text" in text
    top = " ".join(run_cli("--help").stdout.split())
    assert "143" in top
    assert "130" in top


def test_one_page_is_one_page(tmp_path: Path) -> None:
    fake = FakeWebex(events=1, seed=1, start=START, end=END, token=TOKEN)
    with fake.serve() as url:
        result = run_cli("export", "--base-url", url, "--since", "3650d", "-q")  # stdout: one query
    assert result.returncode == 0, result.stderr
    assert "1 event, 1 page, 0 retries" in result.stderr


def test_get_has_a_demo_too(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    exported = run_cli("export", "--demo", "--since", "1d", "-q", "-o", str(out), env={})
    assert exported.returncode == 0, exported.stderr
    first = json.loads(out.read_text().splitlines()[0])
    got = run_cli("get", "--demo", first["id"])
    assert got.returncode == 0, got.stderr
    event = json.loads(got.stdout)
    # the same event of the same synthetic organization (its times follow the moment it is served)
    assert [event[k] for k in ("id", "resource", "type", "actorId")] == [
        first[k] for k in ("id", "resource", "type", "actorId")
    ]


def test_a_host_that_does_not_resolve_fails_at_once() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from exc

    with (
        WebexEvents(token=TOKEN, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(WebexConnectionError, match="cannot resolve the host"),
    ):
        list(client.list_events())
    assert len(calls) == 1  # not retried: it will not resolve in a second either
