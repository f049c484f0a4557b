"""Rendering `labourlab compare`'s Report: its tables, the terminal report, compare.md and the CSV files.

The numbers are computed by `compare.analyse`; here they are only formatted and laid out (with
`tables`, the analysis commands' one table writer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulation.analysis.stats import SEEDS_CAP
from simulation.analysis.tables import Format, Table, latex, rich_table
from simulation.analysis.tables import markdown as to_markdown
from simulation.measures import GROUP_LABELS as GROUPS
from simulation.results import atomic_write

# The cohort table's two totals: everyone who reached a referral point, and the published
# whole-programme rate over referrals (each group's rate weighted by its referrals).
WHOLE_PROGRAMME = "programme"
COHORT_TOTALS = {"all": "all groups", WHOLE_PROGRAMME: "whole programme, over referrals (as published)"}

if TYPE_CHECKING:  # compare imports this module: the Report is only named in annotations here
    from simulation.analysis.compare import Report
    from simulation.measures import Measure

DAGGER = "†"
TableSpec = Table  # the name compare's tables had


def _num(x: float, decimals: int, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if round(x, decimals) == 0:
        return f"{0.0:,.{decimals}f}"  # no "-0", "+0" or "-0.00"
    return f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"


def _money(x: float) -> str:
    return "n/a" if not math.isfinite(x) else (f"-£{-x:,.0f}" if x < 0 else f"£{x:,.0f}")


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


def _pct_band(x: float, low: float, high: float) -> str:
    """A share with its interval or band, in percent."""
    return f"{_pct(x)} [{_pct(low)}, {_pct(high)}]"


def _rate_cell(r: Any, of: bool = True) -> str:
    """A cohort rate with its 90% interval (from two seeds on) and, with `of`, the people per seed
    it is over."""
    cell = _pct_band(r["rate"], r["low"], r["high"]) if r["n_seeds"] >= 2 else _pct(r["rate"])
    return cell + (f" of {_num(r['eligible_per_seed'], 0)}" if of else "")


def _pp(x: float) -> str:
    """A difference of two rates in percentage points, signed."""
    return "n/a" if not math.isfinite(x) else _num(100 * x, 1, signed=True)


def _label(m: Measure) -> str:
    return f"  {m.label}" if m.part_of else m.label  # a breakdown indented under its total


def _levels_table(rep: Report) -> Table:
    rows = []
    lv = rep.levels.set_index(["measure", "arm"])
    for m in rep.measures:
        cells = [_label(m)]
        for a in rep.arms:
            r = lv.loc[(m.name, a)]
            cell = _num(r["mean"], m.decimals)
            if r["n_seeds"] >= 2:
                cell += f" [{_num(r['low'], m.decimals)}, {_num(r['high'], m.decimals)}]"
            cells.append(cell)
        rows.append(cells)
    n = len(rep.seeds)
    return Table(
        ["measure", *rep.arms],
        rows,
        title=f"{rep.place}: each arm, mean [90% interval] over {n} seeds",
        name="levels",
    )


def _diff_cell(r: pd.Series, decimals: int) -> str:
    if r["n_seeds"] == 0:
        return f"n/a (undefined in {r['undefined_in']})" if r["undefined_in"] else "n/a"
    if r["same_in_every_seed"]:
        return "0 (same in every seed)"
    cell = _num(r["mean"], decimals, signed=True)
    if r["n_seeds"] >= 2:
        cell += f" [{_num(r['low'], decimals, True)}, {_num(r['high'], decimals, True)}]"
    if r["interval_includes_zero"]:
        cell += f" {DAGGER}"
    return cell


def _differences_table(rep: Report) -> Table:
    d = rep.differences.set_index(["measure", "comparison"])
    n = len(rep.seeds)
    rows = []
    for m in rep.measures:
        cells = [_label(m)]
        for a, b in rep.comparisons:
            r = d.loc[(m.name, f"{a} - {b}")]
            cell = _diff_cell(r, m.decimals)
            if 0 < r["n_seeds"] < n:
                cell += f" (n={r['n_seeds']})"
            cells.append(cell)
        rows.append(cells)
    return Table(
        ["measure", *[f"{a} - {b}" for a, b in rep.comparisons]],
        rows,
        title=f"{rep.place}: paired differences, same seeds: mean [90% interval] over {n} seeds",
        notes=[
            f"{DAGGER} the 90% interval includes zero: these seeds are too few to sign the difference.",
            "Interval: mean ± t(0.95, n-1)·sd/√n of the seed-by-seed differences (common random numbers).",
        ],
        name="differences",
    )


def _interval_cell(mean: float, low: float, high: float, note: str) -> str:
    """£ mean [low, high], "[unbounded]" when the interval is, or the note alone when there is no mean."""
    if not math.isfinite(mean):
        return note
    return _money(mean) + (f" [{_money(low)}, {_money(high)}]" if math.isfinite(low) else " [unbounded]")


def _everyone_notes(rep: Report) -> list[str]:
    """Beside a common-cohort figure: the same spending over everyone's additional people sustained in work."""
    out = []
    for _, r in rep.cost_per_job.iterrows():
        mean = r.get("everyone_ratio_of_means", math.nan)
        if r["basis"] == "common cohort" and math.isfinite(mean):
            cell = _interval_cell(mean, r["everyone_ratio_low"], r["everyone_ratio_high"], "")
            out.append(
                f"{r['comparison']}: {cell} per additional person sustained in work counting everyone (Δ "
                f"{_num(r['d_people_sustained_everyone'], 0, True)}), not only the common cohort: jobs that go to "
                "people outside it (out of work under 3 months, not claiming) are paid for too."
            )
    return out


