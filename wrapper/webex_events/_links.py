"""URLs: of an operation, RFC 8288 ``Link`` headers, origins (what decides where the token may go)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

import httpx

from webex_events_api.spec import Operation

__all__ = ["next_link", "operation_url", "origin", "parse_link_header"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LINK_TARGET = re.compile(r"\s*<([^>]*)>")
_LINK_PARAM = re.compile(
    r"\s*;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*(?:=\s*(?:\"((?:[^\"\\]|\\.)*)\"|([^\s;,\"]*)))?"
)
_QUOTED_PAIR = re.compile(r"\\(.)")


def parse_link_header(values: list[str]) -> list[tuple[str, dict[str, str]]]:
    """RFC 8288 ``Link`` header values → ``[(target, {param: value})]`` (param names lowercased).

    >>> parse_link_header(['<https://x/a?b=1,2>; rel="next last"; title="a;b", <y>; rel=prev'])
    [('https://x/a?b=1,2', {'rel': 'next last', 'title': 'a;b'}), ('y', {'rel': 'prev'})]
    """
    links: list[tuple[str, dict[str, str]]] = []
    for value in values:
        pos = 0
        while pos < len(value):
            if (m := _LINK_TARGET.match(value, pos)) is not None:  # (else garbage: skipped)
                params: dict[str, str] = {}
                pos = m.end()
                while (p := _LINK_PARAM.match(value, pos)) is not None:
                    raw = p.group(2)
                    val = _QUOTED_PAIR.sub(r"\1", raw) if raw is not None else (p.group(3) or "")
                    params.setdefault(p.group(1).lower(), val)  # RFC 8288: later ones are ignored
                    pos = p.end()
                links.append((m.group(1).strip(), params))
            comma = value.find(",", pos)  # the next link-value (commas in <> and quotes: above)
            pos = len(value) if comma < 0 else comma + 1
    return links


def next_link(response: httpx.Response) -> str | None:
    """The target of the first ``rel="next"`` link of a response, or None."""
    values = response.headers.get_list("link")
    if not values:
        return None
    for target, params in parse_link_header(values):
        if "next" in params.get("rel", "").lower().split():
            return target
    return None


def origin(url: httpx.URL) -> tuple[str, str, int]:
    """``(scheme, host, port)`` with the default port filled in."""
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme, 0)


def operation_url(
    base_url: httpx.URL, operation: Operation, path_values: Mapping[str, str] = {}
) -> httpx.URL:
    """The URL of ``operation`` below ``base_url``; path parameters are percent-encoded whole.

    >>> from webex_events_api.spec import GET_EVENT_DETAILS
    >>> str(operation_url(httpx.URL("https://h/v1"), GET_EVENT_DETAILS, {"eventId": "a/b?c"}))
    'https://h/v1/events/a%2Fb%3Fc'
    """
    path = operation.path
    for parameter in operation.parameters:
        if parameter.location == "path":
            # Everything is encoded: an ID with "/" or "?" must stay one path segment.
            path = path.replace("{" + parameter.name + "}", quote(path_values[parameter.name], safe=""))
    raw = base_url.raw_path.rstrip(b"/") + path.encode("ascii")
    return base_url.copy_with(raw_path=raw)
