"""``webex-events auth``: sign in with an integration (OAuth), see the tokens, remove them.

``login`` runs the authorization-code flow of the spec's ``AUTHORIZE`` and ``ACCESS_TOKEN``
operations (both under ``--base-url``, so the fake server serves a whole login): it prints the
authorize URL, receives the browser's redirect on a one-shot listener on 127.0.0.1 (or reads the
redirected URL pasted back, for a browser on another machine), checks ``state``, exchanges the
code and writes the tokens to the auth file (0600) that ``--auth-file`` of every command reads.
"""

from __future__ import annotations

import http.server
import secrets
import sys
import time
import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
import httpx

from webex_events import FileTokenStore, InvalidArgumentError, OAuthTokens
from webex_events._config import tls_verify
from webex_events._links import operation_url
from webex_events_api.spec import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_KEYS,
    ACCESS_TOKEN_REQUEST_KEYS,
    AUTHORIZE,
    LIST_EVENTS,
    LISTINGS,
)

from ._common import logging_options, use_token
from ._errors import EXIT_AUTH, EXIT_IO, EXIT_USAGE, CliError
from ._options import (
    DEFAULT_BASE_URL,
    CliUsageError,
    check_base_url,
    default_auth_file,
    read_token,
    set_auth_file,
)
from ._streams import token_org_id

__all__ = ["auth"]

_K, _F = ACCESS_TOKEN_KEYS, ACCESS_TOKEN_REQUEST_KEYS
#: The scopes a listing's token needs, from the spec (events: spark-compliance:events_read).
SCOPES = sorted({scope for operation in LISTINGS for scope in operation.scopes})
DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    left = epoch - time.time()
    moment = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
    if left <= 0:
        return f"{moment} (expired)"
    return f"{moment} (in {left / 86400:.1f} days)" if left > 86400 else f"{moment} (in {left / 3600:.1f} h)"


@click.group()
def auth() -> None:
    """Sign in with a Webex integration (OAuth); show or remove its tokens."""


def _auth_file_option(f: Any) -> Any:
    return click.option(
        "--auth-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="WEBEX_EVENTS_AUTH_FILE",
        show_envvar=True,
        help=f"Where the tokens are kept (default: {default_auth_file()}).",
    )(f)


class _Redirect(http.server.BaseHTTPRequestHandler):
    """Takes the browser's redirect (one request) and tells the browser it may close."""

    query: dict[str, list[str]] | None = None
    path_expected = "/"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != self.path_expected:
            self.send_error(404)
            return
        type(self).query = parse_qs(parts.query)
        body = b"<html><body>webex-events: signed in, you may close this tab.</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the code is in the URL."""


def _listen(redirect_uri: str) -> http.server.HTTPServer:
    parts = urlsplit(redirect_uri)
    if (
        parts.scheme != "http"
        or parts.hostname not in ("127.0.0.1", "localhost", "::1")
        or parts.port is None
    ):
        raise CliUsageError(
            f"--redirect-uri must be http://127.0.0.1:PORT/PATH to listen on (got {redirect_uri!r});"
            " for another redirect, use --paste"
        )
    _Redirect.query, _Redirect.path_expected = None, parts.path or "/"
    try:
        return http.server.HTTPServer((parts.hostname, parts.port), _Redirect)
    except OSError as exc:
        raise CliError(
            f"cannot listen on {parts.hostname}:{parts.port} for the redirect: {exc.strerror}", EXIT_IO
        ) from None