def _cost_table(rep: Report) -> Table | None:
    if rep.cost_per_job.empty:
        return None
    rows = []
    for _, r in rep.cost_per_job.iterrows():
        if r["per_seed_note"]:
            per_seed = r["per_seed_note"]
        else:
            per_seed = _money(r["per_seed_mean"])
            if r["n_seeds"] >= 2:
                per_seed += f" [{_money(r['per_seed_low'])}, {_money(r['per_seed_high'])}]"
        ratio = _interval_cell(r["ratio_of_means"], r["ratio_low"], r["ratio_high"], r["ratio_note"])
        net = _interval_cell(r["net_ratio_of_means"], r["net_ratio_low"], r["net_ratio_high"], "n/a")
        rows.append(
            [
                r["comparison"],
                _num(r["d_public_spending"] / 1e6, 2, True),
                _num(r["d_people_sustained"], 0, True),
                per_seed,
                ratio,
                net,
            ]
        )
    on = set(rep.cost_per_job["basis"])
    people = (
        "people of the common cohort (claimants whose spell out of work reached 3 months in the run, the same "
        "definition in every arm) in work six continuous months within two years of entering it"
        if on == {"common cohort"}
        else "people completing six continuous months in work after entering it from out of work, once each"
    )
    return Table(
        [
            "comparison",
            "Δ public spending £m",
            "Δ people sustained in work",
            "per seed, then averaged",
            "ratio of means [Fieller]",
            "net public cost per job [Fieller]",
        ],
        rows,
        title=f"Cost per additional sustained job against {rep.baseline}: "
        f"mean [90% interval] over {len(rep.seeds)} seeds",
        name="cost_per_job",
        notes=[
            "Public spending: every public cost of the policies (employment support: programme fees and grants, "
            "integrated help's services, partnerships, training, brokerage; business support: enterprise hubs), "
            "whoever pays. People sustained in work: " + people + "; job-to-job moves and people already in work "
            "do not count. The ratio of means is Δ mean spending / Δ mean people sustained; its interval is "
            "unbounded when the seeds cannot tell Δ people from zero. Per-seed ratios are unstable when a seed's "
            "Δ is near zero; the ratio of means is the steadier figure. Net public cost per job adds the change "
            "in benefits and takes off the change in tax and sanctions.",
            *_everyone_notes(rep),
            *rep.cost_notes,
        ],
    )


def _cohort_table(rep: Report) -> Table | None:
    if rep.cohorts.empty:
        return None
    c = rep.cohorts.set_index(["group", "arm"])
    rows = []
    for g in dict.fromkeys(rep.cohorts["group"]):
        cells = [str(c.loc[(g, rep.arms[0]), "label"])]
        for a in rep.arms:
            cells.append(_rate_cell(c.loc[(g, a)]))
        rows.append(cells)
    notes = [
        "Job outcomes within two years of becoming eligible, over the people eligible (official definition; only "
        "cohorts followed for the full two years); 'of N' is the number eligible per seed. Comparable with the "
        "published Work Programme statistics by payment group (a job outcome within two years of referral).",
        "'whole programme, over referrals' is the published headline rate (27.8% to December 2017): each "
        "group's rate weighted by its referrals, 'of N' the referrals per seed, n/a for an arm that refers no "
        "one; 'all groups' is over everyone who reached a referral point, referred or not.",
    ]
    for a in rep.no_referral_arms:
        notes.append(
            f"{a} has no referrals: its cohort is the people who reached the Work Programme's referral point "
            "(who would have been referred)."
        )
    notes += _cohort_size_notes(rep)
    if not rep.no_referral_arms:
        notes.append(
            "For an arm with no referrals the cohort is the people who reached the Work Programme's referral "
            "point (who would have been referred)."
        )
    return Table(
        ["claimant group", *rep.arms],
        rows,
        title=f"Two-year job-outcome rate by claimant group: mean [90% interval] over {len(rep.seeds)} seeds",
        notes=[*notes, *rep.cohort_notes],
        name="cohort_outcomes",
    )


