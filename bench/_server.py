"""The fake Webex server for the benchmarks, in its own process, and ``FakeServer``, which drives it.

``python bench/_server.py --events N --days D --latency S [--rate-limit R] [--warm] ...`` builds a
seeded ``FakeWebex`` ending at the fixed ``_common.END``, serves it on 127.0.0.1 and prints
``READY {"base_url": ...}``. Then it answers one JSON line per command read from stdin:

* ``expected FROM TO`` → ``{"count", "digest"}`` of the ids the server holds in ``[FROM, TO)``;
* ``stats`` → the fake's counters; ``reset`` → zero them;
* EOF or ``quit`` → stop serving and exit.

Running it in its own process keeps its CPU and memory out of the contenders' numbers (and out of
``run.py``'s), and the stdin channel exposes the fake's stats without a debug endpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from _common import END, TOKEN, IdDigest, child_env

if TYPE_CHECKING:  # imported in the server's process only (main)
    from webex_events.testing import FakeWebex


class FakeServer:
    """This file's server in a child process; ``command()`` talks to it over stdin/stdout."""

    def __init__(self, *, events: int, days: float, latency: float, warm: bool = True, **knobs: Any) -> None:
        argv = [sys.executable, str(Path(__file__)), "--events", str(events), "--days", str(days)]
        argv += ["--latency", str(latency), *(["--warm"] if warm else [])]
        for name, value in knobs.items():
            if value is not None:
                argv += [f"--{name.replace('_', '-')}", str(value)]
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env(), bufsize=1
        )
        self._stdin: IO[str] = self._proc.stdin  # type: ignore[assignment]
        self._stdout: IO[str] = self._proc.stdout  # type: ignore[assignment]
        line = self._stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError(f"fake server did not start: {line!r}")
        info = json.loads(line[len("READY ") :])
        self.base_url: str = info["base_url"]
        self.build_s: float = info["build_s"]

    def command(self, text: str) -> dict[str, Any]:
        self._stdin.write(text + "\n")
        self._stdin.flush()
        reply: dict[str, Any] = json.loads(self._stdout.readline())
        return reply

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._stdin.close()
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _warm(fake: FakeWebex) -> int:
    """Build (and cache) the bytes of every event now, so no contender pays for the first serve."""
    ids = fake.expected_ids()
    for event_id in ids:
        fake.event_json(event_id)
    return len(ids)


def _stats(fake: FakeWebex) -> dict[str, Any]:
    stats = fake.stats
    out = {f.name: getattr(stats, f.name) for f in dataclasses.fields(stats)}
    out["statuses"] = {str(k): v for k, v in dict(stats.statuses).items()}
    return out


def main() -> None:
    from webex_events.testing import FakeWebex  # noqa: PLC0415 - only in the server's process

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
    parser.add_argument(
        "--cache-json",
        choices=("auto", "on", "off"),
        default="auto",
        help="keep each event's bytes once served (auto: the fake's default, on up to 250 000 events); "
        "off: every run pays the same serialization, however many ran before",
    )
    args = parser.parse_args()

    t0 = time.perf_counter()
    knobs: dict[str, Any] = {"latency": args.latency}
    if args.cache_json != "auto":
        knobs["cache_json"] = args.cache_json == "on"
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
