"""Command-line options made from the spec facts (``webex_events_api.spec``): one per filter.

A filter added to spec/ becomes an option of ``export`` and ``follow`` with ``nox -s generate``
alone: its help is the spec's description, an enum offers its values (shell completion too) but
any other string is sent with a warning (Webex adds values before specs catch up), a number gets
the spec's range, an array takes comma-separated values or the option repeated. A value a small
edit away from a known one (``message`` for ``messages``) is taken for a typo and refused with a
suggestion, unless ``--allow-unknown-values`` says it is meant.

The options are those of every stream (``--stream``: one per listing of the spec), one per
Python name (``--actor-id`` serves the three); an option given for a stream whose operation has
no such filter is refused before any request, naming the streams that have it.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from webex_events._errors import InvalidArgumentError
from webex_events._filters import check_number, describe_values, filter_values
from webex_events._query import default_page_size
from webex_events._streams import EVENTS, STREAMS, Stream
from webex_events_api.spec import Parameter

from ._logging import emit
from ._options import CliUsageError

__all__ = [
    "ALLOW_UNKNOWN",
    "FILTER_DEST",
    "ORG_FILTER",
    "check_page_size",
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
#: The filter a stream may require that the access token gives when the option is absent: Webex
#: tokens end with their organization (see ``_streams.token_org_id``). Knowledge of the token's
#: format, not a fact of the spec; a stream that does not require it is not affected.
ORG_FILTER = "org_id"
#: Option names the command has for its own purposes; a filter of the same name gets a prefix.
_RESERVED = {
    "--stream",
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
    if parameter.type == "array":  # text: an occurrence may hold several items, comma-separated
        return _OpenChoice(parameter.enum) if parameter.enum else click.STRING
    if parameter.type == "integer":
        return click.IntRange(parameter.minimum, parameter.maximum)  # type: ignore[arg-type]
    if parameter.type == "number":
        return click.FloatRange(parameter.minimum, parameter.maximum)
    if parameter.type == "boolean":
        return click.BOOL
    if parameter.enum:
        return _OpenChoice(parameter.enum)
    return click.STRING


def _by_python_name() -> dict[str, list[tuple[Stream, Parameter]]]:
    options: dict[str, list[tuple[Stream, Parameter]]] = {}
    for stream in STREAMS.values():
        for parameter in stream.operation.filters:
            options.setdefault(parameter.python_name, []).append((stream, parameter))
    return options


#: Each filter option's parameter in each stream that has it, by Python name, in spec order.
_OPTIONS = _by_python_name()


def _streams(pairs: list[tuple[Stream, Parameter]]) -> str:
    return ", ".join(stream.name for stream, _ in pairs)


def _help(pairs: list[tuple[Stream, Parameter]]) -> str:
    parameter = pairs[0][1]
    text = parameter.description or f"Only events with this {parameter.name}."
    if parameter.type == "array":
        text += " Comma-separated values, or the option repeated."
    if parameter.enum:
        text += f" Known values: {', '.join(parameter.enum)}"
        text += " (another value is sent as given, with a warning)." if parameter.open_enum else "."
    notes = [f"--stream {_streams(pairs)} only"] if len(pairs) < len(STREAMS) else []
    required = [(stream, p) for stream, p in pairs if p.required]
    if required:
        which = "required" if len(required) == len(pairs) else f"required by --stream {_streams(required)}"
        org = parameter.python_name == ORG_FILTER
        notes.append(which + (", default: the access token's organization" if org else ""))
    if notes:
        text += f" ({'; '.join(notes)}.)"
    return text


def filter_options(f: F) -> F:
    """Add one option per filter of every stream's listing in the spec (in spec order, events
    first), and ``--allow-unknown-values``."""
    f = click.option(
        "--" + ALLOW_UNKNOWN.replace("_", "-"),
        ALLOW_UNKNOWN,
        is_flag=True,
        help="Send a filter value that looks like a typo of a known one (e.g. 'message' for"
        " 'messages') as given, instead of refusing it.",
    )(f)
    for name, pairs in reversed(_OPTIONS.items()):
        parameter = pairs[0][1]
        f = click.option(
            _option_name(parameter),
            FILTER_DEST + name,
            type=_click_type(parameter),
            multiple=parameter.type == "array",
            default=None,
            help=_help(pairs),
        )(f)
    return f


def page_size_option(f: F) -> F:
    """``--page-size``: the ranges and defaults the library uses (from each stream's ``max``)."""
    sizes = [(stream, stream.operation.role("page-size")) for stream in STREAMS.values()]
    lows = [p.minimum for _, p in sizes if p.minimum is not None]
    highs = [p.maximum for _, p in sizes if p.maximum is not None]
    ranges = ", ".join(f"{stream.name} {p.minimum}..{p.maximum}" for stream, p in sizes)
    return click.option(
        "--page-size",
        type=click.IntRange(min(lows) if lows else None, max(highs) if highs else None),  # type: ignore[arg-type]
        default=default_page_size(EVENTS),
        show_default=True,
        help=f"Events per request, by default the largest the stream allows (the spec's max: {ranges}).",
    )(f)


def check_page_size(value: int | None, stream: Stream) -> int:
    """``--page-size`` for ``stream``: its default when not given, else checked against its range."""
    ctx = click.get_current_context(silent=True)
    if value is None or (
        ctx is not None and ctx.get_parameter_source("page_size") is ParameterSource.DEFAULT
    ):
        return default_page_size(stream)
    try:
        return int(check_number(stream.operation.role("page-size"), value, "--page-size"))
    except InvalidArgumentError as exc:
        raise CliUsageError(f"{exc} (--stream {stream.name})") from None


def _given(options: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key[len(FILTER_DEST) :]: value
        for key, value in options.items()
        if key.startswith(FILTER_DEST) and value is not None and value != ()
    }


def _items(values: tuple[str, ...]) -> list[str]:
    """An array option's values: each occurrence split at commas, blanks dropped."""
    return [item.strip() for value in values for item in str(value).split(",") if item.strip()]


def validate_filters(options: Mapping[str, Any], stream: Stream = EVENTS) -> dict[str, Any]:
    """The filters of ``stream`` among click's keyword arguments, checked as the library checks them.

    Returns ``{python name: value}`` for those given (an array's values as a list). An option
    of another stream, bad values, or a required filter missing (except ``ORG_FILTER``,
    which ``_streams.fill_from_token`` completes) raise :class:`CliUsageError` naming the option
    (exit 2, nothing sent), as does a value close to one of a spec enum (a typo, unless
    ``--allow-unknown-values``); other values outside a spec enum get a warning.
    """
    operation = stream.operation
    mine = {p.python_name: p for p in operation.filters}
    given = _given(options)
    foreign = [name for name in given if name not in mine]
    if foreign:
        pairs = _OPTIONS[foreign[0]]
        takes = ", ".join(cli_label(p) for p in operation.filters) or "no filter"
        raise CliUsageError(
            f"{cli_label(pairs[0][1])} is not an option of --stream {stream.name} ({operation.summary}"
            f" takes {takes}); it filters --stream {_streams(pairs)}"
        )
    given = {name: _items(value) if mine[name].type == "array" else value for name, value in given.items()}
    # The token's organization is filled in later (the credentials are read after the options).
    stand_in = {
        name: "-" for name, p in mine.items() if name == ORG_FILTER and p.required and name not in given
    }
    try:
        filter_values({**given, **stand_in}, operation=operation, label=cli_label)
    except InvalidArgumentError as exc:
        raise CliUsageError(str(exc)) from None
    for name, value in given.items():
        parameter = mine[name]
        for item in value if isinstance(value, list) else [value]:
            if parameter.enum and str(item) not in parameter.enum:
                _unknown(parameter, str(item), allow=bool(options.get(ALLOW_UNKNOWN)))
    return given


def _unknown(parameter: Parameter, value: str, *, allow: bool) -> None:
    """A value outside the spec's enum: refused if it looks like a typo (unless ``allow``), else a warning."""
    near = _near(value, parameter.enum)
    if near is not None and not allow:
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


def _near(value: str, known: tuple[str, ...]) -> str | None:
    """The known value ``value`` looks like a typo of (case aside), or None if none is close."""
    by_lower = {k.lower(): k for k in known}
    match = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=_TYPO_RATIO)
    return by_lower[match[0]] if match else None
