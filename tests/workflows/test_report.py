"""`labourlab report`: figures, report.md and report.html from a small real results folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation import cli
from simulation.analysis import report
from simulation.config import make_scenario
from simulation.runner import run_scenario

# 12-month runs follow no cohort for two years, so there is no cohort figure (test_cohort_figure draws one);
# the cumulative outcome curves have their 6-month points.
FIGURES = ("time_paths", "differences", "cost_per_job", "cohort_curves")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """testville, no programme and the cooperative regime, 2 seeds, 6 + 12 months, as run folders."""
    out = tmp_path_factory.mktemp("report") / "runs"
    for regime in ("no_programme", "cooperative"):
        sc = make_scenario("testville", regime, months=12, burn_in=6)
        for seed in (1, 2):
            run_scenario(sc, seed, out / f"{regime}-seed{seed}")
    return out


@pytest.fixture(scope="module")
def written(results: Path) -> tuple[int, str]:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli.main(["report", str(results)])
    return code, buf.getvalue()


def test_report_writes_every_file(results, written):
    code, printed = written
    assert code == 0
    out = results / "report"
    for stem in FIGURES:
        for ext in ("png", "svg"):
            path = out / "figures" / f"{stem}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
            assert f"wrote {path}" in printed
    for name in ("report.md", "report.html", "configs/no_programme.json", "configs/cooperative.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
        assert f"wrote {out / name}" in printed
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporary files


def test_pngs_open_and_are_not_blank(results, written):
    import matplotlib.image

    for stem in FIGURES:
        img = matplotlib.image.imread(results / "report" / "figures" / f"{stem}.png")
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 400
        rgb = img[..., :3].reshape(-1, 3)
        assert len(np.unique(rgb, axis=0)) > 20, stem  # not a single colour
        assert (rgb.std(axis=0) > 0.01).any(), stem


def test_report_md_holds_tables_assumptions_manifest_and_commands(results, written):
    md = (results / "report" / "report.md").read_text(encoding="utf-8")
    for heading in (
        "## Figures",
        "## Tables",
        "## Assumptions the results depend on",
        "## Manifest",
        "## Regenerating this report",
    ):
        assert heading in md
    assert "Levels" in md or "levels" in md
    assert "| measure |" in md and "cooperative - no_programme" in md  # the differences table
    assert "cost per additional sustained job" in md.lower()
    assert "Two-year job-outcome rates by claimant group: no figure" in md
    assert "Two-year job-outcome rate of the common cohort" in md and "Cost per programme job outcome (gross)" in md
    assert not (results / "report" / "figures" / "cohort_outcomes.png").exists()
    for stem in FIGURES:
        assert f"](figures/{stem}.png)" in md
    # assumptions: every calibration parameter marked assumption = true, and the levers that differ
    from simulation.config import load_calibration

    assumed = [k for k, r in load_calibration().records.items() if r.assumption]
    assert assumed and all(f"`{k}`" in md for k in assumed)
    assert "regime levers that differ between arms" in md and "| `caseload` |" in md
    # manifest and commands
    assert "paired seeds | 1, 2" in md and "testville" in md and "burn-in months | 6" in md
    assert f"labourlab report {results}" in md
    # only no_programme and cooperative: the claims needing other arms are noted, not tested
    assert "not tested" in md


def test_report_shows_the_referral_mix_beside_the_published_mix(results, written):
    """The referral mix section: the programme arm's mix of these runs (shares summing to one), none
    for the arm that refers no one, and the published shares of configs/targets.toml."""
    from simulation.analysis import compare, targets

    md = (results / "report" / "report.md").read_text(encoding="utf-8")
    rep = compare.analyse(results)
    table = next(t for t in compare.tables(rep) if t.name == "referral_mix")
    assert compare.markdown(rep).count(f"### {table.title}") == md.count(f"### {table.title}") == 1
    assert "91% JSA and 9% ESA" in md and "No referral mix for no_programme" in md
    mix = rep.referral_mix
    assert set(mix["arm"]) == {"cooperative"}
    assert mix["share"].sum() == pytest.approx(1.0)
    published = targets.load_targets()
    for _, r in mix.iterrows():
        t = published.get(f"referral_share_{r['group']}")
        assert r["published"] == (t.value if t else pytest.approx(float("nan"), nan_ok=True))


def test_report_html_renders_tables_and_images(results, written):
    page = (results / "report" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<table>" in page and "<img" in page and 'src="figures/time_paths.png"' in page


def test_cohort_figure(tmp_path):
    from types import SimpleNamespace

    import matplotlib.image
    import pandas as pd

    rows = [
        {"arm": a, "group": g, "rate": r, "low": r - 0.05, "high": r + 0.05}
        for a, base in (("no_programme", 0.2), ("cooperative", 0.3))
        for g, r in (("jsa_18_24", base + 0.2), ("esa_new", base - 0.1), ("all", base))
    ]
    rep = SimpleNamespace(
        cohorts=pd.DataFrame(rows), arms=["no_programme", "cooperative"], place="testville", seeds=[1, 2]
    )
    paths, caption = report.figure_cohorts(rep, tmp_path, report.Written())
    assert [p.name for p in paths] == ["cohort_outcomes.png", "cohort_outcomes.svg"] and "claimant group" in caption
    img = matplotlib.image.imread(paths[0])
    assert len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 20


def test_cohort_curves_figure(tmp_path):
    """The cumulative job-outcome rates by months since entry: official and common cohorts, JSA 25+
    and all groups, a line per arm."""
    from types import SimpleNamespace

    import matplotlib.image
    import pandas as pd

    rows = [
        {"cohort": k, "arm": a, "group": g, "horizon": h, "rate": r, "low": r - 0.03, "high": r + 0.03}
        for k in ("official", "common")
        for a, lift in (("no_programme", 0.0), ("cooperative", 0.05))
        for g in ("jsa_25_plus", "esa_new", "all")
        for h, r in ((6, 0.05 + lift), (12, 0.2 + lift), (18, 0.3 + lift), (24, 0.35 + lift))
    ]
    rep = SimpleNamespace(
        curves=pd.DataFrame(rows), arms=["no_programme", "cooperative"], place="testville", seeds=[1, 2]
    )
    paths, caption = report.figure_cohort_curves(rep, tmp_path, report.Written())
    assert [p.name for p in paths] == ["cohort_curves.png", "cohort_curves.svg"]
    assert "common cohort" in caption and "months" in caption
    img = matplotlib.image.imread(paths[0])
    assert len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 20
    empty = SimpleNamespace(curves=pd.DataFrame(columns=["cohort", "group", "rate"]), arms=[], place="", seeds=[])
    assert report.figure_cohort_curves(empty, tmp_path, report.Written()) == ([], "")


def test_simple_markdown_converter():
    text = (
        "# Title\n\nSome *text* with `code` and a [link](a.html).\n\n| a | b |\n|---|---:|\n| 1 | 2 \\| 3 |\n\n"
        "- one\n- two\n\n![fig](f.png)\n\n```\nx < y\n```\n"
    )
    out = report.simple_markdown(text)
    assert "<h1>Title</h1>" in out
    assert "<em>text</em>" in out and "<code>code</code>" in out and '<a href="a.html">link</a>' in out
    assert "<th>a</th>" in out and '<td style="text-align:right">2 | 3</td>' in out
    assert "<li>one</li>" in out and '<img alt="fig" src="f.png">' in out
    assert "<pre><code>x &lt; y</code></pre>" in out


def test_report_out_option(results, tmp_path, capsys):
    out = tmp_path / "elsewhere"
    assert cli.main(["report", str(results), "--out", str(out)]) == 0
    assert (out / "report.md").is_file() and (out / "figures" / "differences.svg").is_file()
    assert f"--out {out}" in (out / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["empty", "missing", "file"])
def test_not_a_results_folder_exits_2(tmp_path, capsys, kind):
    target = tmp_path / "x"
    if kind == "empty":
        target.mkdir()
    elif kind == "file":
        target.write_text("hello")
    assert cli.main(["report", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("labourlab: error:") and len(err.splitlines()) == 1
    assert not (target / "report").exists() if target.is_dir() else True


def test_time_paths_are_registry_measures_month_by_month(results):
    from simulation import measures
    from simulation.analysis import results_io

    run = results_io.load_results(results).runs[0]
    g = measures.month_totals(run.monthly)
    paths = {p.key: p for p in report.TIME_PATHS}
    rate = paths["employment_rate"].value(g)
    np.testing.assert_allclose(rate.to_numpy(), 100 * g["employed"].to_numpy() / g["population"].to_numpy())
    cost = paths["public_cost_cum"].value(g)
    np.testing.assert_allclose(cost.to_numpy(), g["public_cost"].cumsum().to_numpy() / 1e6)
    assert cost.iloc[-1] == pytest.approx(measures.evaluate("public_cost", run.monthly))
    assert paths["public_cost_cum"].relative and paths["ltu_share"].needs == ("long_term_unemployed", "unemployed")


def test_report_cost_per_job_is_compares(results, written):
    """The report's cost per additional sustained job is compare's (one function, `analysis.costing`)."""
    from simulation.analysis import compare

    md = (results / "report" / "report.md").read_text(encoding="utf-8")
    rep = compare.analyse(results)
    assert set(rep.cost_per_job["basis"]) == {"common cohort"}
    table = next(t for t in compare.tables(rep) if t.name == "cost_per_job")
    for cell in table.rows[0]:
        assert cell in md, cell


def test_report_without_economies_has_no_cycle_section(results, written):
    md = (results / "report" / "report.md").read_text(encoding="utf-8")
    assert "Across the economic cycle" not in md and "claims in each economy" not in md
    assert not (results / "report" / "figures" / "cycle_paths.png").exists()
