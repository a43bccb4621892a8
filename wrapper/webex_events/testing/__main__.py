"""``python -m webex_events.testing``: run the fake Webex Events API on loopback HTTP."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._fake import FakeWebex, run_server
from ._misbehave import MISBEHAVE_HELP, parse_misbehaviours
from ._oauth import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME

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
    parser.add_argument(
        "--client-id", default=None, help="register an integration (OAuth) with this client ID"
    )
    parser.add_argument(
        "--client-secret",
        default=None,
        help="its secret (default: made up and printed); one you give is never printed",
    )
    parser.add_argument(
        "--redirect-uri", action="append", default=[], help="a redirect URI of it (default: any on loopback)"
    )
    parser.add_argument(
        "--access-token-lifetime", type=float, default=ACCESS_TOKEN_LIFETIME, metavar="SECONDS"
    )
    parser.add_argument(
        "--refresh-token-lifetime", type=float, default=REFRESH_TOKEN_LIFETIME, metavar="SECONDS"
    )
    parser.add_argument(
        "--rotate-refresh-tokens", action="store_true", help="a new refresh token each refresh"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    oauth: dict[str, object] = {}
    if args.client_id is not None:
        oauth = {
            "client_id": args.client_id,
            "client_secret": args.client_secret,
            "redirect_uris": args.redirect_uri,
            "access_token_lifetime": args.access_token_lifetime,
            "refresh_token_lifetime": args.refresh_token_lifetime,
            "rotate_refresh_tokens": args.rotate_refresh_tokens,
        }
    elif args.client_secret is not None or args.redirect_uri or args.rotate_refresh_tokens:
        parser.error("--client-secret, --redirect-uri and --rotate-refresh-tokens only go with --client-id")
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
            **oauth,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        parser.error(str(exc))
    # A token the user gave may be a real one: only the fake's own is printed.
    accepts = f"token {_MADE_UP_TOKEN!r}" if args.token is None else "the token given with --token"
    print(f"fake Webex: {args.events} events, {accepts}; Ctrl-C to stop", file=sys.stderr)
    print(f"fake Webex: organization {fake.org_id} (orgId of the audit streams)", file=sys.stderr)
    if fake.integration is not None:
        # A secret the user gave may be a real one: only one the fake made up is printed.
        secret = (
            "the secret given"
            if args.client_secret is not None
            else f"secret {fake.integration.client_secret}"
        )
        print(f"fake Webex: OAuth integration {fake.integration.client_id} ({secret})", file=sys.stderr)
    run_server(fake, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
