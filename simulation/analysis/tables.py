"""One table writer for the analysis commands: a table of text cells as Markdown, CSV, LaTeX or a rich console table.

A `Table` is what a report shows: headers, rows of already formatted cells, each column's alignment,
and an optional title (the caption) and notes printed under it. The numbers themselves are
formatted by whoever builds the table; this module only lays the cells out, so the same table reads
the same on the terminal, in a Markdown report and in a paper.

- `markdown`: a GitHub-flavoured pipe table (`|` in a cell escaped), the title as a heading above it;
- `csv`: the cells as CSV (pandas does the quoting); the title and notes are left out, CSV being data;
- `latex`: a booktabs table (`\\toprule`, `\\midrule`, `\\bottomrule`) with LaTeX's special
  characters escaped; non-ASCII text such as £ or Δ is kept, for XeLaTeX or LuaLaTeX (or
  `newunicodechar`) to set;
- `rich_table`: the same table for `rich.console.Console.print`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from simulation.results import atomic_write

Format = Literal["md", "csv", "tex"]
FORMATS: tuple[Format, ...] = ("md", "csv", "tex")

_MD_RULE = {"l": "---", "r": "---:", "c": ":---:"}
_RICH_JUSTIFY = {"l": "left", "r": "right", "c": "center"}
# LaTeX's special characters, each set as itself (str.translate replaces each character once, so the
# braces and backslashes of the replacements are not escaped again).
_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_TABLE = str.maketrans(_TEX_ESCAPES)


@dataclass
class Table:
    """Headers and rows of text cells; `align` holds one letter a column: l(eft), r(ight), c(entre).

    The default alignment is the usual one for a table of figures: the first column (the row's
    label) left, the others right."""

    headers: list[str]
    rows: list[list[str]]
    title: str = ""
    notes: list[str] = field(default_factory=list)
    align: str = ""
    name: str = ""  # a short name, for a file holding the table

    def __post_init__(self) -> None:
        if not self.align:
            self.align = "l" + "r" * (len(self.headers) - 1)
        if len(self.align) != len(self.headers) or set(self.align) - set(_MD_RULE):
            raise ValueError(f"expected one of l, r, c for each of {len(self.headers)} columns, got {self.align!r}")
        for i, row in enumerate(self.rows):
            if len(row) != len(self.headers):
                raise ValueError(f"row {i} has {len(row)} cells for {len(self.headers)} columns")


# --------------------------------------------------------------------------------- Markdown
def _md_cell(text: Any) -> str:
    # A pipe would end the cell and a newline the row.
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(table: Table, heading: str = "###") -> str:
    """The table as Markdown: `heading title`, the table, then its notes, one a line."""
    lines = [f"{heading} {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(_md_cell(h) for h in table.headers) + " |")
    lines.append("|" + "|".join(_MD_RULE[a] for a in table.align) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines += ["", *table.notes]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------- CSV
def csv(table: Table) -> str:
    """The headers and cells as CSV."""
    return pd.DataFrame(table.rows, columns=table.headers, dtype=str).to_csv(index=False, lineterminator="\n")


# ------------------------------------------------------------------------------------ LaTeX
def tex_escape(text: Any) -> str:
    """Text with LaTeX's special characters (& % $ # _ { } ~ ^ \\) set as themselves."""
    return str(text).translate(_TEX_TABLE)


def _tex_cell(text: Any) -> str:
    # LaTeX drops leading spaces; a row label indented under its total keeps its indent as \quad.
    text = str(text)
    body = text.lstrip(" ")
    return r"\quad{}" * ((len(text) - len(body) + 1) // 2) + tex_escape(body)


def latex(table: Table) -> str:
    """The table in a `table` float with booktabs rules, its title the caption and its notes below."""
    row = " & ".join
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if table.title:
        lines.append(rf"\caption{{{tex_escape(table.title)}}}")
    lines += [
        rf"\begin{{tabular}}{{{table.align}}}",
        r"\toprule",
        row(tex_escape(h) for h in table.headers) + r" \\",
        r"\midrule",
        *(row(_tex_cell(c) for c in r) + r" \\" for r in table.rows),
        r"\bottomrule",
        r"\end{tabular}",
    ]
    if table.notes:
        lines.append(r"\par\smallskip\footnotesize")
        lines += [tex_escape(n) + r"\par" for n in table.notes]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- writing
def render(table: Table, fmt: Format) -> str:
    """The table in one of FORMATS."""
    if fmt == "md":
        return markdown(table)
    if fmt == "csv":
        return csv(table)
    if fmt == "tex":
        return latex(table)
    raise ValueError(f"unknown table format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write(tables: Iterable[Table], path: Path, fmt: Format) -> Path:
    """Write tables, one after another, to `path` atomically (CSV: one table only)."""
    tables = list(tables)
    if fmt == "csv" and len(tables) != 1:
        raise ValueError(f"a CSV file holds one table, not {len(tables)}")
    text = "\n".join(render(t, fmt) for t in tables)
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))
    return Path(path)


# ---------------------------------------------------------------------------------- console
def rich_table(table: Table) -> Any:
    """The table as a `rich.table.Table` (markup in the cells printed as it is)."""
    from rich.markup import escape
    from rich.table import Table as RichTable

    t = RichTable(title=escape(table.title) if table.title else None)
    for h, a in zip(table.headers, table.align, strict=True):
        t.add_column(escape(h), justify=_RICH_JUSTIFY[a])  # type: ignore[arg-type]
    for r in table.rows:
        t.add_row(*(escape(c) for c in r))
    return t
