"""The analysis commands' one table writer (`simulation.analysis.tables`): Markdown, CSV, LaTeX
booktabs and rich, from the same table, with each format's special characters handled."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from simulation.analysis import tables
from simulation.analysis.tables import Table

AWKWARD = 'a | b, "c"\nd'  # a pipe, a comma, quotes and a newline in one cell


def sample() -> Table:
    return Table(
        ["measure", "no_programme", "cooperative - no_programme"],
        [["employed", "50,000", "+10 [+6, +14]"], ["cost £m", "0.00", "+0.30 †"], [AWKWARD, "x", "y"]],
        title="synthville: paired differences",
        notes=["† the interval includes zero.", "Second note."],
    )


def test_markdown_layout_alignment_and_escaping():
    text = tables.markdown(sample())
    lines = text.splitlines()
    assert lines[:4] == [
        "### synthville: paired differences",
        "",
        "| measure | no_programme | cooperative - no_programme |",
        "|---|---:|---:|",
    ]
    assert lines[4] == "| employed | 50,000 | +10 [+6, +14] |"
    assert lines[6] == '| a \\| b, "c" d | x | y |'  # the pipe escaped, the newline a space
    assert lines[7:] == ["", "† the interval includes zero.", "Second note."]
    assert text.endswith("Second note.\n")
    centred = Table(["a", "b", "c"], [["1", "2", "3"]], align="lcr")
    assert tables.markdown(centred).splitlines() == ["| a | b | c |", "|---|:---:|---:|", "| 1 | 2 | 3 |"]


def test_csv_round_trips_every_cell():
    text = tables.csv(sample())
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(back.columns) == sample().headers
    assert back.values.tolist() == sample().rows
    assert "synthville" not in text and "Second note" not in text  # CSV holds the data only


def test_latex_booktabs_and_escaping():
    assert tables.tex_escape("& % $ # _ { } ~ ^ \\") == (
        r"\& \% \$ \# \_ \{ \} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    t = Table(["share_of_£", "50% & more"], [["a_b", "#1 {x}"]], title="Costs: 100% of $", notes=["~ means about"])
    text = tables.latex(t)
    lines = text.splitlines()
    assert lines[:3] == [r"\begin{table}[htbp]", r"\centering", r"\caption{Costs: 100\% of \$}"]
    i = lines.index(r"\begin{tabular}{lr}")
    assert lines[i + 1 : i + 7] == [
        r"\toprule",
        r"share\_of\_£ & 50\% \& more \\",
        r"\midrule",
        r"a\_b & \#1 \{x\} \\",
        r"\bottomrule",
        r"\end{tabular}",
    ]
    assert r"\textasciitilde{} means about\par" in lines and lines[-1] == r"\end{table}"
    indented = tables.latex(Table(["measure", "n"], [["jobs", "3"], ["  jobs: JSA 25+", "1"]]))
    assert r"\quad{}jobs: JSA 25+ & 1 \\" in indented.splitlines()  # an indented row label keeps its indent
    untitled = tables.latex(Table(["a"], [["1"]]))
    assert r"\caption" not in untitled and r"\par" not in untitled


def test_every_format_and_the_file_writer(tmp_path: Path):
    t = sample()
    for fmt in tables.FORMATS:
        assert tables.render(t, fmt) == {"md": tables.markdown, "csv": tables.csv, "tex": tables.latex}[fmt](t)
    with pytest.raises(ValueError, match="unknown table format"):
        tables.render(t, "html")  # type: ignore[arg-type]
    path = tables.write([t, t], tmp_path / "both.tex", "tex")
    assert path.read_text(encoding="utf-8").count(r"\toprule") == 2
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValueError, match="one table"):
        tables.write([t, t], tmp_path / "both.csv", "csv")


def test_a_table_is_checked():
    with pytest.raises(ValueError, match="one of l, r, c"):
        Table(["a", "b"], [], align="l")
    with pytest.raises(ValueError, match="one of l, r, c"):
        Table(["a", "b"], [], align="lx")
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        Table(["a", "b"], [["1"]])
    assert Table(["a", "b", "c"], []).align == "lrr"


def test_rich_table_prints_cells_as_they_are():
    from rich.console import Console

    t = Table(["name", "value"], [["[bold]x[/bold]", "1"]], title="[red]title[/red]", align="lr")
    rt = tables.rich_table(t)
    assert [c.justify for c in rt.columns] == ["left", "right"]
    con = Console(file=io.StringIO(), width=80, record=True)
    con.print(rt)
    out = con.export_text()
    assert "[bold]x[/bold]" in out and "[red]title[/red]" in out  # markup shown, not interpreted
