"""Regenerate from a changed copy of spec/ and run code against the result (spec-flow tests).

The real pinned scripts write a fresh ``webex_events_api`` into a temporary directory; code then
runs in a subprocess whose ``PYTHONPATH`` puts that package first and this repository's wrapper
second, so nothing outside the copied spec/ is edited.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def copy_spec(tmp_path: Path) -> Path:
    """A copy of spec/ below ``tmp_path``; returns the directory."""
    target = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", target)
    return target


def load(spec_dir: Path) -> dict[str, Any]:
    """The copied spec as data."""
    document: dict[str, Any] = yaml.safe_load((spec_dir / "openapi.yaml").read_text())
    return document


def save(spec_dir: Path, document: dict[str, Any]) -> None:
    """Write the changed spec back (key order kept)."""
    (spec_dir / "openapi.yaml").write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def regenerate(spec_dir: Path, out: Path) -> Path:
    """Run scripts/regenerate.py on ``spec_dir`` into ``out``; returns the ``generated`` root."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "regenerate.py"),
            "--spec",
            str(spec_dir),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "generated"


def run_python(
    generated: Path, code: str, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the regenerated package first on the path; fails the test on error."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WEBEX_")}
    full_env["PYTHONPATH"] = os.pathsep.join([str(generated), str(ROOT / "wrapper")])
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=full_env,
        cwd=generated.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result
