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
    for parameter in LIST_EVENTS.filters:  # each filter is a keyword of list_events and follow
        assert text.count(f", {parameter.python_name}: ") == 4, parameter.python_name
    assert ") -> EventStream`" in text
    assert ") -> AsyncEventStream`" in text


def test_help_shows_the_filters_and_the_real_return_types() -> None:
    import inspect  # noqa: PLC0415
    from collections.abc import AsyncIterator, Iterator  # noqa: PLC0415

    from webex_events import AsyncEventStream, AsyncWebexEvents, EventStream, FollowBatch, WebexEvents  # noqa: PLC0415
    from webex_events_api.spec import LIST_EVENTS  # noqa: PLC0415

    expected = {
        (WebexEvents, "list_events"): EventStream,
        (AsyncWebexEvents, "list_events"): AsyncEventStream,
        (WebexEvents, "follow"): Iterator[FollowBatch],
        (AsyncWebexEvents, "follow"): AsyncIterator[FollowBatch],
    }
    for (cls, name), returns in expected.items():
        signature = inspect.signature(getattr(cls, name))
        assert signature.return_annotation == returns, (cls, name)
        assert {p.python_name for p in LIST_EVENTS.filters} <= set(signature.parameters), (cls, name)
        assert not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


def test_design_md_names_exactly_the_public_api() -> None:
    import re  # noqa: PLC0415

    import webex_events  # noqa: PLC0415

    text = (ROOT / "docs" / "design.md").read_text()
    block = text.split("## Public API of the wrapper (names exactly these)", 1)[1]
    imported = block.split("from webex_events import (", 1)[1].split("\n)", 1)[0]
    names = set(re.findall(r"\b\w+\b", re.sub(r"#[^\n]*", "", imported)))
    assert names == set(webex_events.__all__)
