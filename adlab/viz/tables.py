"""Small tables that show themselves as HTML in a notebook and as text elsewhere."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


class Table:
    """Rows of cells under named columns; ``_repr_html_`` in Jupyter, aligned text in ``repr``.

    Cells are shown with ``str``; ``highlight`` marks one row (the Stepper's current
    step, say, CSS class ``adlab-current``) and ``mark`` another, more lightly
    (``adlab-marked``). The data stays available as ``columns`` and ``rows``.
    """

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str | None = None,
        highlight: int | None = None,
        mark: int | None = None,
        note: str | None = None,
    ) -> None:
        self.columns = tuple(columns)
        self.rows = [tuple(r) for r in rows]
        self.title = title
        self.highlight = highlight
        self.mark = mark
        self.note = note

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i: int) -> tuple:
        return self.rows[i]

    def column(self, name: str) -> list[Any]:
        """The cells of one column, top to bottom."""
        j = self.columns.index(name)
        return [r[j] for r in self.rows]

    def __repr__(self) -> str:
        cells = [list(self.columns)] + [[str(c) for c in r] for r in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if self.title:
            lines.insert(0, self.title)
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(str(c))}</th>" for c in self.columns)
        body = []
        for i, row in enumerate(self.rows):
            style = (
                ' class="adlab-current" style="background:#fff3b0;color:#1d2630"'
                if i == self.highlight
                else ' class="adlab-marked" style="background:#fdf6e3;color:#1d2630"'
                if i == self.mark
                else ""
            )  # fmt: skip
            cells = "".join(
                f"<td{_WRAP if len(str(c)) > _LONG else ''}>{esc(str(c))}</td>" for c in row
            )
            body.append(f"<tr{style}>{cells}</tr>")
        caption = f"<caption>{esc(self.title)}</caption>" if self.title else ""
        note = f'<p style="margin:2px 0;color:#555">{esc(self.note)}</p>' if self.note else ""
        return (
            f"<style>{_CSS}</style>"
            '<table class="adlab-table" style="border-collapse:collapse;font-family:monospace">'
            f"{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"
        )


_LONG = 48  # characters: a longer cell (an error message, say) wraps instead of widening
_WRAP = ' style="white-space:normal;min-width:22em;max-width:40em"'
_CSS = (
    ".adlab-table td,.adlab-table th{padding:1px 10px;text-align:left;white-space:nowrap}"
    ".adlab-table th{border-bottom:1px solid #999}"
)
