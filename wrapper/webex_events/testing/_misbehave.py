"""``--misbehave NAME[=VALUE]`` of ``fake-server`` and ``python -m webex_events.testing``.

NAME is a misbehaviour keyword of ``FakeWebex`` with dashes for underscores; a switch takes no
VALUE, an amount may leave it out for its usual value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

__all__ = ["MISBEHAVE_HELP", "parse_misbehaviours"]


def _amount(text: str) -> float:
    """A number of events (an integer) or a fraction of them (a decimal)."""
    return int(text) if re.fullmatch(r"[0-9]+", text) else float(text)


# Keyword -> (how to read VALUE, the value without one: None when VALUE is required, True for a
# switch, which takes none, and how the help spells VALUE).
_MISBEHAVIOURS: Final[dict[str, tuple[Callable[[str], object], object, str]]] = {
    "shuffled_pages": (str, True, ""),
    "newest_last": (str, True, ""),
    "overlapping_pages": (str, True, ""),
    "repeated_in_page": (str, True, ""),
    "strip_link_header": (str, True, ""),
    "false_gzip_rate": (float, None, "RATE"),
    "bad_created": (_amount, 4, "N|FRACTION"),
    "missing_ids": (_amount, 2, "N|FRACTION"),
    "shared_ids": (_amount, 1, "N|FRACTION"),
    "deep_event": (int, 5000, "DEPTH"),
    "large_event": (int, None, "BYTES"),
    "lone_surrogate": (str, True, ""),
}


def _spelled(keyword: str) -> str:
    name = keyword.replace("_", "-")
    _read, bare, value = _MISBEHAVIOURS[keyword]
    if not value:
        return name
    return f"{name}={value}" if bare is None else f"{name}[={value}]"


MISBEHAVE_HELP: Final = (
    "Repeatable: misbehave as FakeWebex's keyword NAME (dashes for underscores) says, for testing"
    " a pipeline against a broken server or bad data: "
    + ", ".join(_spelled(keyword) for keyword in _MISBEHAVIOURS)
    + "; N is a number of events, FRACTION (with a point) a share of them; without a VALUE: "
    + ", ".join(
        f"{keyword.replace('_', '-')} {bare}"
        for keyword, (_read, bare, _value) in _MISBEHAVIOURS.items()
        if bare is not None and bare is not True
    )
    + "."
)


def parse_misbehaviours(texts: Iterable[str]) -> dict[str, object]:
    """``FakeWebex`` keyword arguments from ``NAME[=VALUE]`` texts; ValueError if one is not.

    >>> parse_misbehaviours(["shuffled-pages", "bad-created=0.1", "deep-event", "large-event=2048"])
    {'shuffled_pages': True, 'bad_created': 0.1, 'deep_event': 5000, 'large_event': 2048}
    >>> parse_misbehaviours(["colour=red"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: unknown misbehaviour 'colour': one of shuffled-pages, newest-last, ...
    """
    out: dict[str, object] = {}
    for text in texts:
        name, has_value, value = text.strip().partition("=")
        keyword = name.strip().replace("-", "_")
        found = _MISBEHAVIOURS.get(keyword)
        if found is None:
            known = ", ".join(keyword.replace("_", "-") for keyword in _MISBEHAVIOURS)
            raise ValueError(f"unknown misbehaviour {name.strip()!r}: one of {known}")
        read, bare, _value = found
        if has_value and bare is True:
            raise ValueError(f"{_spelled(keyword)} takes no value, got {text!r}")
        if not has_value and bare is None:
            raise ValueError(f"{_spelled(keyword)} needs a value, got {text!r}")
        try:
            out[keyword] = read(value.strip()) if has_value else bare
        except ValueError:
            raise ValueError(f"{text!r} is not {_spelled(keyword)}") from None
    return out
