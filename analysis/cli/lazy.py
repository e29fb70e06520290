"""A click group whose commands are imported only when one of them is used.

The analysis commands pull in pandas, numpy, scipy, statsmodels and duckdb (about
1,400 modules, 2 s). :class:`LazyGroup` knows each command's name, module and one-line
help from a table (:data:`analysis.cli.COMMANDS`), so ``desist --help`` lists every
command without importing any of them, and ``desist km ...`` imports only the module
that defines ``km``. Each module still registers its commands itself with
``@main.command``; tests/test_cli_start.py checks that the table and the modules agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from gettext import gettext as _
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives and what ``desist --help`` says of it.

    Parameters
    ----------
    module : str
        Module that registers the command on the group when imported.
    short_help : str
        The first paragraph of the command's docstring, as click would list it.
    """

    module: str
    short_help: str


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's ``commands``: every name is known, a module is imported on lookup.

    Iterating, ``len`` and ``in`` use the table only; looking a command up (``[name]``,
    ``get``, ``items``...) imports its module, which registers it here.

    Parameters
    ----------
    table : Mapping[str, LazyCommand]
        Command name -> where it lives.
    """

    def __init__(self, table: Mapping[str, LazyCommand]) -> None:
        self._table = dict(table)
        self._loaded: dict[str, click.Command] = {}

    def is_loaded(self, name: str) -> bool:
        """Whether ``name``'s module has been imported (and registered it)."""
        return name in self._loaded

    def registered(self) -> dict[str, click.Command]:
        """The commands registered so far (by the modules imported until now)."""
        return dict(self._loaded)

    def entry(self, name: str) -> LazyCommand | None:
        """The table's entry for ``name`` (``None`` for a command added directly)."""
        return self._table.get(name)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded and name in self._table:
            module = self._table[name].module
            importlib.import_module(module)
            if name not in self._loaded:
                raise RuntimeError(f"{module} did not register the command {name!r} "
                                   "that analysis.cli.COMMANDS says it defines")
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._table.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._table, *self._loaded]))

    def __len__(self) -> int:
        return len(self._table.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._loaded


class LazyGroup(click.Group):
    """A :class:`click.Group` that imports a command's module only when it is used.

    Parameters
    ----------
    name : str, optional
        As for :class:`click.Group`.
    lazy_commands : Mapping[str, LazyCommand]
        Every command of the group: name -> module and one-line help.
    **kwargs
        As for :class:`click.Group` (but ``commands``, which come from ``lazy_commands``).
    """

    commands: LazyCommands

    def __init__(self, name: str | None = None, *, lazy_commands: Mapping[str, LazyCommand],
                 **kwargs: Any) -> None:
        # ``name`` is click.Group's only positional parameter before ``commands``, which
        # this class fills itself.
        super().__init__(name, commands=LazyCommands(lazy_commands), **kwargs)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section of the help, laid out as :class:`click.Group` does.

        A command not yet imported is listed from its table entry, through a stand-in
        :class:`click.Command` so that click shortens its help exactly as it would the
        real one's.
        """
        listed = []
        for name in self.list_commands(ctx):
            entry = self.commands.entry(name)
            if entry is not None and not self.commands.is_loaded(name):
                command = click.Command(name, help=entry.short_help)
            else:
                command = self.commands[name]
            if not command.hidden:
                listed.append((name, command))
        if listed:
            # the same width rule as click.Group.format_commands
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section(_("Commands")):  # click's own translatable title
                formatter.write_dl([(name, command.get_short_help_str(limit))
                                    for name, command in listed])