@auth.command()
@click.option(
    "--client-id",
    envvar="WEBEX_CLIENT_ID",
    show_envvar=True,
    required=True,
    help="The integration's client ID.",
)
@click.option(
    "--client-secret",
    envvar="WEBEX_CLIENT_SECRET",
    show_envvar=True,
    prompt=True,
    hide_input=True,
    help="The integration's client secret (asked for when not given).",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=tuple(LIST_EVENTS.scopes),
    show_default=True,
    help=f"A scope to ask for (repeat for more): {', '.join(SCOPES)}.",
)
@click.option(
    "--redirect-uri",
    default=DEFAULT_REDIRECT,
    show_default=True,
    help="One of the integration's redirect URIs; http://127.0.0.1:PORT/PATH is listened on.",
)
@click.option(
    "--paste", is_flag=True, help="Do not listen: paste the URL the browser was sent to (remote browser)."
)
@click.option("--no-browser", is_flag=True, help="Only print the URL (do not open a browser here).")
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for the browser.",
)
@click.option(
    "--base-url", default=DEFAULT_BASE_URL, envvar="WEBEX_BASE_URL", show_envvar=True, help="API base URL."
)
@_auth_file_option
@logging_options
def login(
    *,
    client_id: str,
    client_secret: str,
    scopes: tuple[str, ...],
    redirect_uri: str,
    paste: bool,
    no_browser: bool,
    timeout: int,
    base_url: str,
    auth_file: Path | None,
) -> None:
    """Sign in with an integration and keep its tokens in the auth file.

    Register an integration at developer.webex.com with this redirect URI and the scopes of the
    streams you read; sign in as a compliance officer (events) or full administrator (audit).
    """
    url = httpx.URL(check_base_url(base_url))
    path = auth_file or default_auth_file()
    use_token(client_secret)
    state = secrets.token_urlsafe(24)
    values = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    authorize = operation_url(url, AUTHORIZE).copy_merge_params(
        {p.name: values[p.python_name] for p in AUTHORIZE.parameters}
    )
    server = None if paste else _listen(redirect_uri)
    click.echo(f"Open this URL in a browser and sign in:\n\n  {authorize}\n", err=True)
    if server is None:
        answer = click.prompt("Paste the URL your browser was sent to", err=True)
        query = parse_qs(urlsplit(answer.strip()).query)
    else:
        if not no_browser:
            webbrowser.open(str(authorize))
        deadline = time.monotonic() + timeout
        with server:
            while _Redirect.query is None and (left := deadline - time.monotonic()) > 0:
                server.timeout = left
                server.handle_request()
        if _Redirect.query is None:
            raise CliError(f"no redirect from the browser within {timeout} s (--timeout)", EXIT_AUTH)
        query = _Redirect.query
    if query.get("state", [""])[0] != state:
        raise CliError("the redirect's state does not match this login: refused (start again)", EXIT_AUTH)
    if "error" in query:
        raise CliError(
            f"sign-in refused: {query['error'][0]} {query.get('error_description', [''])[0]}".strip(),
            EXIT_AUTH,
        )
    code = query.get("code", [""])[0]
    if not code:
        raise CliError("the redirect carries no code", EXIT_AUTH)
    form = {
        _F.grant_type: "authorization_code",
        _F.client_id: client_id,
        _F.client_secret: client_secret,
        _F.code: code,
        _F.redirect_uri: redirect_uri,
    }
    asked = time.time()
    try:
        with httpx.Client(verify=tls_verify(url), timeout=30, follow_redirects=False) as http:
            response = http.post(operation_url(url, ACCESS_TOKEN), data=form)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the token endpoint: {type(exc).__name__}", EXIT_AUTH) from None
    try:
        raw = response.json()
    except ValueError:
        raw = None
    if (
        response.status_code != 200
        or not isinstance(raw, dict)
        or not isinstance(raw.get(_K.access_token), str)
    ):
        detail = (
            raw.get("error_description") or raw.get("message") or raw.get("error")
            if isinstance(raw, dict)
            else ""
        )
        raise CliError(f"the code exchange was refused (HTTP {response.status_code}: {detail})", EXIT_AUTH)
    lifetime, refresh_life = raw.get(_K.expires_in), raw.get(_K.refresh_token_expires_in)
    tokens = OAuthTokens(
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=str(raw.get(_K.refresh_token) or ""),
        access_token=raw[_K.access_token],
        expires_at=asked + lifetime if type(lifetime) is int else None,
        expires_in=lifetime if type(lifetime) is int else None,
        refresh_expires_at=asked + refresh_life if type(refresh_life) is int else None,
        scope=raw.get(_K.scope) if isinstance(raw.get(_K.scope), str) else " ".join(scopes),
    )
    if not tokens.refresh_token:
        raise CliError("the token endpoint answered without a refresh token", EXIT_AUTH)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        FileTokenStore(path).save(tokens)
    except Exception as exc:  # TokenRefreshError: cannot write
        raise CliError(str(exc), EXIT_IO) from None
    click.echo(
        f"signed in as integration {client_id}; tokens saved to {path} (0600)\n"
        f"  access token expires {_when(tokens.expires_at)}\n"
        f"  refresh token expires {_when(tokens.refresh_expires_at)}\n"
        f"  scopes: {tokens.scope}",
        err=True,
    )


@auth.command()
@_auth_file_option
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A token file instead.",
)
@logging_options
def status(auth_file: Path | None, token_file: Path | None) -> None:
    """Show the credentials the commands would use: kind, scopes, expiry (nothing secret)."""
    set_auth_file(auth_file)
    credentials = read_token(token_file)
    use_token(credentials)
    if isinstance(credentials, str):
        source = f"--token-file {token_file}" if token_file is not None else "$WEBEX_ACCESS_TOKEN"
        click.echo(f"an access token from {source} (personal, bot or integration: not refreshed)")
        click.echo("  its expiry: ask Webex with the token (webex_events: client.token_expiry())")
        click.echo(f"  organization (the audit streams' default --org-id): {_org(credentials)}")
        return
    t = credentials.tokens
    where = getattr(credentials.store, "path", None)
    click.echo(
        f"integration {t.client_id} (OAuth, refreshed as it expires){f'; tokens in {where}' if where else ''}"
    )
    click.echo(f"  access token expires {_when(t.expires_at) if t.access_token else 'not fetched yet'}")
    click.echo(f"  refresh token expires {_when(t.refresh_expires_at)}")
    click.echo(f"  scopes: {t.scope or 'unknown'}")
    click.echo(f"  organization (the audit streams' default --org-id): {_org(t.access_token)}")


def _org(token: str | None) -> str:
    """The organization a token names (``_streams.token_org_id``), or why none is shown."""
    org = token_org_id(token) if token else None
    return org or ("none named by the token" if token else "not known until an access token is fetched")


@auth.command()
@_auth_file_option
@logging_options
def logout(auth_file: Path | None) -> None:
    """Remove the auth file (Webex has no revocation call: revoke the grant in Webex too)."""
    path = auth_file or default_auth_file()
    try:
        FileTokenStore(path).load()
    except InvalidArgumentError as exc:
        raise CliError(f"{exc}; not removed", EXIT_USAGE) from None
    if not path.exists():
        click.echo(f"no tokens at {path}", err=True)
        return
    path.unlink()
    click.echo(f"removed {path}", err=True)
    sys.stderr.flush()
