"""``python -m webex_events.testing``: run the fake Webex Events API on loopback HTTP."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._fake import FakeWebex, run_server
from ._misbehave import MISBEHAVE_HELP, parse_misbehaviours

_MADE_UP_TOKEN = "fake-token"  # noqa: S105 - the fake's well-known test token


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, print the base URL as the first stdout line, serve until Ctrl-C/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m webex_events.testing", description=__doc__)
    parser.add_argument("--events", type=int, default=1000, help="number of events (default 1000)")
    parser.add_argument(
        "--days", type=float, default=30.0, help="span of the events, ending now (default 30)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests that fail")
    parser.add_argument("--faults", default=None, help="comma-separated fault kinds (default: all)")
    parser.add_argument("--unknown-fraction", type=float, default=0.0)
    parser.add_argument(
        "--misbehave", action="append", default=[], metavar="NAME[=VALUE]", help=MISBEHAVE_HELP
    )
    parser.add_argument(
        "--token",
        default=None,
        help="the token it accepts (default fake-token); one you give is never printed",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    try:
        misbehaviours = parse_misbehaviours(args.misbehave)
        fake = FakeWebex(
            events=args.events,
            seed=args.seed,
            days=args.days,
            token=_MADE_UP_TOKEN if args.token is None else args.token,
            latency=args.latency,
            rate_limit=args.rate_limit,
            fault_rate=args.fault_rate,
            faults=args.faults.split(",") if args.faults else None,
            unknown_fraction=args.unknown_fraction,
            **misbehaviours,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        parser.error(str(exc))
    # A token the user gave may be a real one: only the fake's own is printed.
    accepts = f"token {_MADE_UP_TOKEN!r}" if args.token is None else "the token given with --token"
    print(f"fake Webex: {args.events} events, {accepts}; Ctrl-C to stop", file=sys.stderr)
    run_server(fake, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
