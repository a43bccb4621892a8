"""A ``follow`` of a simulated day, to be killed and restarted by tests (run as a script).

``python _follow_child.py SINK_PATH CLOCK_FILE`` follows the day of :func:`day_fake` into
SINK_PATH (``.jsonl`` or ``.db``) with the CLI's own sinks, checkpointing and signal handling
(``run_follow``), against the fake in process. The simulated clock is kept in CLOCK_FILE so that
a restart goes on at the simulated time the killed run had reached; each poll sleeps
``POLL`` simulated seconds (no real waiting). It exits 0 once the clock passes ``FINISH``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from webex_events import WebexEvents
from webex_events.cli._follow import FollowRequest, run_follow, sink_kind
from webex_events.testing import FakeWebex, SimClock

DAY = datetime(2024, 3, 5, tzinfo=UTC)
SINCE = DAY + timedelta(hours=1)
LAG = timedelta(minutes=5)
OVERLAP = timedelta(minutes=15)
HORIZON = timedelta(hours=3)
RECONCILE_EVERY = timedelta(minutes=30)
POLL = timedelta(minutes=5)
# Up to LAG: most late events; beyond LAG but within LAG + OVERLAP: caught by the overlap;
# 30 to 90 minutes: only a reconcile pass finds them.
LATE = ((0.15, 0.0, 300.0), (0.03, 300.0, 1200.0), (0.01, 1800.0, 5400.0))
EVENTS = 6000
# Far enough past the day for every late event to be visible and a reconcile pass to run.
FINISH = DAY + timedelta(days=1, hours=2)


def day_fake(clock: SimClock | None = None) -> FakeWebex:
    """The organization of the simulated day (the same in every process)."""
    return FakeWebex(
        events=EVENTS, seed=15, start=DAY, end=DAY + timedelta(days=1), late=LATE, wall_clock=clock
    )


def request(sink: Path) -> FollowRequest:
    return FollowRequest(
        filters={},
        since=SINCE,
        lag=LAG,
        poll_interval=POLL,
        overlap=OVERLAP,
        reconcile_horizon=HORIZON,
        reconcile_interval=RECONCILE_EVERY,
        once=False,
        page_size=200,
        concurrency=4,
        kind=sink_kind(str(sink), None),
        output=sink,
        checkpoint_file=None,
        quiet=True,
    )


def main(sink: Path, clock_file: Path) -> int:
    start = datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else SINCE
    clock = SimClock(start)
    fake = day_fake(clock)

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        tmp = clock_file.with_suffix(".tmp")
        tmp.write_text(clock.now().isoformat())
        tmp.replace(clock_file)
        if clock.now() >= FINISH:
            raise KeyboardInterrupt  # the follow stops as on a signal: commit done, exit 0

    def client() -> WebexEvents:
        return WebexEvents(token=fake.token, transport=fake.transport(), concurrency=4)

    run_follow(request(sink), client, clock=clock.now, sleep=sleep)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
