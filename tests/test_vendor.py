"""`scripts/vendor.py` gives another project a working private copy."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = "myapp._vendor.webex_events"

# Runs inside the other project: the installed webex-events is made invisible
# (its paths dropped and its names blocked), so only the vendored copy can work.
CHILD = textwrap.dedent(
    """
    import datetime as dt, importlib.abc, json, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("webex_events", "webex_events_api"):
                raise ImportError(f"the vendored copy imported {name}")
            return None

    sys.meta_path.insert(0, Block())
    sys.path[:] = [p for p in sys.path if not p.endswith(("/wrapper", "/generated"))]

    from myapp._vendor.webex_events import WebexEvents, Event
    from myapp._vendor.webex_events.testing import FakeWebex

    end = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    fake = FakeWebex(events=300, seed=7, end=end, days=1.0)
    start = end - dt.timedelta(days=1)
    with fake.serve() as url, WebexEvents(token=fake.token, base_url=url) as client:
        events = list(client.list_events(from_=start, to=end, page_size=50))
    assert all(isinstance(e, Event) for e in events)
    ids = sorted(e.id for e in events)
    assert ids == sorted(fake.expected_ids(from_=start, to=end)), "vendored copy lost events"
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("webex_events", "webex_events_api"))
    print(json.dumps({"events": len(ids), "leaked": leaked}))
    """
)


def test_vendored_copy_imports_and_lists_events(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor.py"), str(project), "--package", PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    target = project / "myapp" / "_vendor" / "webex_events"
    assert (target / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    record = json.loads((target / "VENDORED.json").read_text())
    assert record["package"] == PACKAGE
    assert re.fullmatch(r"[0-9a-f]{64}", record["spec_sha256"])
    assert not (target / "cli").exists()

    original = re.compile(r"\b(import|from)\s+webex_events(_api)?\b|[\"']webex_events(_api)?[\"'.]")
    offenders = [
        f"{path.relative_to(project)}:{number}: {line.strip()}"
        for path in target.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if original.search(line)
    ]
    assert offenders == []

    child = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=project, capture_output=True, text=True, check=False, timeout=120
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["events"] > 0
    assert report["leaked"] == []


def test_vendor_refuses_a_bad_package_name(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor.py"), str(tmp_path), "--package", "my-app.x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "dotted Python name" in result.stderr


def test_vendor_refuses_a_stale_generated_package(tmp_path: Path) -> None:
    """generated/ records the spec it came from; a copy of a stale one is refused."""
    repo = tmp_path / "repo"
    for name in ("scripts", "spec", "generated", "wrapper"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("LICENSE", "pyproject.toml"):
        shutil.copy(ROOT / name, repo / name)
    spec = repo / "spec" / "openapi.yaml"
    spec.write_text(spec.read_text() + "\n# edited after the last `nox -s generate`\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    result = subprocess.run(
        [sys.executable, str(repo / "scripts" / "vendor.py"), str(dest), "--package", PACKAGE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "generated/ is stale" in result.stderr
    assert "nox -s generate" in result.stderr
    assert not any(dest.iterdir())
