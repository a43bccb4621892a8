"""docs/api.md is the public API as the code has it: a snapshot reviewed as one file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_docs_api_md_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "api_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_snapshot_covers_signatures_filters_and_cli_options() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    from webex_events_api.spec import LIST_EVENTS  # noqa: PLC0415 - what the spec says today

    for parameter in LIST_EVENTS.filters:
        assert f"| `{parameter.python_name}` |" in text
        assert f"| `--{parameter.python_name.replace('_', '-')}` |" in text
    assert "**filters: Unpack[ListEventsFilters]) -> EventStream" in text
    assert "**filters: Unpack[ListEventsFilters]) -> AsyncEventStream" in text
