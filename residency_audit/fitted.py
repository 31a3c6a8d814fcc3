"""Terminal tables laid out for the width they are printed at, never splitting a word.

rich shrinks every column evenly when a table is too wide, so at 80 columns headers broke mid-word ("provide r").
A FittedTable instead narrows step by step — fold a column into another (its value under or after that column's),
then drop the least important — until every column's longest word fits, sets the widths itself, and says in its
caption which columns it left out. Wide terminals keep everything. A column may cap its longest word (a bucket
name of 60 characters still folds rather than hiding every other column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from .safe import visible

Cell = str | Text


@dataclass(frozen=True)
class Step:
    """One narrowing step: fold `column` into `into` (on a new, dim line, or after a space), or drop it."""

    column: str
    into: str | None = None  # None: drop
    below: bool = True  # fold onto a new line (else after a space)


def _words(value: Cell) -> int:
    """The longest word (whitespace-separated) of a cell: the narrowest it can be without splitting a word."""
    return max((len(w) for w in str(value).split()), default=0)


class FittedTable:
    """A table of `rows` (column name → cell) that fits the width it is rendered at (see the module's doc)."""

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Mapping[str, Cell]],
        steps: Sequence[Step],
        *,
        caps: Mapping[str, int] | None = None,
        caption: str | None = None,
        title_style: str | None = None,
    ) -> None:
        self.title, self.columns, self.rows, self.steps = title, tuple(columns), rows, tuple(steps)
        self.caps, self.caption, self.title_style = dict(caps or {}), caption, title_style

    def layout(self, width: int) -> tuple[list[str], list[Step], list[str], list[int] | None]:
        """The columns shown at `width`, the folds applied, the columns left out, and each shown column's width."""
        shown, folds, dropped = list(self.columns), list[Step](), list[str]()
        widths = self._widths(shown, folds, width)
        for step in self.steps:
            if widths is not None:
                break
            shown.remove(step.column)
            if step.into is None:
                dropped.append(step.column)
                dropped += [f.column for f in folds if f.into == step.column]  # what was folded into it goes too
            else:
                folds.append(step)
            widths = self._widths(shown, folds, width)
        return shown, folds, dropped, widths

    def _cells(self, row: Mapping[str, Cell], shown: list[str], folds: list[Step]) -> list[Cell]:
        cells: list[Cell] = []
        for column in shown:
            cell = row[column]
            for fold in folds:
                if fold.into == column:
                    extra = row[fold.column]
                    if fold.below:
                        cell = Text.assemble(Text(str(cell)), Text(f"\n{extra}", style="dim"))
                    else:
                        cell = f"{cell} {extra}"
            cells.append(cell)
        return cells

    def _widths(self, shown: list[str], folds: list[Step], width: int) -> list[int] | None:
        """Widths that split no word within `width`, or None when even the longest words do not fit.

        Each column gets its longest word, then the room left is shared out towards each column's natural width.
        """
        low = [max(len(w) for w in c.split()) for c in shown]
        high = list(low)
        for row in self.rows:
            for i, cell in enumerate(self._cells(row, shown, folds)):
                low[i] = max(low[i], min(_words(cell), self.caps.get(shown[i], 1 << 30)))
                high[i] = max(high[i], low[i], *(len(line) for line in str(cell).splitlines() or [""]))
        room = width - (3 * len(shown) + 1)  # borders and one space of padding each side
        if sum(low) > room:
            return None
        if sum(high) <= room:
            return high
        spare, want = room - sum(low), [h - lo for h, lo in zip(high, low, strict=True)]
        share = [spare * w // sum(want) for w in want]
        for i in sorted(range(len(want)), key=lambda i: -want[i])[: spare - sum(share)]:
            share[i] += 1
        return [lo + extra for lo, extra in zip(low, share, strict=True)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown, folds, dropped, widths = self.layout(options.max_width)
        caption = self.caption or ""
        if dropped:
            caption += ("\n" if caption else "") + f"{', '.join(dropped)} left out at this width: widen the terminal, "
            caption += "or see --format csv, json or html"
        table = Table(title=self.title, caption=caption or None, show_lines=False, title_style=self.title_style)
        for i, column in enumerate(shown):
            table.add_column(column, overflow="fold", width=widths[i] if widths else None)
        for row in self.rows:
            # Text cells: a value is never read as rich markup, and control characters show as escapes
            table.add_row(*(c if isinstance(c, Text) else Text(visible(c)) for c in self._cells(row, shown, folds)))
        yield table