def _cohort_size_notes(rep: Report, tolerance: float = 0.05) -> list[str]:
    """Say which arms' cohorts are not the baseline's (different referral points: different people)."""
    c = rep.cohorts[~rep.cohorts["group"].isin(COHORT_TOTALS)].set_index(["arm", "group"])["eligible_per_seed"]
    out = []
    for a in rep.arms:
        if a == rep.baseline:
            continue
        worst = None
        for g in dict.fromkeys(rep.cohorts["group"]):
            if (a, g) not in c.index or (rep.baseline, g) not in c.index:
                continue
            mine, base = float(c.loc[(a, g)]), float(c.loc[(rep.baseline, g)])
            gap = abs(mine - base) / max(base, 1.0)
            if gap > tolerance and (worst is None or gap > worst[0]):
                worst = (gap, g, mine, base)
        if worst is not None:
            _, g, mine, base = worst
            out.append(
                f"{a}'s cohorts are not {rep.baseline}'s (e.g. {GROUPS.get(g, g)}: {_num(mine, 0)} eligible per seed "
                f"against {_num(base, 0)}): its referral points differ, so its rates are for different people, "
                "not a like-for-like comparison" + (" (the common cohort's table is)." if not rep.common.empty else ".")
            )
    return out


REFERRAL_MIX_NOTE = (
    "Each payment group's share of all the programme's referrals over the measured months, every entry cohort "
    "counted (followed up or not), mean over the seeds with referrals; beside it DWP's published mix as reported "
    "at the time, with the band calibration allows: of referrals to November 2012, 91% JSA and 9% ESA; of JSA "
    "referrals June-October 2011, 18.5% 18-24, 49.8% 25+ and over a quarter early access; so each published "
    "share is 0.91 × a JSA group's share of JSA referrals or 0.09 × an ESA group's share of ESA referrals "
    "(configs/targets.toml; referral_mix.csv gives each figure's source). The ex-IB groups have no published "
    "figure here."
)


def _share_cell(r: Any, n: int) -> str:
    """An arm's mean share with its 90% interval, and how many seeds it is over when some referred no one."""
    cell = _pct_band(r["share"], r["low"], r["high"]) if r["n_seeds"] >= 2 else _pct(r["share"])
    return cell + (f" (n={r['n_seeds']})" if r["n_seeds"] < n else "")


def _referral_mix_table(rep: Report) -> Table | None:
    """The referral mix by payment group per arm, beside the published mix."""
    c = rep.referral_mix
    if c.empty:
        return None
    arms = [a for a in rep.arms if a in set(c["arm"])]
    idx = c.set_index(["group", "arm"])
    n = len(rep.seeds)
    rows = []
    for g in dict.fromkeys(c["group"]):
        r = idx.loc[(g, arms[0])]
        published = (
            _pct_band(r["published"], r["published_low"], r["published_high"])
            if math.isfinite(r["published"])
            else "no published figure"
        )
        rows.append([str(r["label"]), published, *[_share_cell(idx.loc[(g, a)], n) for a in arms]])
    silent = [a for a in rep.arms if a not in arms]
    notes = [REFERRAL_MIX_NOTE]
    if silent:
        notes.append(f"No referral mix for {', '.join(silent)}: no one was referred.")
    return Table(
        ["payment group", "published [band]", *arms],
        rows,
        title=f"Referral mix by payment group beside DWP's published mix: mean [90% interval] over {n} seeds",
        notes=notes,
        name="referral_mix",
    )


