"""Write docs/api.md: the public API (library signatures, enums, CLI options) as one reviewed file.

It is made from the code, so it is also a snapshot: ``tests/test_api_reference.py`` fails when
it is stale, and a spec change that alters the public API (a new filter, an enum value, a range)
shows up in review as a diff of this one file.

Example::

    python scripts/api_reference.py          # rewrite docs/api.md
    python scripts/api_reference.py --check  # exit 1 with a diff when docs/api.md is stale
"""

from __future__ import annotations

import argparse
import difflib
import enum
import inspect
import re
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "api.md"
_OBJECT_AT = re.compile(r" at 0x[0-9a-f]+")
_MODULE_PREFIX = re.compile(
    r"\b(typing|collections\.abc|datetime|webex_events_api\.\w+(\.\w+)*|webex_events\._\w+)\."
)


def _unions(text: str) -> str:
    """``Union[a, B[c, d]]`` → ``a | B[c, d]`` (how the code spells it)."""
    while (start := text.find("Union[")) >= 0:
        depth, parts, begin = 0, [], start + len("Union[")
        for index in range(begin, len(text)):
            char = text[index]
            if char == "[":
                depth += 1
            elif char == "]" and depth:
                depth -= 1
            elif char == "]":
                parts.append(text[begin:index].strip())
                break
            elif char == "," and not depth:
                parts.append(text[begin:index].strip())
                begin = index + 1
        text = text[:start] + " | ".join(parts) + text[index + 1 :]
    return text


def _signature(obj: Callable[..., Any], generic: dict[str, str] | None = None) -> str:
    """``(args) -> result`` without private parameters, module paths or type variables."""
    try:
        signature = inspect.signature(obj, eval_str=True)
    except (NameError, TypeError, ValueError):
        signature = inspect.signature(obj)
    public = [p for p in signature.parameters.values() if not p.name.startswith("_") and p.name != "self"]
    text = str(signature.replace(parameters=public))
    text = re.sub(r"\*<class '([\w.]+)'>", r"Unpack[\1]", text)
    text = _MODULE_PREFIX.sub("", text)
    text = _unions(re.sub(r"Optional\[([^\]]+)\]", r"\1 | None", text)).replace("NoneType", "None")
    for variable, concrete in (generic or {}).items():
        text = text.replace("~" + variable, concrete)
    return _OBJECT_AT.sub("", text)


def _generic_arguments(cls: type) -> dict[str, str]:
    """``{"StreamT": "EventStream", ...}`` for a class deriving from a generic base."""
    found: dict[str, str] = {}
    for base in getattr(cls, "__orig_bases__", ()):
        origin = typing.get_origin(base)
        for variable, argument in zip(
            getattr(origin, "__parameters__", ()), typing.get_args(base), strict=False
        ):
            name = getattr(argument, "__name__", str(argument))
            module = getattr(argument, "__module__", "")
            found[variable.__name__] = f"{module}.{name}" if module == "httpx" else name
    return found


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    for name, member in vars(cls).items():
        if name.startswith("_") and name not in ("__init__",):
            continue
        yield name, member
    for base in cls.__mro__[1:]:
        if base.__module__.startswith("webex_events") and base.__name__.endswith("Base"):
            for name, member in vars(base).items():
                if not name.startswith("_") and name not in vars(cls):
                    yield name, member


def _class(name: str, cls: type, lines: list[str]) -> None:
    own_doc = cls.__doc__ not in (enum.Enum.__doc__, enum.StrEnum.__doc__)
    if issubclass(cls, enum.Enum):
        alias = f" (`{cls.__name__}`)" if cls.__name__ != name else ""
        lines.append(f"### `{name}`{alias}: enum\n")
        if own_doc and _summary(cls):
            lines.append(_summary(cls) + "\n")
        lines.append(", ".join(f"`{m.value}`" for m in cls) + "\n")
        return
    if issubclass(cls, BaseException):
        bases = ", ".join(b.__name__ for b in cls.__bases__)
        lines.append(f"### `{name}({bases})`\n")
        lines.append(_summary(cls) + "\n")
        return
    generic = _generic_arguments(cls)
    lines.append(f"### `{name}{_signature(cls, generic)}`\n")
    lines.append(_summary(cls) + "\n")
    for member_name, member in _members(cls):
        if member_name == "__init__":
            continue
        if isinstance(member, property):
            lines.append(f"- `.{member_name}`: {_summary(member)}")
        elif callable(member):
            lines.append(f"- `.{member_name}{_signature(member, generic)}`: {_summary(member)}")
    lines.append("")


