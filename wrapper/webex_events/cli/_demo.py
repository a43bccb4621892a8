"""The demo organization of ``export --demo`` and ``get --demo``: the fake Webex on loopback."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from ._options import now_utc, parse_instant
from ._resume import ExportState, StateError, state_path

__all__ = ["demo_anchor", "demo_server"]

DEMO_EVENTS = 5000
DEMO_DAYS = 7.0
DEMO_SEED = 42


@contextmanager
def demo_server(end: datetime) -> Iterator[tuple[str, str]]:
    """Serve a synthetic organization ending at ``end`` on loopback; yields (base URL, its token)."""
    from webex_events.testing import FakeWebex  # noqa: PLC0415 - only the demo needs the fake

    fake = FakeWebex(events=DEMO_EVENTS, seed=DEMO_SEED, start=end - timedelta(days=DEMO_DAYS), end=end)
    # A token that names the organization, as Webex's do: the audit streams take it from there.
    uuid = base64.urlsafe_b64decode(fake.org_id + "==").decode("ascii").rpartition("/")[2]
    fake.knobs.token = f"{fake.token}_DEMO_{uuid}"
    with fake.serve() as base_url:
        yield str(base_url), str(fake.token)


def demo_anchor(out_path: Path | None, resume: bool) -> datetime:
    """End of the demo organization: now, or the recorded end when resuming a demo export.

    The fake's data depends on its end instant, so a resumed demo must rebuild the same one.
    """
    if resume and out_path is not None:
        with contextlib.suppress(StateError, OSError):
            recorded = ExportState.load(state_path(out_path)).range_to
            return parse_instant(recorded, "state")
    return now_utc()
