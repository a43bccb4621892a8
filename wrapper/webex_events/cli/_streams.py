"""The streams of ``export`` and ``follow`` (``--stream``): what the command derives from each.

Every stream is a listing of the spec (``webex_events._streams.STREAMS``: ``events``,
``admin-audit``, ``security-audit``); what the command needs of one is made from its facts, so a
listing added to spec/ is served here with no edit: the ``--stream`` choice and its help (summary,
scopes), the CSV columns (its item schema's fields), the SQLite table (its operation ID), and
the organization a stream requires, which the access token gives when ``--org-id`` is absent.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from webex_events import Auth
from webex_events._streams import EVENTS, STREAMS, Stream
from webex_events_api import spec
from webex_events_api.spec import Field

from ._csv import csv_columns
from ._options import CliUsageError
from ._spec_options import ORG_FILTER, cli_label

__all__ = [
    "fill_from_token",
    "stream_columns",
    "stream_fields",
    "stream_option",
    "table_name",
    "token_org_id",
]

F = TypeVar("F", bound=Callable[..., Any])

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: A Webex access token ends with ``_<cluster>_<organization uuid>`` (``..._PF84_1eb65fdf-...``).
_TOKEN_ORG = re.compile(r"_[A-Za-z0-9]+_([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})$")


def stream_option(f: F) -> F:
    """``--stream``: which listing of the spec the command reads (default ``events``)."""
    described = "; ".join(
        f"{s.name}: {s.operation.summary} (scope {', '.join(s.operation.scopes) or 'none'})"
        for s in STREAMS.values()
    )
    return click.option(
        "--stream",
        "stream_name",
        type=click.Choice(tuple(STREAMS)),
        default=EVENTS.name,
        show_default=True,
        help=f"The event stream. {described}.",
    )(f)


def _constant(name: str) -> str:
    """``AuditEvent`` -> ``AUDIT_EVENT``, as the generator names the facts of a schema."""
    return _CAMEL.sub("_", name).upper()


def stream_fields(stream: Stream) -> tuple[Field, ...]:
    """The fields of the stream's item schema (``EVENT_FIELDS``, ``AUDIT_EVENT_FIELDS``...)."""
    fields: tuple[Field, ...] = getattr(spec, f"{_constant(stream.operation.item_schema or '')}_FIELDS")
    return fields


def stream_columns(stream: Stream) -> tuple[str, ...]:
    """The CSV columns of the stream: its schema's top-level fields, then ``data.X``."""
    return csv_columns(stream_fields(stream))


def table_name(stream: Stream) -> str:
    """The SQLite table of the stream: ``listAdminAuditEvents`` -> ``admin_audit_events``."""
    return _constant(stream.operation.operation_id.removeprefix("list")).lower()


def token_org_id(token: str) -> str | None:
    """The organization ID (as the API spells it) a Webex access token names, or None.

    Webex access tokens end with ``_<cluster>_<organization uuid>``; the API's ID is the
    base64 of ``ciscospark://us/ORGANIZATION/<uuid>`` without padding (the standard and the
    URL-safe alphabets give the same text for it: no character of it yields ``+`` or ``/``).

    >>> token_org_id("ZjE2_PF84_1eb65fdf-9643-417f-9974-ad72cae0e10f")
    'Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8xZWI2NWZkZi05NjQzLTQxN2YtOTk3NC1hZDcyY2FlMGUxMGY'
    >>> token_org_id("fake-token") is None
    True
    """
    match = _TOKEN_ORG.search(token)
    if match is None:
        return None
    uri = f"ciscospark://us/ORGANIZATION/{match.group(1).lower()}"
    return base64.b64encode(uri.encode("ascii")).rstrip(b"=").decode("ascii")


def fill_from_token(filters: dict[str, Any], stream: Stream, credentials: str | Auth) -> dict[str, Any]:
    """``filters`` with the organization the stream requires taken from the token if not given.

    A usage error naming ``--org-id`` if the token names none (an integration's access token
    not fetched yet, a token of another form).
    """
    required = [p for p in stream.operation.required_filters if p.python_name == ORG_FILTER]
    if not required or filters.get(ORG_FILTER) is not None:
        return filters
    token = credentials if isinstance(credentials, str) else credentials.current()[0]
    org = token_org_id(token) if token else None
    if org is None:
        option = cli_label(required[0])
        raise CliUsageError(
            f"--stream {stream.name} needs {option} (the organization to list): the access token"
            " does not name one (a Webex token ends with _<cluster>_<organization uuid>)"
        )
    return {**filters, ORG_FILTER: org}
