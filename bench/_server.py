"""The fake Webex server for the benchmarks, in its own process, driven over stdin/stdout.

``python bench/_server.py --events N --days D --latency S [--rate-limit R] [--warm]`` builds a
seeded ``FakeWebex`` ending at the fixed ``_common.END``, serves it on 127.0.0.1 and prints
``READY {"base_url": ...}``. Then it answers one JSON line per command read from stdin:

* ``expected FROM TO`` → ``{"count", "digest"}`` of the ids the server holds in ``[FROM, TO)``;
* ``stats`` → the fake's counters; ``reset`` → zero them;
* EOF or ``quit`` → stop serving and exit.

Running it in its own process keeps its CPU and memory out of the contenders' numbers, and the
stdin channel exposes the fake's stats without a debug endpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from _common import END, TOKEN, IdDigest

from webex_events.testing import FakeWebex


def _warm(fake: FakeWebex) -> int:
    """Build (and cache) the bytes of every event now, so no contender pays for the first serve."""
    app = getattr(fake, "app", None) or getattr(fake, "_app", None)
    org = getattr(app, "org", None)
    if org is None:
        return 0
    for pos in range(org.size):
        org.event_json(pos)
    return int(org.size)


def _stats(fake: FakeWebex) -> dict[str, Any]:
    stats = fake.stats
    out = {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}
    out["statuses"] = {str(k): v for k, v in dict(stats.statuses).items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument(
        "--retry-after", default=None, help="fixed Retry-After text of 429s (default: the exact wait)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warm", action="store_true", help="serialize every event before serving")
    args = parser.parse_args()

    t0 = time.perf_counter()
    knobs: dict[str, Any] = {"latency": args.latency}
    if args.rate_limit is not None:
        knobs["rate_limit"] = args.rate_limit
    if args.retry_after is not None:
        knobs["retry_after_header"] = args.retry_after
    fake = FakeWebex(
        events=args.events,
        seed=args.seed,
        end=END,
        start=END - timedelta(days=args.days),
        token=TOKEN,
        **knobs,
    )
    warmed = _warm(fake) if args.warm else 0
    build = time.perf_counter() - t0
    with fake.serve() as base_url:
        print("READY " + json.dumps({"base_url": base_url, "build_s": build, "warmed": warmed}), flush=True)
        for line in sys.stdin:
            command, *rest = line.split()
            reply: dict[str, Any]
            if command == "expected":
                ids = fake.expected_ids(
                    from_=datetime.fromisoformat(rest[0]), to=datetime.fromisoformat(rest[1])
                )
                reply = IdDigest().add_all(ids).as_dict()
            elif command == "stats":
                reply = _stats(fake)
            elif command == "reset":
                fake.stats.reset()
                reply = {"ok": True}
            elif command == "quit":
                break
            else:
                reply = {"error": f"unknown command {command!r}"}
            print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
