"""Every code example in README.md runs, so the docs cannot rot.

Python blocks run as written; requests they send to https://webexapis.com are answered
in process by a FakeWebex (nothing leaves the machine). Shell blocks run against a fake
served on 127.0.0.1. The Quick start's second command must be what CI runs.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from webex_events.testing import FakeWebex

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang == language]


def quick_start() -> list[str]:
    return [body.strip() for body in blocks(section("Quick start"), "bash")]


def test_quick_start_has_two_commands_and_ci_runs_the_second() -> None:
    commands = quick_start()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    install_and_export, install_and_test = commands
    assert "webex-events export --demo" in install_and_export
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci_lines, "the CI script must run the README's test command"


def _console_script() -> str:
    return str(Path(sys.executable).with_name("webex-events"))


def test_quick_start_export_command_works(tmp_path: Path) -> None:
    command = quick_start()[0].split("&&", 1)[1].strip()
    argv = shlex.split(command)
    assert argv[0] == "webex-events"
    env = {key: value for key, value in os.environ.items() if key != "WEBEX_ACCESS_TOKEN"}
    result = subprocess.run(
        [_console_script(), *argv[1:]],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outputs = [path for path in tmp_path.iterdir() if path.suffix == ".jsonl"]
    assert len(outputs) == 1
    assert len(outputs[0].read_text().splitlines()) > 100


@pytest.fixture
def webex_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeWebex:
    """Route requests for webexapis.com to a FakeWebex in process; loopback passes through."""
    fake = FakeWebex(events=2000, seed=5, days=30)
    sync_transport, async_transport = fake.transport(), fake.async_transport()
    real_sync, real_async = httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request

    def handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host == "webexapis.com":
            return sync_transport.handle_request(request)
        assert request.url.host in {"127.0.0.1", "::1", "localhost"}, request.url
        return real_sync(self, request)

    async def handle_async(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host == "webexapis.com":
            return await async_transport.handle_async_request(request)
        assert request.url.host in {"127.0.0.1", "::1", "localhost"}, request.url
        return await real_async(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async)
    monkeypatch.setenv("WEBEX_ACCESS_TOKEN", fake.token)
    monkeypatch.chdir(tmp_path)
    return fake


PYTHON_BLOCKS = blocks(README, "python")


def test_readme_has_python_examples() -> None:
    assert len(PYTHON_BLOCKS) >= 8


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=[f"python-{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_example_runs(
    code: str, webex_in_process: FakeWebex, capsys: pytest.CaptureFixture[str]
) -> None:
    ast.parse(code)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    assert webex_in_process.token not in capsys.readouterr().out


def _nox_sessions() -> set[str]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _check_fake_server_command(argv: list[str], env: dict[str, str]) -> None:
    """The server runs until stopped: check it prints a loopback URL that answers, then stop it."""
    argv = [_console_script(), *argv[1:]]
    if "--port" in argv:  # any free port: the documented one may be taken here
        argv[argv.index("--port") + 1] = "0"
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:"), url
            answer = httpx.get(f"{url}/events", params={"max": 1}, headers={"Authorization": "Bearer x"})
            assert answer.status_code == 401
        finally:
            server.terminate()


def test_shell_examples_run(tmp_path: Path) -> None:
    """Shell lines outside the Quick start: nox sessions exist, scripts and CLI commands work."""
    lines = [
        line.strip()
        for text in (README.replace(section("Quick start"), ""),)
        for body in blocks(text, "bash")
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert lines
    fake = FakeWebex(events=1500, seed=9, days=30)
    work = tmp_path / "work"
    (tmp_path / "myapp" / "src").mkdir(parents=True)
    work.mkdir()
    env = {**os.environ, "WEBEX_ACCESS_TOKEN": fake.token}
    with fake.serve() as base_url:
        env["WEBEX_BASE_URL"] = base_url
        for line in lines:
            command = line.split("#", 1)[0].strip()
            argv = shlex.split(command)
            if argv[0] == "export":
                name, _, value = argv[1].partition("=")
                if name != "WEBEX_ACCESS_TOKEN":  # the fake's token stands in for yours
                    env[name] = value
                continue
            if argv[0] == "nox":
                assert argv[1] == "-s"
                assert argv[2] in _nox_sessions(), line
                continue
            if argv[0] in {"python", "python3"} and argv[1].startswith("scripts/"):
                argv = [sys.executable, str(ROOT / argv[1]), *argv[2:]]
            elif argv[:2] == ["webex-events", "fake-server"]:
                _check_fake_server_command(argv, env)
                continue
            elif argv[0] == "webex-events":
                argv = [_console_script(), *argv[1:]]
            else:
                pytest.fail(f"README shell line not covered by tests/test_readme.py: {line}")
            result = subprocess.run(
                argv, check=False, cwd=work, env=env, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"{line}\n{result.stderr}"
            assert fake.token not in result.stdout + result.stderr
