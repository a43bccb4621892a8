"""Command-line options made from the spec facts (``webex_events_api.spec``): one per filter.

A filter added to spec/ becomes an option of ``export`` with ``nox -s generate`` alone: its help
is the spec's description, an enum offers its values (shell completion too) but any other string
is sent with a warning (Webex adds values before specs catch up), a number gets the spec's range.
A value a small edit away from a known one (``message`` for ``messages``) is taken for a typo and
refused with a suggestion, unless ``--allow-unknown-values`` says it is meant.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from webex_events._errors import InvalidArgumentError
from webex_events._filters import describe_values, filter_values, unknown_values
from webex_events._query import PAGE_SIZE
from webex_events_api.spec import LIST_EVENTS, Parameter

from ._logging import emit
from ._options import CliUsageError

__all__ = [
    "ALLOW_UNKNOWN",
    "FILTER_DEST",
    "cli_label",
    "filter_options",
    "page_size_option",
    "validate_filters",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Prefix of the keyword arguments click passes for filters (keeps them apart from other options).
FILTER_DEST = "filter__"
#: The flag that sends a value close to a known one as given (its keyword argument).
ALLOW_UNKNOWN = "allow_unknown_values"
#: How alike (difflib's ratio, ignoring case) a value must be to a known one to be taken for a typo.
#: ``message``/``messages`` is 0.93; values Webex added later (``whiteboards``) are below 0.6.
_TYPO_RATIO = 0.8
_ROLE_OPTIONS = {"range-start": "--from", "range-end": "--to", "page-size": "--page-size"}
#: Option names the command has for its own purposes; a filter of the same name gets a prefix.
_RESERVED = {
    "--from",
    "--to",
    "--since",
    "--page-size",
    "--window",
    "--concurrency",
    "--format",
    "--output",
    "--resume",
    "--demo",
    "--quiet",
    "--base-url",
    "--token-file",
    "--max-response-bytes",
    "--bad-events",
    "--allow-unknown-values",
    "--help",
    "--version",
}


def _option_name(parameter: Parameter) -> str:
    name = "--" + parameter.python_name.rstrip("_").replace("_", "-")
    return name if name not in _RESERVED else "--filter-" + name[2:]


def cli_label(parameter: Parameter) -> str:
    """How the CLI names a parameter in messages: its option."""
    return _ROLE_OPTIONS.get(parameter.role) or _option_name(parameter)


class _OpenChoice(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.3
    """An enum of the spec, offered (help, completion) but not enforced."""

    name = "text"

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "TEXT"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem  # noqa: PLC0415 - only when completing

        return [CompletionItem(c) for c in self.choices if c.startswith(incomplete)]


def _click_type(parameter: Parameter) -> Any:
    if parameter.type == "integer":
        return click.IntRange(parameter.minimum, parameter.maximum)  # type: ignore[arg-type]
    if parameter.type == "number":
        return click.FloatRange(parameter.minimum, parameter.maximum)
    if parameter.type == "boolean":
        return click.BOOL
    if parameter.enum:
        return _OpenChoice(parameter.enum)
    return click.STRING


def _help(parameter: Parameter) -> str:
    text = parameter.description or f"Only events with this {parameter.name}."
    if parameter.enum:
        text += f" Known values: {', '.join(parameter.enum)}"
        text += " (another value is sent as given, with a warning)." if parameter.open_enum else "."
    return text


def filter_options(f: F) -> F:
    """Add one option per List Events filter of the spec (in spec order), and ``--allow-unknown-values``."""
    f = click.option(
        "--" + ALLOW_UNKNOWN.replace("_", "-"),
        ALLOW_UNKNOWN,
        is_flag=True,
        help="Send a filter value that looks like a typo of a known one (e.g. 'message' for"
        " 'messages') as given, instead of refusing it.",
    )(f)
    for parameter in reversed(LIST_EVENTS.filters):
        f = click.option(
            _option_name(parameter),
            FILTER_DEST + parameter.python_name,
            type=_click_type(parameter),
            default=None,
            help=_help(parameter),
        )(f)
    return f


def page_size_option(f: F) -> F:
    """``--page-size``: the range and default the library uses (from the spec's ``max``)."""
    parameter = LIST_EVENTS.role("page-size")
    return click.option(
        "--page-size",
        type=click.IntRange(parameter.minimum, parameter.maximum),  # type: ignore[arg-type]
        default=PAGE_SIZE,
        show_default=True,
        help=f"Events per request ({parameter.name}: {parameter.minimum}..{parameter.maximum}).",
    )(f)


def validate_filters(options: Mapping[str, Any]) -> dict[str, Any]:
    """The filters among click's keyword arguments, checked as the library checks them.

    Returns ``{python name: value}`` for those given. Bad values raise :class:`CliUsageError`
    naming the option (exit 2, nothing sent), as does a value close to one of a spec enum (a
    typo, unless ``--allow-unknown-values``); other values outside a spec enum get a warning.
    """
    given = {
        key[len(FILTER_DEST) :]: value
        for key, value in options.items()
        if key.startswith(FILTER_DEST) and value is not None
    }
    try:
        wire = filter_values(given, label=cli_label)
    except InvalidArgumentError as exc:
        raise CliUsageError(str(exc)) from None
    for parameter, value in unknown_values(wire):
        near = _near(str(value), parameter.enum)
        if near is not None and not options.get(ALLOW_UNKNOWN):
            raise CliUsageError(
                f"{cli_label(parameter)} {value!r} is not one of the spec's values: did you mean {near!r}?"
                " (pass --allow-unknown-values to send it as given)"
            )
        emit(
            logging.WARNING,
            "warning",
            f"{cli_label(parameter)} {value!r} is not one of the spec's values"
            f" ({describe_values(parameter.enum)}); sending it as given",
        )
    return given


def _near(value: str, known: tuple[str, ...]) -> str | None:
    """The known value ``value`` looks like a typo of (case aside), or None if none is close."""
    by_lower = {k.lower(): k for k in known}
    match = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=_TYPO_RATIO)
    return by_lower[match[0]] if match else None
