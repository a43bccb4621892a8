"""CSV rendering of events: one row per event, a fixed documented column list."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CSV_COLUMNS", "csv_header", "csv_rows"]

#: The columns of ``--format csv``, in order. ``data.X`` is the field ``X`` of the
#: event's ``data`` object. Missing fields are empty; non-string values (numbers,
#: booleans, objects, arrays) are written as compact JSON.
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "resource",
    "type",
    "appId",
    "actorId",
    "orgId",
    "created",
    "data.id",
    "data.type",
    "data.created",
    "data.orgId",
    "data.creatorId",
    "data.roomId",
    "data.roomType",
    "data.personId",
    "data.personEmail",
    "data.text",
    "data.meetingId",
    "data.breakoutSessionId",
    "data.callType",
    "data.callDirection",
    "data.callDurationSeconds",
    "data.isCallAnswered",
    "data.callStartTime",
    "data.callingNumber",
    "data.calledNumber",
    "data.userId",
    "data.userType",
    "data.corelationId",
)

# Pre-split once: (is_data_field, key) per column.
_PLAN: tuple[tuple[bool, str], ...] = tuple(
    (True, c[5:]) if c.startswith("data.") else (False, c) for c in CSV_COLUMNS
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _row(raw: Mapping[str, Any]) -> list[str]:
    data = raw.get("data")
    if not isinstance(data, Mapping):
        data = {}
    return [_cell(data.get(key) if nested else raw.get(key)) for nested, key in _PLAN]


def csv_header() -> str:
    """Return the header line (CRLF-terminated, RFC 4180)."""
    buf = io.StringIO()
    csv.writer(buf).writerow(CSV_COLUMNS)
    return buf.getvalue()


def csv_rows(raws: Iterable[Mapping[str, Any]]) -> str:
    """Render the rows of the given decoded events as CSV text."""
    buf = io.StringIO()
    csv.writer(buf).writerows(_row(raw) for raw in raws)
    return buf.getvalue()
