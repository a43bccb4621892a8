"""Every code example of README.md and of the pages of docs/ runs, so the docs cannot rot.

Python blocks run as written; requests they send to https://webexapis.com are answered
in process by a FakeWebex (nothing leaves the machine). Shell blocks run against a fake
served on 127.0.0.1. Links between the pages lead to a file and a heading that exist. The Quick
start's second command must be what CI runs, and its first runs verbatim from a clean copy of
the repository, outside any virtual environment, on the machine's own `python3` and on an
externally managed one (PEP 668); the second runs verbatim only on request (it is every check).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from webex_events.cli._sinks import SQLITE_COLUMNS
from webex_events.testing import FakeWebex

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Pages of docs/ whose examples are not programs: api.md (generated) and design.md show
# signatures, benchmarks.md figures. Every other page's examples run here.
NOT_EXAMPLES = {"api.md", "design.md", "benchmarks.md"}
PAGES = {
    "README.md": README,
    **{
        f"docs/{page.name}": page.read_text()
        for page in sorted((ROOT / "docs").glob("*.md"))
        if page.name not in NOT_EXAMPLES
    },
}


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
    """The export itself, quickly, with the command installed here (the verbatim runs are slow)."""
    command = quick_start()[0].rsplit("&&", 1)[1].strip()
    argv = shlex.split(command)
    assert Path(argv[0]).name == "webex-events"
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


# The verbatim Quick start runs. The second command runs nox, whose tests run this file: the nox
# run started here has GUARD set, and its tests skip these (this run is checking them already).
GUARD = "WEBEX_EVENTS_IN_QUICK_START"
# The second command runs every check again, in a clone: only when this is "1" (see its test).
CHECK_COMMAND = "WEBEX_EVENTS_TEST_CHECK_COMMAND"
_VENV_VARIABLES = ("VIRTUAL_ENV", "VIRTUAL_ENV_PROMPT", "PYTHONHOME", "PYTHONPATH", "__PYVENV_LAUNCHER__")
_OURS = ("WEBEX_ACCESS_TOKEN", "WEBEX_BASE_URL", "NOX_CURRENT_SESSION", CHECK_COMMAND)


def _outside_any_venv() -> dict[str, str]:
    """This environment as a fresh shell has it: no venv active, none of its bin on PATH."""
    env = {key: value for key, value in os.environ.items() if key not in (*_VENV_VARIABLES, *_OURS)}
    venvs = [Path(sys.prefix)] if sys.prefix != sys.base_prefix else []
    if os.environ.get("VIRTUAL_ENV"):
        venvs.append(Path(os.environ["VIRTUAL_ENV"]))
    venv_bins = {(venv / "bin").resolve() for venv in venvs}
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry]
    env["PATH"] = os.pathsep.join(entry for entry in path if Path(entry).resolve() not in venv_bins)
    return env


def _python3_version(env: dict[str, str]) -> tuple[int, int] | None:
    python3 = shutil.which("python3", path=env["PATH"])
    if python3 is None:
        return None
    code = "import sys; print(*sys.version_info[:2])"
    result = subprocess.run([python3, "-c", code], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None
    major, minor = result.stdout.split()
    return int(major), int(minor)


@pytest.fixture(scope="module")
def fresh_shell() -> dict[str, str]:
    """The environment of the verbatim runs; skips where they would only repeat themselves.

    They exercise the machine's `python3`, whatever Python runs this file: in a nox run that
    tests several Pythons, only the session on `python3`'s version runs them.
    """
    if os.environ.get(GUARD):
        pytest.skip("inside the nox run of the Quick start, whose test checks these already")
    env = _outside_any_venv()
    version = _python3_version(env)
    if version is None or version < (3, 11):
        pytest.skip(f"the Quick start needs python3 >= 3.11 on PATH, found {version}")
    if os.environ.get("NOX_CURRENT_SESSION") and version != sys.version_info[:2]:
        pytest.skip(f"runs once per nox run, in the session on python3's version ({version[0]}.{version[1]})")
    return env


def _clean_copy(destination: Path) -> Path:
    """What a clone holds, plus uncommitted work: the work tree less .git and what Git ignores."""
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "/" not in line.strip().rstrip("/")
    ]
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(".git", *ignored), symlinks=True)
    return destination


def _run_verbatim(command: str, clone: Path, env: dict[str, str], timeout: float) -> None:
    """Run one Quick start command as a user types it into bash, in *clone*; fail with its output."""
    log = clone.parent / "quick-start.log"
    with log.open("w") as out:
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=clone,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=timeout,
        )
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
    assert result.returncode == 0, f"{command}\nexited {result.returncode}; output ends with:\n{tail}"


def _check_export(clone: Path) -> None:
    output = shlex.split(quick_start()[0])[-1]
    assert output in (ROOT / ".gitignore").read_text().splitlines(), "the demo output must be ignored by git"
    lines = (clone / output).read_text().splitlines()
    assert len(lines) > 100
    assert all(line.startswith("{") and line.endswith("}") for line in lines)


@pytest.mark.slow
def test_quick_start_install_and_export_verbatim(tmp_path: Path, fresh_shell: dict[str, str]) -> None:
    clone = _clean_copy(tmp_path / "clone")
    _run_verbatim(quick_start()[0], clone, fresh_shell, timeout=280)
    _check_export(clone)
    shutil.rmtree(clone)  # a venv is large; a failure keeps it for a look


@pytest.mark.slow
@pytest.mark.timeout(3000)
@pytest.mark.skipif(
    os.environ.get(CHECK_COMMAND) != "1",
    reason=f"runs every check again in a clone: opt in with {CHECK_COMMAND}=1 (CI runs the command)",
)
def test_quick_start_check_command_verbatim(tmp_path: Path, fresh_shell: dict[str, str]) -> None:
    """The second command runs every check of a clean copy: this test's own run of them skips it.

    Opt-in (WEBEX_EVENTS_TEST_CHECK_COMMAND=1): it is the whole check command again, nested in a
    run of it, which doubled a newcomer's wait. CI runs that command on a clean clone anyway
    (.ci/run; test_quick_start_has_two_commands_and_ci_runs_the_second checks it is the
    README's, verbatim), and test_quick_start_install_and_export_verbatim still runs the first.
    """
    clone = _clean_copy(tmp_path / "clone")
    # Without the pyenv selection .ci/run makes (a user's shell has none): the run around this
    # one tests every Python; this one checks the command, on python3's (the others skip).
    env = {key: value for key, value in fresh_shell.items() if key != "PYENV_VERSION"}
    _run_verbatim(quick_start()[1], clone, {**env, GUARD: "1"}, timeout=2900)
    summary = (tmp_path / "quick-start.log").read_text(errors="replace")
    assert re.search(r"nox > \* tests-3\.\d+: success", summary), summary[-3000:]
    shutil.rmtree(clone)


# PEP 668: Debian's and Ubuntu's own Python refuse `pip install` outside a virtual environment.
_IS_EXTERNALLY_MANAGED = (
    "import os, sys, sysconfig; "
    "marker = os.path.join(sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED'); "
    "import venv, ensurepip; "
    "print(sys.prefix == sys.base_prefix and os.path.isfile(marker))"
)


def _externally_managed_system_python() -> Path | None:
    system = Path("/usr/bin/python3")
    if not system.is_file():
        return None
    result = subprocess.run(
        [system, "-I", "-c", _IS_EXTERNALLY_MANAGED], capture_output=True, text=True, check=False
    )
    return system if result.stdout.strip() == "True" else None


def _simulated_externally_managed_python(root: Path) -> Path:
    """This Python's base interpreter, installed again under *root* with an EXTERNALLY-MANAGED marker.

    A copy of the executable finds its standard library next to itself (a directory of links to
    the real one, plus the marker), so pip sees an externally managed, non-venv interpreter.
    """
    base = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(base, root / "bin" / version)
    stdlib = root / "lib" / version
    stdlib.mkdir(parents=True)
    for entry in Path(sysconfig.get_paths()["stdlib"]).iterdir():
        (stdlib / entry.name).symlink_to(entry)
    for library in Path(sys.base_prefix, "lib").glob("libpython*"):  # a shared build's libpython
        (root / "lib" / library.name).symlink_to(library)
    (stdlib / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=simulated by tests/test_readme.py (PEP 668)\n"
    )
    return root / "bin" / version


@pytest.fixture(scope="module")
def externally_managed_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A directory for the front of PATH whose `python3` is externally managed (the system's if so)."""
    root = tmp_path_factory.mktemp("externally-managed")
    python = _externally_managed_system_python() or _simulated_externally_managed_python(root / "prefix")
    (root / "bin").mkdir()
    (root / "bin" / "python3").symlink_to(python)
    return str(root / "bin")


def test_externally_managed_python_refuses_pip_install(externally_managed_path: str) -> None:
    """What the Quick start must work around: `python3 -m pip install .` fails the PEP 668 way."""
    python3 = str(Path(externally_managed_path, "python3"))
    env = _outside_any_venv()
    has_pip = subprocess.run([python3, "-m", "pip", "--version"], env=env, capture_output=True, check=False)
    if has_pip.returncode != 0:
        pytest.skip("this python3 has no pip: it refuses `pip install` by not having it")
    # --dry-run: should the refusal not come, nothing is installed into that Python either.
    install = [python3, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps", "."]
    result = subprocess.run(install, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "externally-managed-environment" in result.stderr, result.stderr


@pytest.mark.slow
def test_quick_start_on_an_externally_managed_python(
    tmp_path: Path, fresh_shell: dict[str, str], externally_managed_path: str
) -> None:
    env = {**fresh_shell, "PATH": os.pathsep.join([externally_managed_path, fresh_shell["PATH"]])}
    clone = _clean_copy(tmp_path / "clone")
    _run_verbatim(quick_start()[0], clone, env, timeout=280)
    _check_export(clone)
    home = (clone / ".venv" / "pyvenv.cfg").read_text()
    assert str(Path(os.path.realpath(Path(externally_managed_path) / "python3")).parent) in home, home
    shutil.rmtree(clone)


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
    monkeypatch.setenv("WEBEX_ORG_ID", fake.org_id)  # the audit streams' examples read it
    monkeypatch.chdir(tmp_path)
    return fake


PYTHON_BLOCKS = [
    pytest.param(page, code, id=f"{page}-python-{i}")
    for page, text in PAGES.items()
    for i, code in enumerate(blocks(text, "python"))
]


def test_the_pages_have_python_examples() -> None:
    assert blocks(README, "python"), "the README shows the library"
    assert len(PYTHON_BLOCKS) >= 8


@pytest.mark.parametrize(("page", "code"), PYTHON_BLOCKS)
def test_python_example_runs(
    page: str, code: str, webex_in_process: FakeWebex, capsys: pytest.CaptureFixture[str]
) -> None:
    ast.parse(code)
    exec(compile(code, page, "exec"), {"__name__": "__readme__"})
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


def _check_follow_daemon(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    """`follow` runs until stopped: let it poll, stop it as systemd would, expect exit 0."""
    with subprocess.Popen(
        [_console_script(), *argv[1:]], env=env, cwd=cwd, stderr=subprocess.PIPE, text=True
    ) as run:
        time.sleep(4)
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    assert "stopped by a signal" in err


# `sqlite3 DATABASE SQL`, where the sqlite3 shell is not installed: Python's module, same output.
_SQLITE3 = (
    "import sqlite3, sys\nfor row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(*row, sep='|')"
)


def _sqlite3(argv: list[str], cwd: Path) -> list[str]:
    assert len(argv) == 3, argv
    assert (cwd / argv[1]).is_file(), f"{argv[1]} is not there: an example before must make it"
    if shutil.which("sqlite3"):
        return argv
    return [sys.executable, "-c", _SQLITE3, *argv[1:]]


# The Quick start installs only into .venv: the README runs its commands from there, and a page
# of docs/ that runs commands bare says to activate it first.
VENV = ".venv/bin/"
_BARE = {"webex-events", "python", "python3", "nox", "pip"}
_ACTIVATED = "venv activated"


def _shell_lines(page: str) -> list[str]:
    """The page's shell commands outside the Quick start, without their comments."""
    text = PAGES[page].replace(section("Quick start"), "") if page == "README.md" else PAGES[page]
    commands = (line.split("#", 1)[0].strip() for body in blocks(text, "bash") for line in body.splitlines())
    return [command for command in commands if command]


SHELL_PAGES = [page for page in PAGES if _shell_lines(page)]


def test_commands_run_from_the_quick_start_venv() -> None:
    assert "README.md" in SHELL_PAGES
    for page in SHELL_PAGES:
        bare = [line for line in _shell_lines(page) if shlex.split(line)[0] in _BARE]
        if page == "README.md":
            assert not bare, f"README commands name {VENV}: {bare}"
        elif bare:
            assert _ACTIVATED in " ".join(PAGES[page].split()), f"{page} runs {bare[0]!r} bare"


@pytest.mark.parametrize("page", SHELL_PAGES)
def test_shell_examples_run(page: str, tmp_path: Path) -> None:
    """Shell lines outside the Quick start: nox sessions exist, scripts and CLI commands work."""
    fake = FakeWebex(events=1500, seed=9, days=30)
    work = tmp_path / "work"
    (tmp_path / "myapp" / "src").mkdir(parents=True)
    work.mkdir()
    env = {**os.environ, "WEBEX_ACCESS_TOKEN": fake.token}
    with fake.serve() as base_url:
        env["WEBEX_BASE_URL"] = base_url
        for line in _shell_lines(page):
            argv = shlex.split(line)
            argv[0] = argv[0].removeprefix(VENV)
            query = argv[0] == "sqlite3"
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
            elif argv[:2] == ["webex-events", "follow"] and "--once" not in argv:
                _check_follow_daemon(argv, env, work)
                continue
            elif argv[0] == "webex-events":
                argv = [_console_script(), *argv[1:]]
            elif argv[0] == "sqlite3":
                argv = _sqlite3(argv, work)
            else:
                pytest.fail(f"{page} shell line not covered by tests/test_readme.py: {line}")
            result = subprocess.run(
                argv, check=False, cwd=work, env=env, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"{line}\n{result.stderr}"
            assert fake.token not in result.stdout + result.stderr
            if query:
                assert result.stdout.strip(), f"{line}: no rows"


def test_readme_names_the_sqlite_sinks_columns() -> None:
    """The README's archive table is the SQLite sink's: every column, by the name it has."""
    follow = section("An archive that stays current: `follow`")
    for column in ("id", *SQLITE_COLUMNS, "raw"):
        assert f"`{column}`" in follow, column


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(text: str) -> set[str]:
    """GitHub's ids of a page's headings (code blocks are not headings)."""
    prose = FENCE.sub("", text)
    titles = re.findall(r"^#+ (.+)$", prose, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-") for title in titles}


@pytest.mark.parametrize("page", list(PAGES))
def test_links_lead_somewhere(page: str) -> None:
    """Each relative link names a file of the repository and, after #, a heading of that page."""
    here = (ROOT / page).parent
    for target in _LINK.findall(FENCE.sub("", PAGES[page])):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (here / path).resolve() if path else ROOT / page
        assert linked.exists(), f"{page}: {target}: no {linked.relative_to(ROOT)}"
        if anchor:
            assert anchor in _anchors(linked.read_text()), f"{page}: {target}: no such heading"
