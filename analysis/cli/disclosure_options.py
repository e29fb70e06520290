"""``--min-cell`` and ``--unsafe-analyst-output``: disclosure control on the command line.

One policy for every analysis command (``km``, ``cif``, ``cox``, ``impact``,
``report``): its output, text and ``--json`` alike, applies the minimum cell size
``k`` (default :data:`~analysis.disclosure.DEFAULT_MIN_CELL`), because a terminal's
output is easily pasted into an e-mail or a slide. ``--min-cell`` below
:data:`~analysis.disclosure.MIN_CELL_FLOOR` is refused (exit 2) unless
``--unsafe-analyst-output`` is given, which the JSON then says in its top-level
``"disclosure"`` block and the text output in a warning. ``desist report`` makes a
file meant to leave the analyst's desk: it has no unsafe option.
"""

from __future__ import annotations

from collections.abc import Callable

import click

# The constants module imports nothing: `desist km --help` stays fast.
from analysis.constants import DEFAULT_MIN_CELL, MIN_CELL_FLOOR

UNSAFE_WARNING = ("warning: unsafe analyst output (--unsafe-analyst-output): counts below "
                  f"{MIN_CELL_FLOOR} may be shown; do not publish or share it")


def min_cell_option(*, aliases: tuple[str, ...] = (), unsafe: bool = True) -> Callable:
    """``--min-cell K`` (and, with ``unsafe``, the ``--unsafe-analyst-output`` flag).

    ``aliases`` are older names of the same option (``--min-group-size``).
    """

    def decorate(func: Callable) -> Callable:
        if unsafe:
            func = click.option(
                "--unsafe-analyst-output", "unsafe_analyst_output", is_flag=True,
                help=f"Allow --min-cell below {MIN_CELL_FLOOR} (down to 1: no suppression) "
                     "for the analyst's own screen; the output says it is unsafe.")(func)
        return click.option(
            "--min-cell", *aliases, "min_cell", type=int, default=DEFAULT_MIN_CELL,
            show_default=True,
            help=f"Minimum cell size k: counts of 1 to k-1 people, and numbers that would "
                 f"reveal them, are hidden (null in JSON); at least {MIN_CELL_FLOOR}.")(func)

    return decorate


def checked_min_cell(min_cell: int, unsafe: bool = False, *, published: bool = False) -> int:
    """``min_cell`` once checked against the publication floor (exit 2 when refused).

    ``published``: the output is meant to leave the analyst's desk (no unsafe option).
    """
    from analysis.disclosure import published_min_cell  # numpy and pandas: when running

    k = published_min_cell(min_cell, setting="--min-cell", unsafe=unsafe,
                           unsafe_option=None if published else "--unsafe-analyst-output")
    if unsafe:
        click.echo(UNSAFE_WARNING, err=True)
    return k