def _displacement_table(rep: Report) -> Table | None:
    """Effects on the treated and on the untreated eligible, by arm and payment group
    (`analysis.displacement`), where an arm refers a share of a group at random."""
    from simulation.analysis import displacement

    c = rep.displacement
    if c.empty:
        return None
    rows = []
    for (arm, group), g in c.groupby(["arm", "group"], sort=False):
        q = g.set_index("quantity")
        cells = []
        for k in displacement.QUANTITIES:
            if k not in q.index:
                cells.append("n/a")
                continue
            r = q.loc[k]
            pct = k.endswith("_rate") or k == "share_referred"
            fmt = (lambda x: f"{100 * x:.1f}%") if pct else (lambda x: f"{x:+.2f}")
            cells.append(f"{fmt(r['mean'])} [{fmt(r['low'])}, {fmt(r['high'])}]")
        rows.append([arm, GROUPS.get(str(group), str(group)), *cells])
    return Table(
        ["arm", "payment group", *displacement.QUANTITIES.values()],
        rows,
        title=f"Displacement (Crépon et al. 2013): the treated and the untreated eligible against {rep.baseline}, "
        f"mean [90% interval] over {len(rep.seeds)} seeds",
        notes=[
            "Where an arm refers a share of a payment group at random (each person's referral draw is fixed), the "
            "referred are the treated and the eligible not referred the untreated in the same market; each is set "
            "against the same people in the baseline (the baseline's eligible whose fixed referral draw falls on "
            "the same side of the share; over all its eligible where the share is not a whole number of the "
            f"draw's {displacement.DRAW_BANDS} bands). Outcomes within "
            f"{displacement.HORIZON} months of eligibility (Crépon et al. measured at 8). Displacement is the "
            "untreated's loss of job outcomes as a share of the treated's gain. Crépon et al. found the treated's "
            "gains partly at the expense of the untreated, most in weak labour markets, with little net benefit."
        ],
        name="displacement",
    )


def _curve_table(rep: Report) -> Table | None:
    """Cumulative official job-outcome rates by months since entry, by payment group and arm."""
    c = rep.curves
    if c.empty:
        return None
    c = c[c["cohort"] == "official"]
    if c.empty:
        return None
    idx = c.set_index(["group", "horizon", "arm"])
    rows = []
    for g in dict.fromkeys(c["group"]):
        for h in sorted(set(c.loc[c["group"] == g, "horizon"])):
            cells = [f"{idx.loc[(g, h, rep.arms[0]), 'label']}, {h} months"]
            for a in rep.arms:
                cells.append(_rate_cell(idx.loc[(g, h, a)], of=False))
            rows.append(cells)
    return Table(
        ["claimant group, months since entry", *rep.arms],
        rows,
        title=f"Cumulative job-outcome rate by months since entering the official cohort: mean [90% interval] "
        f"over {len(rep.seeds)} seeds",
        notes=[
            "Job outcomes (official definition) within 6, 12, 18 and 24 months of reaching the referral point, over "
            "the people who reached it, as DWP publishes cumulative job outcomes by months since referral. Each "
            "horizon counts only the cohorts the run followed that long, so later horizons rest on fewer entry "
            "months. Each arm's cohort is entered at its own referral point (see the common cohort for like for like).",
        ],
        name="cohort_curves",
    )


def _common_table(rep: Report) -> Table | None:
    """The common cohort's two-year rates per arm, and each arm minus the baseline (paired)."""
    c = rep.common
    if c.empty:
        return None
    idx = c.set_index(["group", "arm"])
    others = [a for a in rep.arms if a != rep.baseline]
    n = len(rep.seeds)
    rows = []
    for g in dict.fromkeys(c["group"]):
        cells = [str(idx.loc[(g, rep.arms[0]), "label"])]
        for a in rep.arms:
            cells.append(_rate_cell(idx.loc[(g, a)]))
        for a in others:
            r = idx.loc[(g, a)]
            if r["diff_n_seeds"] == 0:
                u = r["diff_undefined_in"]
                cells.append(f"n/a (undefined in {u})" if u else "n/a")
            elif r["diff_same_in_every_seed"]:
                cells.append("0 (same in every seed)")
            else:
                cell = _pp(r["diff_mean"])
                if r["diff_n_seeds"] >= 2:
                    cell += f" [{_pp(r['diff_low'])}, {_pp(r['diff_high'])}]"
                if r["diff_includes_zero"]:
                    cell += f" {DAGGER}"
                if 0 < r["diff_n_seeds"] < n:
                    cell += f" (n={r['diff_n_seeds']})"
                cells.append(cell)
        rows.append(cells)
    return Table(
        ["claimant group", *rep.arms, *[f"{a} - {rep.baseline} (pp)" for a in others]],
        rows,
        title=f"Two-year job-outcome rate of the common cohort, and paired differences from {rep.baseline}: "
        f"mean [90% interval] over {n} seeds",
        notes=[
            "The common cohort is defined the same way in every arm, by no regime's referral point: everyone claiming "
            "JSA or ESA and out of work whose spell out of work (linked across gaps of up to 3 months, as DWP links "
            "claims) reaches 3 months during the measured months, once per person, in their claim group then. "
            "Rate: official job outcomes within two years of entry over the entrants (cohorts followed for two "
            "years); 'of N' is the entrants per seed. No regime sets who enters (the entrants differ between arms "
            "only as far as the regimes change who stays out of work for 3 months), so this is the like-for-like "
            "comparison of regimes; the official cohort's rates above are not.",
            f"Differences: each arm's rate minus {rep.baseline}'s on the same seed, in percentage points, "
            f"mean ± t(0.95, n-1)·sd/√n; {DAGGER} the interval includes zero.",
            *rep.common_notes,
        ],
        name="common_cohort",
    )


