"""OAuth end to end against the fake's sign-in and token endpoints, over a loopback socket.

``auth login`` as a user runs it (the test plays the browser), a dead refresh token, and the
issue's proof: ``follow`` for a minute of real time with access tokens living 2 s, rotating
refresh tokens, concurrency 8 and SIGKILLs: every event once, no 401 reaching the user, about
one refresh per expiry (the fake counts them).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _cli import cli_env, run_cli

from webex_events import FileTokenStore, FollowCheckpoint, OAuthTokens
from webex_events.testing import FakeWebex

CLIENT, SECRET = "C-oauth-test", "s3cret-oauth-7c1d"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = cli_env(None, {"WEBEX_CLIENT_SECRET": SECRET, **extra})
    env.pop("WEBEX_ACCESS_TOKEN", None)
    env["XDG_CONFIG_HOME"] = extra.get("XDG_CONFIG_HOME", env.get("XDG_CONFIG_HOME", "/nonexistent"))
    return env


def _login(url: str, auth_file: Path, *, state_from_server: bool = True) -> subprocess.CompletedProcess[str]:
    """``auth login`` with the test as the browser: open the URL, follow the redirect home."""
    redirect = f"http://127.0.0.1:{_free_port()}/callback"
    argv = [sys.executable, "-m", "webex_events.cli", "auth", "login", "--client-id", CLIENT,
            "--no-browser", "--redirect-uri", redirect, "--base-url", url, "--auth-file", str(auth_file),
            "--timeout", "30"]  # fmt: skip
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    authorize = ""
    while not authorize.startswith("http"):
        authorize = proc.stderr.readline().strip()
        assert authorize or proc.poll() is None, proc.communicate()
    sign_in = httpx.get(authorize)  # the fake signs in at once: a 302 back to the redirect URI
    assert sign_in.status_code == 302, sign_in.text
    back = httpx.URL(sign_in.headers["location"])
    if not state_from_server:
        back = back.copy_set_param("state", "forged")
    for _ in range(100):  # the listener is up before the URL is printed; retry a refused connect anyway
        try:
            httpx.get(back)
            break
        except httpx.ConnectError:
            time.sleep(0.05)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(argv, proc.returncode, out, authorize + "\n" + err)


def test_auth_login_status_export_logout(tmp_path: Path) -> None:
    fake = FakeWebex(events=200, seed=3, client_id=CLIENT, client_secret=SECRET)
    auth_file = tmp_path / "conf" / "auth.json"
    with fake.serve() as url:
        r = _login(url, auth_file)
        assert r.returncode == 0, r.stderr
        assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
        assert fake.stats.codes_exchanged == 1
        saved = json.loads(auth_file.read_text())
        status = run_cli("auth", "status", "--auth-file", str(auth_file), token=None, env=_env())
        assert status.returncode == 0, status.stderr
        assert f"integration {CLIENT}" in status.stdout
        out = tmp_path / "out.jsonl"
        export = run_cli("export", "--base-url", url, "--auth-file", str(auth_file), "-o", str(out), "-q",
                         "--since", "400d", token=None, env=_env())  # fmt: skip
        assert export.returncode == 0, export.stderr
        assert len(out.read_text().splitlines()) == len(fake.expected_ids())
    for text in (r.stdout, r.stderr, status.stdout, status.stderr, export.stderr):
        for secret in (SECRET, saved["access_token"], saved["refresh_token"]):
            assert secret not in text
    logout = run_cli("auth", "logout", "--auth-file", str(auth_file), token=None, env=_env())
    assert logout.returncode == 0
    assert not auth_file.exists()


def test_a_forged_state_is_refused(tmp_path: Path) -> None:
    fake = FakeWebex(events=10, seed=3, client_id=CLIENT, client_secret=SECRET)
    with fake.serve() as url:
        r = _login(url, tmp_path / "auth.json", state_from_server=False)
    assert r.returncode == 3
    assert "state does not match" in r.stderr
    assert not (tmp_path / "auth.json").exists()
    assert fake.stats.codes_exchanged == 0


def _auth_file(fake: FakeWebex, path: Path) -> str:
    """An auth file as ``auth login`` writes it, from tokens the fake issued; the refresh token."""
    issued = fake.issue_tokens()
    now = time.time()
    tokens = OAuthTokens(
        client_id=CLIENT,
        client_secret=SECRET,
        refresh_token=issued["refresh_token"],
        access_token=issued["access_token"],
        expires_at=now + issued["expires_in"],
        expires_in=issued["expires_in"],
        refresh_expires_at=now + issued["refresh_token_expires_in"],
    )
    FileTokenStore(path).save(tokens)
    return str(issued["refresh_token"])


def test_a_dead_refresh_token_exits_5_naming_login_and_writes_nothing(tmp_path: Path) -> None:
    fake = FakeWebex(events=50, seed=4, client_id=CLIENT, client_secret=SECRET, access_token_lifetime=0.5)
    auth_file, out = tmp_path / "auth.json", tmp_path / "out.jsonl"
    refresh = _auth_file(fake, auth_file)
    fake.revoke(refresh)
    before = auth_file.read_bytes()
    time.sleep(0.6)  # the access token has expired too
    with fake.serve() as url:
        r = run_cli(
            "export", "--base-url", url, "--auth-file", str(auth_file), "-o", str(out), "--since", "400d",
            token=None, env=_env(),
        )  # fmt: skip
    assert r.returncode == 5, r.stderr
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "auth login" in errors[0]
    assert not out.exists()
    assert auth_file.read_bytes() == before  # the state is kept: a new login goes on


def _run_for(
    seconds: float, argv: list[str], env: dict[str, str], rng: random.Random
) -> tuple[int, list[str]]:
    """Run ``argv`` again and again for ``seconds``, each run SIGKILLed after 2-9 s; the kills and
    the stderr of every run."""
    kills, errors = 0, []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            proc.wait(timeout=min(left, rng.uniform(2.0, 9.0)))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate()
        errors.append(err)
        assert proc.returncode in (0, -signal.SIGKILL), err
    return kills, errors


def test_follow_for_a_minute_with_two_second_tokens_rotation_and_sigkills(tmp_path: Path) -> None:
    lifetime, runtime = 2.0, float(os.environ.get("WEBEX_EVENTS_OAUTH_SOAK_SECONDS", "60"))
    fake = FakeWebex.live(
        rate=1200,
        history=timedelta(minutes=10),
        late=(),
        seed=8,
        client_id=CLIENT,
        client_secret=SECRET,
        access_token_lifetime=lifetime,
        rotate_refresh_tokens=True,
    )
    auth_file, sink = tmp_path / "auth.json", tmp_path / "archive.db"
    _auth_file(fake, auth_file)
    since = datetime.now(UTC) - timedelta(minutes=5)
    rng = random.Random(31)
    with fake.serve() as url:
        argv = [sys.executable, "-m", "webex_events.cli", "follow", "--base-url", url,
                "--auth-file", str(auth_file), "-o", str(sink), "--since", since.isoformat(), "--lag", "1s",
                "--poll-interval", "0.5s", "--overlap", "5s", "--concurrency", "8", "--page-size", "50",
                "-q"]  # fmt: skip
        started = time.monotonic()
        kills, errors = _run_for(runtime, argv, _env(), rng)
        final = subprocess.run(
            [*argv, "--once"], env=_env(), capture_output=True, text=True, timeout=60, check=False
        )
        elapsed = time.monotonic() - started
    assert final.returncode == 0, final.stderr
    assert kills >= runtime // 12
    for err in [*errors, final.stderr]:
        assert "401" not in err
        assert "Traceback" not in err
    with sqlite3.connect(sink) as db:
        ids = [row[0] for row in db.execute("SELECT id FROM events")]
        checkpoint = FollowCheckpoint.from_json(
            db.execute("SELECT value FROM follow_state WHERE name = 'checkpoint'").fetchone()[0]
        )
    assert len(ids) == len(set(ids)), "an event was written twice"
    assert set(ids) == set(fake.expected_ids(from_=since, to=checkpoint.high_water))
    # One refresh per expiry: about runtime / lifetime of them (a token is refreshed when a request
    # finds it in the last tenth of its life), not one per worker or per request.
    expiries = elapsed / lifetime
    assert 0.5 * expiries <= fake.stats.refreshes <= 1.3 * expiries / 0.9 + kills + 2, (
        fake.stats.refreshes,
        expiries,
    )
    assert max(fake.stats.refreshes_by_token.values()) == 1  # rotation: each refresh token once
    print(  # the figures of a run, for the record (pytest -s)
        f"oauth soak: {elapsed:.0f} s, {kills} kills, {len(ids)} events, {fake.stats.refreshes} refreshes"
        f" for {expiries:.0f} expiries, {fake.stats.expired_401s} 401s answered to an expired token"
    )
