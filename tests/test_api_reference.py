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
    from webex_events_api.spec import LISTINGS  # noqa: PLC0415 - what the spec says today

    for operation in LISTINGS:  # each listing's filters: keywords of its list_* and follow*
        for parameter in operation.filters:
            assert f"| `{parameter.python_name}` |" in text
            assert f"| `--{parameter.python_name.replace('_', '-')}` |" in text
            signatures = [line for line in text.splitlines() if f", {parameter.python_name}: " in line]
            assert len(signatures) >= 4, parameter.python_name  # sync and async, list and follow
    assert ") -> EventStream[Event]`" in text
    assert ") -> AsyncEventStream[AuditEvent]`" in text


def test_help_shows_the_filters_and_the_real_return_types() -> None:
    import inspect  # noqa: PLC0415
    from collections.abc import AsyncIterator, Iterator  # noqa: PLC0415

    from webex_events import (  # noqa: PLC0415
        AsyncEventStream,
        AsyncWebexEvents,
        AuditEvent,
        Event,
        EventStream,
        FollowBatch,
        WebexEvents,
    )
    from webex_events_api.spec import (  # noqa: PLC0415
        LIST_ADMIN_AUDIT_EVENTS,
        LIST_EVENTS,
        LIST_SECURITY_AUDIT_EVENTS,
    )

    expected = {
        (WebexEvents, "list_events", LIST_EVENTS): EventStream[Event],
        (AsyncWebexEvents, "list_events", LIST_EVENTS): AsyncEventStream[Event],
        (WebexEvents, "follow", LIST_EVENTS): Iterator[FollowBatch[Event]],
        (AsyncWebexEvents, "follow", LIST_EVENTS): AsyncIterator[FollowBatch[Event]],
        (WebexEvents, "list_admin_audit_events", LIST_ADMIN_AUDIT_EVENTS): EventStream[AuditEvent],
        (AsyncWebexEvents, "follow_security_audit_events", LIST_SECURITY_AUDIT_EVENTS): AsyncIterator[
            FollowBatch[AuditEvent]
        ],
    }
    for (cls, name, operation), returns in expected.items():
        signature = inspect.signature(getattr(cls, name))
        assert signature.return_annotation == returns, (cls, name)
        assert {p.python_name for p in operation.filters} <= set(signature.parameters), (cls, name)
        assert not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


def test_design_md_names_exactly_the_public_api() -> None:
    import re  # noqa: PLC0415

    import webex_events  # noqa: PLC0415

    text = (ROOT / "docs" / "design.md").read_text()
    block = text.split("## Public API of the wrapper (names exactly these)", 1)[1]
    imported = block.split("from webex_events import (", 1)[1].split("\n)", 1)[0]
    names = set(re.findall(r"\b\w+\b", re.sub(r"#[^\n]*", "", imported)))
    assert names == set(webex_events.__all__)
