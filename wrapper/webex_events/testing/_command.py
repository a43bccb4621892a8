"""``webex-events fake-server``: the fake Webex served on loopback HTTP from the command line.

The command group imports this module only when the command is used: importing the fake would
slow down the start of every other command. ``python -m webex_events.testing`` is the
click-free way to serve it (the library without the ``cli`` extra).
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import Any

import click

from webex_events.cli._common import logging_options
from webex_events.cli._options import format_instant, parse_duration

from ._app import Knobs
from ._fake import FakeWebex, run_server
from ._misbehave import MISBEHAVE_HELP, parse_misbehaviours
from ._oauth import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, Integration

__all__ = ["fake_server"]

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_LATE_TIER = re.compile(rf"\s*({_NUMBER})\s*:\s*({_NUMBER})\s*-\s*({_NUMBER})\s*")


@click.command("fake-server")
@click.option(
    "--events", type=click.IntRange(min=0), default=1000, show_default=True, help="Number of events."
)
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Spread the events over the DAYS days before now (floored to the hour). With --live: the"
    " history before now (not floored; 1 hour unless given).",
)
@click.option(
    "--live",
    is_flag=True,
    help="Keep events arriving while it runs: --rate events a minute, created from --days ago to"
    " --live-for from now, each served once the clock passes its created time (plus its --late"
    " delay; default: 20% up to 2 min late, 1% 10-30 min late). Replaces --events.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="EVENTS_PER_MINUTE",
    help="With --live: events created per minute.",
)
@click.option(
    "--live-for",
    "live_for",
    default="1d",
    show_default=True,
    metavar="DURATION",
    help="With --live: how long new events keep arriving (e.g. 90m, 12h, 1d).",
)
@click.option(
    "--late",
    multiple=True,
    metavar="FRACTION:MIN-MAX",
    help="Repeatable: a FRACTION of the events becomes visible MIN to MAX seconds after its created"
    " time (e.g. --late 0.2:0-120 --late 0.01:600-1800; tiers checked in order, fractions sum to at"
    " most 1; --late 0:0-0 for none). Works with or without --live.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds added to each response.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Requests per second before answering 429 with Retry-After (default: unlimited).",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of requests answered with an injected fault (5xx, 423/429, reset, truncated body).",
)
@click.option(
    "--misbehave",
    multiple=True,
    metavar="NAME[=VALUE]",
    help=MISBEHAVE_HELP,
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic organization.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port (0: any free)."
)
@click.option(
    "--token",
    default="fake-token",
    envvar="WEBEX_ACCESS_TOKEN",
    show_envvar=True,
    help="The token the server accepts (so a shell that exported its token can use the fake as is);"
    " a token you give is never printed.",
)
@click.option(
    "--client-id",
    default=None,
    envvar="WEBEX_CLIENT_ID",
    show_envvar=True,
    help="Register an integration with this client ID: /authorize and /access_token sign it in"
    " (OAuth) and its access tokens expire (the --token one keeps working).",
)
@click.option(
    "--client-secret",
    default=None,
    envvar="WEBEX_CLIENT_SECRET",
    show_envvar=True,
    help="The integration's client secret (default: made up and printed); a secret you give is never"
    " printed.",
)
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    metavar="URI",
    help="Repeatable: a redirect URI of the integration (default: any http URI on 127.0.0.1,"
    " localhost or [::1]).",
)
@click.option(
    "--access-token-lifetime",
    type=click.FloatRange(min=0, min_open=True),
    default=ACCESS_TOKEN_LIFETIME,
    show_default=True,
    metavar="SECONDS",
    help="Seconds an access token of the integration lasts (Webex: 14 days).",
)
@click.option(
    "--refresh-token-lifetime",
    type=click.FloatRange(min=0, min_open=True),
    default=REFRESH_TOKEN_LIFETIME,
    show_default=True,
    metavar="SECONDS",
    help="Seconds a refresh token lasts after its last use (Webex: 90 days).",
)
@click.option(
    "--rotate-refresh-tokens",
    is_flag=True,
    help="Each refresh returns a new refresh token and the old one stops working (Webex documents"
    " no rotation: off by default).",
)
@logging_options
def fake_server(
    *,
    events: int,
    days: float,
    live: bool,
    rate: float,
    live_for: str,
    late: tuple[str, ...],
    latency: float,
    rate_limit: float | None,
    fault_rate: float,
    misbehave: tuple[str, ...],
    seed: int,
    port: int,
    token: str,
    client_id: str | None,
    client_secret: str | None,
    redirect_uris: tuple[str, ...],
    access_token_lifetime: float,
    refresh_token_lifetime: float,
    rotate_refresh_tokens: bool,
) -> None:
    """Run the fake Webex server on 127.0.0.1 until Ctrl-C; the first stdout line is its base URL.

    stderr says which token it accepts and how to point the CLI or the library at it. With
    --live, new events keep arriving while it runs (some of them late, as Webex shows them).
    """
    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT

    if live and given("events"):
        raise click.UsageError("--events does not go with --live (the number of events follows --rate)", ctx)
    for name in ("rate", "live_for"):
        if not live and given(name):
            raise click.UsageError(f"--{name.replace('_', '-')} only goes with --live", ctx)
    options: dict[str, Any] = {
        "seed": seed,
        "token": token,
        "latency": latency,
        "rate_limit": rate_limit,
        "fault_rate": fault_rate,
    }
    if late:
        options["late"] = [_late_tier(text, ctx) for text in late]
    commandline = click.core.ParameterSource.COMMANDLINE
    oauth_only = ("client_secret", "redirect_uris", "access_token_lifetime", "refresh_token_lifetime")
    for name in (*oauth_only, "rotate_refresh_tokens"):
        if client_id is None and ctx.get_parameter_source(name) is commandline:
            raise click.UsageError(f"--{name.replace('_', '-')} only goes with --client-id", ctx)
    if client_id is not None:
        options.update(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=redirect_uris,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
            rotate_refresh_tokens=rotate_refresh_tokens,
        )
    try:
        options.update(parse_misbehaviours(misbehave))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param_hint="'--misbehave'") from None
    try:
        if live:
            if given("days"):
                options["history"] = timedelta(days=days)
            duration = parse_duration(live_for, "--live-for")
            fake = FakeWebex.live(rate=rate, duration=duration, **options)
        else:
            fake = FakeWebex(events=events, days=days, **options)
    except ValueError as exc:
        raise click.UsageError(str(exc), ctx) from None

    # A token the user gave (--token or $WEBEX_ACCESS_TOKEN) may be a real one: never printed.
    source = ctx.get_parameter_source("token")
    if source is click.core.ParameterSource.ENVIRONMENT:
        accepts, export = "the token in $WEBEX_ACCESS_TOKEN", ""
    elif given("token"):
        accepts, export = "the token given with --token", "  # and WEBEX_ACCESS_TOKEN=<that token>"
    else:
        accepts, export = f"token {token!r}", f" WEBEX_ACCESS_TOKEN={token}"

    secret_from = None
    if client_secret is not None:
        env = ctx.get_parameter_source("client_secret") is click.core.ParameterSource.ENVIRONMENT
        secret_from = "in $WEBEX_CLIENT_SECRET" if env else "given with --client-secret"

    def announce(base_url: str) -> None:
        sys.stderr.write(
            f"webex-events: fake Webex serving {base_url} ({accepts}); Ctrl-C to stop. Use it with:\n"
            f"  export WEBEX_BASE_URL={base_url}{export}\n"
            f"webex-events: organization {fake.org_id} (the audit streams' --org-id)\n"
        )
        if live:
            sys.stderr.write(
                f"webex-events: live: about {rate:g} new events a minute until {format_instant(fake.end)}\n"
            )
        if fake.integration is not None:
            sys.stderr.write(_integration_lines(fake.integration, fake.knobs, base_url, given=secret_from))
        sys.stderr.flush()

    run_server(fake, port=port, announce=announce)


def _integration_lines(app: Integration, k: Knobs, base_url: str, *, given: str | None) -> str:
    """What stderr says of the integration: a secret is printed only when the fake made it up.

    ``given``: where the secret came from, if the user gave it.
    """
    secret = f"the client secret {given}" if given else f"client secret {app.client_secret}"
    rotation = ", refresh tokens rotate" if k.rotate_refresh_tokens else ""
    login = f"webex-events auth login --base-url {base_url} --client-id {app.client_id}"
    if not given:
        login += f" --client-secret {app.client_secret}"
    return (
        f"webex-events: OAuth integration {app.client_id} ({secret}); access tokens last"
        f" {k.access_token_lifetime:g} s, refresh tokens {k.refresh_token_lifetime:g} s{rotation}."
        f" Sign in with:\n  {login}\n"
    )


def _late_tier(text: str, ctx: click.Context) -> tuple[float, float, float]:
    """One ``--late FRACTION:MIN-MAX`` as ``(fraction, min_seconds, max_seconds)``."""
    found = _LATE_TIER.fullmatch(text)
    if found is None:
        raise click.BadParameter(
            f"{text!r} is not FRACTION:MIN-MAX (seconds), e.g. 0.2:0-120", ctx, param_hint="'--late'"
        )
    return float(found[1]), float(found[2]), float(found[3])
