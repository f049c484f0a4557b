"""`labourlab params`: every calibration parameter as a Markdown table with its evidence."""

from __future__ import annotations

from simulation import cli
from simulation.config import load_calibration


def test_params_table_lists_every_parameter_with_value_range_and_source(tmp_path, capsys):
    out_file = tmp_path / "params.md"
    assert cli.main(["params", "--out", str(out_file)]) == 0
    printed = capsys.readouterr().out
    table = out_file.read_text(encoding="utf-8")
    assert table in printed
    records = load_calibration().records
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(records)
    for name, rec in records.items():
        row = next(r for r in rows if r.startswith(f"| `{name}` |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[2] == f"{rec.value:g}"
        assert cells[3] == f"{rec.low:g} to {rec.high:g}"
        assert cells[5] == ("yes" if rec.assumption else "no")
        assert cells[6].split()[0] in rec.source  # the source is carried, not invented
    assumed = sum(r.assumption for r in records.values())
    assert f"{len(records)} parameters, {assumed} of them assumptions" in table