def _outcome_cost_table(rep: Report) -> Table | None:
    """Cost per gross programme job outcome, per arm."""
    c = rep.cost_per_outcome
    if c.empty:
        return None
    n = len(rep.seeds)
    rows = []
    for _, r in c.iterrows():
        gross = _money(r["gross_mean"])
        if n >= 2 and math.isfinite(r["gross_mean"]):
            gross += f" [{_money(r['gross_low'])}, {_money(r['gross_high'])}]"
        rows.append([r["arm"], gross])
    notes = [
        "Gross: employment-support cost over the run / programme job outcomes over the run (the outcomes providers "
        "were paid for, including people who would have found work anyway), mean over seeds; it favours referring "
        "early, when more people find work unaided. What an arm's jobs cost beyond the baseline's is cost per "
        "additional sustained job.",
    ]
    return Table(
        ["arm", "cost per programme job outcome (gross)"],
        rows,
        title=f"Cost per programme job outcome (gross): mean [90% interval] over {n} seeds",
        notes=[*notes, *(rep.common_notes if rep.common.empty else [])],
        name="cost_per_outcome",
    )


def tables(rep: Report) -> list[Table]:
    """The report's tables, in the order they are printed: levels, differences, then cost per job,
    the referral mix, two-year outcome rates, cumulative outcome rates, the common cohort and cost
    per job outcome where the results give them."""
    out = [_levels_table(rep), _differences_table(rep)]
    for t in (
        _cost_table(rep),
        _referral_mix_table(rep),
        _displacement_table(rep),
        _cohort_table(rep),
        _curve_table(rep),
        _common_table(rep),
        _outcome_cost_table(rep),
    ):
        if t is not None:
            out.append(t)
    return out


def unsigned_lines(rep: Report) -> list[str]:
    """Which differences the seeds are too few to sign, and how many seeds would sign them."""
    n = len(rep.seeds)
    if n < 2:
        return [
            f"Only {n} paired seed: no intervals, so no difference is signed; run at least 2 (5 or more is better)."
        ]
    d = rep.differences
    un = d[d["interval_includes_zero"]]
    if un.empty:
        return [f"Every difference's 90% interval excludes zero over these {n} seeds."]
    labels = {m.name: m.label for m in rep.measures}
    out = [
        f"Too few seeds to sign {len(un)} difference(s) (90% interval includes zero over {n} seeds). Seeds for a "
        f"90% half-width of {rep.precision:.0%} of the mean difference (--precision), planned from these pilot seeds "
        f"(smallest n with t(0.95, n-1)·sd/√n ≤ {rep.precision:g}·|mean|; rough, since the pilot sd is itself "
        "uncertain; differences.csv gives it for every difference):"
    ]
    for _, r in un.iterrows():
        need = r["seeds_for_target_half_width"]
        if not math.isfinite(need):
            est = "not estimable (mean difference 0)"
        elif need > SEEDS_CAP:
            est = f"more than {SEEDS_CAP:,} seeds"
        else:
            est = f"about {int(need):,} seeds"
        out.append(f"  {labels[r['measure']]}, {r['comparison']}: {est}")
    return out


