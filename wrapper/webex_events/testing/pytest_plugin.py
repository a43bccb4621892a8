"""pytest fixtures for the fake Webex: ``pytest_plugins = ["webex_events.testing.pytest_plugin"]``.

``fake_webex`` is a small deterministic ``FakeWebex`` (function scope); customize it per test with
``@pytest.mark.fake_webex(events=50, latency=0.01, ...)`` (any ``FakeWebex`` argument).
``fake_webex_url`` serves it over loopback HTTP and yields the base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ._fake import FakeWebex

__all__ = ["fake_webex", "fake_webex_url"]

# A fixed end keeps fixture data identical from run to run (the FakeWebex default is "now").
_DEFAULTS: dict[str, Any] = {"events": 300, "seed": 0, "end": datetime(2025, 1, 1, tzinfo=UTC), "days": 30.0}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_webex`` marker (the suite runs with --strict-markers)."""
    config.addinivalue_line("markers", "fake_webex(**options): FakeWebex options for the fake_webex fixture")


@pytest.fixture
def fake_webex(request: pytest.FixtureRequest) -> FakeWebex:
    """A ``FakeWebex`` with 300 events over December 2024 (options from the ``fake_webex`` marker)."""
    options = dict(_DEFAULTS)
    marker = request.node.get_closest_marker("fake_webex")
    if marker is not None:
        options.update(marker.kwargs)
    return FakeWebex(**options)


@pytest.fixture
def fake_webex_url(fake_webex: FakeWebex) -> Iterator[str]:
    """``fake_webex`` served over loopback HTTP; yields ``http://127.0.0.1:PORT/v1``."""
    with fake_webex.serve() as base_url:
        yield base_url
