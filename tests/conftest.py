"""Shared test configuration: the project's own pytest plugin, as users enable it.

Installed, webex-events loads the plugin by its pytest11 entry point, which is named after the
module: `pytest_plugins` then finds it registered and loads it once (tests/test_packaging.py
checks). The line stays for a source tree on sys.path without the installed entry point.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["webex_events.testing.pytest_plugin"]

# The machine is small and shared: judge hypothesis examples by correctness, not by speed.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


def pytest_configure(config: object) -> None:
    # A shell starts background jobs (`cmd &`) with SIGINT ignored, and exec keeps it ignored:
    # the CLI children of the signal tests would then ignore their Ctrl-C, as they should in a
    # background job. Give this process (each xdist worker too) a handler, so children start with
    # the default disposition whatever started the suite.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _library_logger_as_found() -> Iterator[None]:
    """Give each test the ``webex_events`` logger as it found it: the command, run in process,
    sets its level, its handlers and ``propagate`` (which would hide records from caplog)."""
    logger = logging.getLogger("webex_events")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    yield
    logger.setLevel(saved[0])
    logger.propagate = saved[1]
    logger.handlers[:] = saved[2]