def print_report(rep: Report, console: Any = None) -> None:
    """The report on the terminal: a header line, notes, the tables, and which differences are unsigned."""
    from rich.console import Console

    con = console or Console(width=200)
    seeds = rep.seeds
    span = f"{seeds[0]}..{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ", ".join(map(str, seeds))
    burn = f"{rep.burn_in} months burn-in + " if rep.burn_in is not None else ""
    burn += f"{rep.lead_in} months lead-in + " if rep.lead_in is not None else ""
    print(
        f"labourlab compare: {rep.place}, arms {', '.join(rep.arms)} (baseline {rep.baseline}), "
        f"{len(seeds)} paired seeds ({span}), {burn}{rep.months} months, from {rep.folder}"
    )
    for note in rep.notes:
        print(f"note: {note}")
    for spec in tables(rep):
        con.print(rich_table(spec))
        for note in spec.notes:
            print(note)
    if rep.cost_per_job.empty:
        for note in rep.cost_notes:
            print(f"note: {note}")
    if rep.cohorts.empty:
        for note in rep.cohort_notes:
            print(f"note: {note}")
    if rep.cost_per_outcome.empty:
        for note in rep.common_notes:
            print(f"note: {note}")
    for line in unsigned_lines(rep):
        print(line)


def markdown(rep: Report) -> str:
    """The whole report as Markdown (compare.md)."""
    parts = [
        f"# labourlab compare: {rep.place}",
        "",
        f"Arms {', '.join(rep.arms)} (baseline {rep.baseline}) on {len(rep.seeds)} paired seeds "
        f"({', '.join(map(str, rep.seeds))}), {rep.months} months, runs in `{rep.folder}`.",
        "",
    ]
    if rep.notes:
        parts += [f"- {n}" for n in rep.notes] + [""]
    for spec in tables(rep):
        parts.append(to_markdown(spec))
    if rep.cost_per_job.empty:
        parts += [f"- {n}" for n in rep.cost_notes]
    if rep.cohorts.empty:
        parts += [f"- {n}" for n in rep.cohort_notes]
    if rep.cost_per_outcome.empty:
        parts += [f"- {n}" for n in rep.common_notes]
    parts += ["", *unsigned_lines(rep)]
    return "\n".join(parts).rstrip("\n") + "\n"


def write_report(rep: Report, out_dir: Path, formats: Iterable[Format] = ("md",)) -> list[Path]:
    """Write the tables as CSV (tidy, full precision) and the report in `formats`, each atomically:
    compare.md (the whole report) and, with "tex", compare.tex (its tables, booktabs)."""
    out_dir = Path(out_dir)
    files: list[tuple[str, Callable[[Path], None]]] = [
        ("levels.csv", lambda p: rep.levels.to_csv(p, index=False)),
        ("differences.csv", lambda p: rep.differences.to_csv(p, index=False)),
    ]
    if not rep.cost_per_job.empty:
        files.append(("cost_per_job.csv", lambda p: rep.cost_per_job.to_csv(p, index=False)))
    if not rep.referral_mix.empty:
        files.append(("referral_mix.csv", lambda p: rep.referral_mix.to_csv(p, index=False)))
    if not rep.displacement.empty:
        files.append(("displacement.csv", lambda p: rep.displacement.to_csv(p, index=False)))
    if not rep.cohorts.empty:
        files.append(("cohort_outcomes.csv", lambda p: rep.cohorts.to_csv(p, index=False)))
    if not rep.curves.empty:
        files.append(("cohort_curves.csv", lambda p: rep.curves.to_csv(p, index=False)))
    if not rep.common.empty:
        files.append(("common_cohort.csv", lambda p: rep.common.to_csv(p, index=False)))
    if not rep.cost_per_outcome.empty:
        files.append(("cost_per_outcome.csv", lambda p: rep.cost_per_outcome.to_csv(p, index=False)))
    chosen = list(dict.fromkeys(formats))
    for fmt in chosen:
        if fmt not in ("md", "tex"):
            raise ValueError(f"compare writes its report as md or tex, not {fmt!r} (its tables are CSV already)")
    if "md" in chosen:
        text = markdown(rep)
        files.append(("compare.md", lambda p: p.write_text(text, encoding="utf-8")))
    if "tex" in chosen:
        tex = "\n".join(latex(t) for t in tables(rep))
        files.append(("compare.tex", lambda p: p.write_text(tex, encoding="utf-8")))
    paths = []
    for name, write in files:
        atomic_write(out_dir / name, write)
        paths.append(out_dir / name)
    return paths
