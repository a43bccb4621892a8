"""What the distribution promises: a library without click, a command that says how to get it,
``python -m webex_events``, ``__version__`` and the pytest plugin loaded by entry point.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import webex_events
from webex_events import _version
from webex_events._cli_entry import INSTALL_HINT
from webex_events.testing import pytest_plugin

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PLUGIN = "webex_events.testing.pytest_plugin"
# As if click were not installed: `import click` raises ModuleNotFoundError(name="click").
WITHOUT_CLICK = "import sys; sys.modules['click'] = None\n"


def _python(code: str, *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )


def test_runtime_dependencies_are_httpx_and_attrs_and_click_is_the_cli_extra() -> None:
    requires = metadata.requires("webex-events") or []
    always = sorted(r.split(">")[0].split("<")[0].strip() for r in requires if "extra ==" not in r)
    assert always == ["attrs", "httpx"]
    cli = [r for r in requires if re.search(r"""extra\s*==\s*["']cli["']""", r)]
    assert [r.split(";")[0].strip() for r in cli] == ["click>=8.1"], requires
    assert PYPROJECT["project"]["optional-dependencies"]["cli"] == ["click>=8.1"]


@pytest.mark.parametrize(
    "run",
    [
        "from webex_events._cli_entry import main; main()",
        "import runpy; runpy.run_module('webex_events', run_name='__main__')",
    ],
    ids=["console-script", "python-m"],
)
def test_without_click_the_command_says_how_to_install_it(run: str) -> None:
    result = _python(WITHOUT_CLICK + run)
    assert result.returncode == 2
    assert result.stderr == INSTALL_HINT + "\n"
    assert "pip install 'webex-events[cli]'" in INSTALL_HINT
    assert result.stdout == ""


def test_the_library_and_the_fake_import_without_click() -> None:
    code = WITHOUT_CLICK + textwrap.dedent(
        """
        import webex_events, webex_events.testing, webex_events.testing.pytest_plugin
        from webex_events import WebexEvents
        from webex_events.testing import FakeWebex
        fake = FakeWebex(events=20, seed=1)
        with WebexEvents(token=fake.token, transport=fake.transport()) as client:
            assert len(list(client.list_events())) == 20
        assert sys.modules["click"] is None
        """
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr


def test_every_public_name_resolves() -> None:
    for name in webex_events.__all__:
        assert getattr(webex_events, name) is not None, name


@pytest.mark.parametrize(
    ("args", "status", "stdout", "stderr"),
    [
        (["--version"], 0, "webex-events, version", ""),
        (["export", "--no-such-option"], 2, "", "No such option"),
    ],
)
def test_the_command_exits_with_its_status_and_everything_it_printed(
    args: list[str], status: int, stdout: str, stderr: str
) -> None:
    # The status and every byte printed come out, by either entry.
    for module in ("webex_events", "webex_events.cli"):
        done = subprocess.run(
            [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == status, (module, done.stderr)
        assert stdout in done.stdout, (module, done.stdout)
        assert stderr in done.stderr, (module, done.stderr)


def test_the_command_started_without_stdout_exits_normally() -> None:
    # fd 1 closed at start (cron, a daemon): sys.stdout is None; nothing to flush, exit 0.
    done = subprocess.run(
        ["sh", "-c", f"exec '{sys.executable}' -m webex_events --version >&-"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_console_script_points_at_the_entry_that_checks_for_click() -> None:
    assert PYPROJECT["project"]["scripts"] == {"webex-events": "webex_events._cli_entry:main"}
    (script,) = metadata.entry_points(group="console_scripts", name="webex-events")
    assert script.value == "webex_events._cli_entry:main"


def test_python_m_webex_events_runs_the_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webex_events", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: webex-events ")
    assert "export" in result.stdout


def test_version_is_the_installed_distribution_version() -> None:
    assert webex_events.__version__ == metadata.version("webex-events")
    assert webex_events.__version__ == PYPROJECT["project"]["version"]
    assert "__version__" in webex_events.__all__


def test_version_without_metadata_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert _version._find_version() == _version.UNKNOWN_VERSION == "0+unknown"


def test_a_vendored_copy_knows_its_version_and_has_no_command(tmp_path: Path) -> None:
    package = "app._vendor.webex_events"
    vendoring = [sys.executable, str(ROOT / "scripts" / "vendor.py"), str(tmp_path), "--package", package]
    subprocess.run(vendoring, check=True, capture_output=True)
    record = json.loads((tmp_path / "app" / "_vendor" / "webex_events" / "VENDORED.json").read_text())
    result = _python(f"from {package} import __version__; print(__version__)", cwd=tmp_path)
    assert result.stdout.strip() == record["version"], result.stderr
    command = subprocess.run(
        [sys.executable, "-m", package], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert command.returncode == 2
    assert command.stderr == f"webex-events: {package} has no command-line interface\n"


def test_pytest_plugin_is_declared_as_a_pytest11_entry_point_and_loads() -> None:
    assert PYPROJECT["project"]["entry-points"]["pytest11"] == {PLUGIN: PLUGIN}
    (entry,) = metadata.entry_points(group="pytest11", name=PLUGIN)
    assert entry.load() is pytest_plugin


def test_this_suite_loads_the_plugin_once(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    assert manager.get_plugin(PLUGIN) is pytest_plugin
    assert [plugin for plugin in manager.get_plugins() if plugin is pytest_plugin] == [pytest_plugin]


USES_THE_FIXTURE = """
def test_fixture(fake_webex):
    assert len(fake_webex.events) == 300
"""


@pytest.mark.parametrize("conftest", [None, f"pytest_plugins = [{PLUGIN!r}]\n"], ids=["auto", "conftest"])
def test_a_users_suite_gets_the_fixtures_once(tmp_path: Path, conftest: str | None) -> None:
    """Installed, the plugin is on without a conftest, and the conftest line of docs/fake-server.md works."""
    (tmp_path / "test_user.py").write_text(USES_THE_FIXTURE)
    if conftest is not None:
        (tmp_path / "conftest.py").write_text(conftest)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
