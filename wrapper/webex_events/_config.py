"""The constructor arguments both clients share, validated once (before any request)."""

from __future__ import annotations

import ipaddress
import os
import ssl

import httpx

from webex_events_api.spec import SERVER_URL

from ._auth import TOKEN_ENV, Auth, resolve_token
from ._errors import InvalidArgumentError
from ._requester import MAX_RESPONSE_BYTES, Requester
from ._retry import RetryPolicy

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "TOKEN_ENV",
    "configure_client",
    "tls_verify",
    "validate_base_url",
    "validate_concurrency",
]

#: The spec's server (``https://webexapis.com/v1``).
DEFAULT_BASE_URL = SERVER_URL
BASE_URL_ENV = "WEBEX_BASE_URL"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(base_url: object) -> httpx.URL:
    """A usable base URL: http(s), a host, no credentials; plain http only to loopback.

    ``None`` means ``$WEBEX_BASE_URL``, else ``https://webexapis.com/v1`` (as in the CLI).
    """
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    if not isinstance(base_url, str | httpx.URL):
        raise InvalidArgumentError(f"base_url must be a str, got {type(base_url).__name__}")
    try:
        url = httpx.URL(str(base_url).strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InvalidArgumentError("base_url is not a valid URL") from None
    if url.scheme not in ("http", "https"):
        raise InvalidArgumentError(
            f"base_url must use https (or http to loopback), got scheme {url.scheme!r}"
        )
    if not url.host:
        raise InvalidArgumentError("base_url must include a host")
    if url.userinfo:
        raise InvalidArgumentError("base_url must not contain credentials; pass token=... instead")
    if url.scheme == "http" and not _is_loopback(url.host):
        raise InvalidArgumentError(
            f"base_url must use https: plain http is only allowed to loopback, got host {url.host!r}"
        )
    path = url.path.rstrip("/")
    return url.copy_with(path=path or "/", query=None, fragment=None)


def validate_concurrency(value: object, *, name: str = "concurrency") -> int:
    """An int >= 1."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgumentError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _validate_timeout(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        raise InvalidArgumentError(f"timeout must be a number of seconds > 0 or None, got {value!r}")
    return float(value)


def configure_client(
    *,
    token: object,
    auth: object = None,
    base_url: object,
    timeout: object,
    retry: object,
    concurrency: object,
    http_client: object,
    transport: object,
    http_client_type: type[httpx.Client] | type[httpx.AsyncClient],
    max_response_bytes: object = MAX_RESPONSE_BYTES,
) -> tuple[Requester, int, float | None]:
    """Validate the arguments of both clients: the requester, the concurrency, the timeout."""
    url = validate_base_url(base_url)
    if auth is None:
        auth = Auth(resolve_token(token))
    elif token is not None:
        raise InvalidArgumentError("pass token or auth, not both")
    elif not isinstance(auth, Auth):
        raise InvalidArgumentError(
            f"auth must be a webex_events Auth (e.g. OAuthRefresh), got {type(auth).__name__}"
        )
    timeout_s = _validate_timeout(timeout)
    workers = validate_concurrency(concurrency)
    cap = validate_concurrency(max_response_bytes, name="max_response_bytes")
    if retry is None:
        retry = RetryPolicy()
    elif not isinstance(retry, RetryPolicy):
        raise InvalidArgumentError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if http_client is not None and transport is not None:
        raise InvalidArgumentError("pass http_client or transport, not both")
    if http_client is not None and not isinstance(http_client, http_client_type):
        raise InvalidArgumentError(
            f"http_client must be an httpx.{http_client_type.__name__}, got {type(http_client).__name__}"
        )
    requester = Requester(
        auth=auth, base_url=url, retry=retry, attempt_timeout=timeout_s, max_response_bytes=cap
    )
    return requester, workers, timeout_s


def tls_verify(base_url: httpx.URL) -> ssl.SSLContext | bool:
    """httpx's ``verify=`` for a client of ``base_url``: the CA bundle for https, no trust for http.

    Plain http is only allowed to loopback, where no TLS connection is made: its context trusts
    no certificate (a TLS connection fails closed) and loading the CA bundle is skipped.
    """
    if base_url.scheme == "https":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
