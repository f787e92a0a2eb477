"""How every command's ``--help`` reads, declared once for all commands.

Options fall into panels: the command's own options first (Typer's "Options" panel, with
``--help``), then Input, Order export, Output and General. File options show ``FILE`` (a folder
``DIR``), other values a word (``N``, ``NUMBER``, ``TEXT``) or their choices, never a Python type;
flags show none. A default is written one way, in the help text: ``(default: X)``; Typer's
``[default: X]`` is not shown. An option declared with its own ``rich_help_panel`` or ``metavar``
keeps it.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

PANEL_INPUT = "Input"
PANEL_ORDERS = "Order export"
PANEL_OUTPUT = "Output"
PANEL_GENERAL = "General"
PANEL_ORDER = (None, PANEL_INPUT, PANEL_ORDERS, PANEL_OUTPUT, PANEL_GENERAL)

GENERAL = ("config", "seed", "quiet", "verbose")
ORDER_EXPORT = ("map", "preset", "date_format", "returns", "sheet")
OUTPUT_OPTIONS = ("format", "csv_safe")
INPUT_OPTIONS = ("geo", "geo_country")

WORDS = {int: "N", float: "NUMBER", str: "TEXT"}


def polish(command: Any) -> None:
    """Set panels, metavars and default display on a command's parameters (see module doc)."""
    from segchain.cli.common import path_roles

    callback = getattr(command, "callback", None)
    roles = path_roles(inspect.unwrap(callback)) if callback is not None else {}
    if hasattr(command, "commands"):  # the group itself: its flags only, no panels
        for param in command.params:
            if param.metavar is None and _is_flag(param):
                param.metavar = ""
        _help_option(command)
        return
    for param in command.params:
        role = roles.get(param.name or "")
        if param.param_type_name == "argument":
            _argument(param, role)
        else:
            _option(param, role)
        _default_in_help(param)
        param.show_default = False
    _help_option(command)
    rank = {name: i for i, name in enumerate(PANEL_ORDER)}
    # The command's own options first, then a panel it declares itself, then the shared ones.
    command.params.sort(key=lambda p: rank.get(getattr(p, "rich_help_panel", None), 0.5))


def _argument(param: Any, role: Any) -> None:
    if param.metavar is None:
        param.metavar = (param.name or "input").upper()
    shown = "FILE" if role is not None else "TEXT"
    if param.nargs != 1:
        shown += "..."
    # Typer shows an argument's Python type next to its name: show what it names instead.
    param.display_type_rich = lambda ctx, _shown=shown: _shown


def _option(param: Any, role: Any) -> None:
    name = param.name or ""
    if getattr(param, "rich_help_panel", None) is None:
        if name in GENERAL:
            param.rich_help_panel = PANEL_GENERAL
        elif name in ORDER_EXPORT:
            param.rich_help_panel = PANEL_ORDERS
        elif name in OUTPUT_OPTIONS or (role is not None and role.kind == "output"):
            param.rich_help_panel = PANEL_OUTPUT
        elif name in INPUT_OPTIONS or (role is not None and role.kind == "input"):
            param.rich_help_panel = PANEL_INPUT
    if param.metavar is not None:
        return
    if _is_flag(param):
        param.metavar = ""
        return
    annotation = _base(param.type_descriptor.annotation)
    if role is not None or annotation.__name__ == "Path":
        param.metavar = "FILE"
    else:
        param.metavar = WORDS.get(annotation, "TEXT")


def _is_flag(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    is_bool = descriptor is not None and _base(descriptor.annotation) is bool
    return bool(getattr(param, "is_flag", False) or is_bool)


def _base(annotation: Any) -> Any:
    """``int`` of ``int | None`` or ``list[int]``."""
    for arg in typing.get_args(annotation) or ():
        if arg is not type(None):
            return _base(arg)
    return annotation if isinstance(annotation, type) else str


def _default_in_help(param: Any) -> None:
    default = param.default
    if (
        param.required
        or default in (None, False, (), [])
        or callable(default)
        or "(default:" in (param.help or "")
    ):
        return
    if param.param_type_name == "argument" and default == "-":
        shown = "-, stdin"
    elif param.param_type_name == "option" and default == "-":
        shown = "-, stdout"
    else:
        shown = str(default)
    param.help = f"{(param.help or '').rstrip()} (default: {shown})".lstrip()


def _help_option(command: Any) -> None:
    """-h/--help without Typer's ``<bool>``: the command makes (and keeps) it on first request."""
    import typer

    from segchain.cli.app import HELP_OPTIONS

    option = command.get_help_option(typer.Context(command, help_option_names=HELP_OPTIONS))
    if option is not None:
        option.metavar = ""