def _row(*cells: str) -> str:
    """A Markdown table row (``|`` inside a cell escaped, as in ``str | None``)."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _filters(lines: list[str]) -> None:
    from webex_events_api import spec  # noqa: PLC0415

    methods = {
        "listEvents": "list_events",
        "listAdminAuditEvents": "list_admin_audit_events",
        "listSecurityAuditEvents": "list_security_audit_events",
    }
    for operation in spec.LISTINGS:
        # ListEventsFilters, ListAdminAuditEventsFilters...: the TypedDict of the operation's filters
        typed = getattr(spec, operation.operation_id[0].upper() + operation.operation_id[1:] + "Filters")
        hints = typing.get_type_hints(typed)
        method = methods.get(operation.operation_id, operation.operation_id)
        lines.append(f"### `{method}(**filters)`: the filters of the spec's {operation.summary}\n")
        lines.append("| keyword | type | wire name | rules | description |")
        lines.append("|---|---|---|---|---|")
        for parameter in operation.filters:
            kind = re.sub(r"webex_events_api\.models\.\w+\.", "", str(hints[parameter.python_name]))
            kind = kind.replace("<class '", "").replace("'>", "")
            rules = ["required"] if parameter.required else []
            rules += [f"required when {k} is {', '.join(v)}" for k, v in parameter.required_when]
            rules += [f"only when {k} is {', '.join(v)}" for k, v in parameter.only_when]
            if parameter.event_field:
                rules.append(f"selects on `{parameter.event_field}`")
            lines.append(
                _row(
                    f"`{parameter.python_name}`",
                    f"`{kind}`",
                    f"`{parameter.name}`",
                    "; ".join(rules),
                    parameter.description,
                )
            )
        size = operation.role("page-size")
        limit = f"; at most {operation.max_range.days} days per request" if operation.max_range else ""
        lines.append(
            f"\n`page_size`: {size.minimum}..{size.maximum} (the spec's `{size.name}`); paging:"
            f" {operation.paging}{limit}.\n"
        )


def _cli(lines: list[str]) -> None:
    import click  # noqa: PLC0415

    from webex_events.cli import main  # noqa: PLC0415

    lines.append("## Command line: `webex-events`\n")
    lines.append(_summary(main) + "\n")
    for name, command in sorted(main.commands.items()):
        lines.append(f"### `webex-events {name}`\n")
        lines.append(_summary(command.callback) + "\n")
        lines.append("| option | type | default | help |")
        lines.append("|---|---|---|---|")
        for param in command.params:
            if not isinstance(param, click.Option) and not isinstance(param, click.Argument):
                continue
            names = ", ".join(f"`{o}`" for o in (*param.opts, *param.secondary_opts))
            kind = param.type.name if not getattr(param, "is_flag", False) else "flag"
            if isinstance(param.type, click.IntRange | click.FloatRange):
                kind += f" {param.type.min}..{param.type.max}"
            unset = param.default in (None, False) or type(param.default).__name__ == "Sentinel"
            default = "" if unset else f"`{param.default}`"
            help_text = getattr(param, "help", None) or ""
            lines.append(_row(names, kind, default, " ".join(help_text.split())))
        lines.append("")


def render() -> str:
    """The text of docs/api.md for the code as it is now."""
    import webex_events  # noqa: PLC0415
    import webex_events.testing  # noqa: PLC0415

    lines = [
        "# API reference",
        "",
        "Made from the code by `python scripts/api_reference.py` (a test fails when it is stale):",
        "a change of the public API, the spec's filters and enums included, is a diff of this file.",
        "",
        "## Library: `webex_events`",
        "",
    ]
    for module in (webex_events, webex_events.testing):
        if module is not webex_events:
            lines += [f"## Testing: `{module.__name__}`", ""]
        for name in sorted(module.__all__):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                _class(name, obj, lines)
            elif callable(obj):
                lines.append(f"### `{name}{_signature(obj)}`\n\n{_summary(obj)}\n")
            else:
                lines.append(f"### `{name}`\n\n`{obj!r}`\n")
        if module is webex_events:
            _filters(lines)
    _cli(lines)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff when docs/api.md is stale")
    args = parser.parse_args(argv)
    fresh = render()
    current = OUTPUT.read_text() if OUTPUT.exists() else ""
    if args.check:
        if fresh != current:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    fresh.splitlines(keepends=True),
                    "docs/api.md (committed)",
                    "docs/api.md (from the code)",
                )
            )
            print("\ndocs/api.md is stale: run `python scripts/api_reference.py` and review the diff")
            return 1
        return 0
    OUTPUT.write_text(fresh)
    print(f"api_reference: wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
