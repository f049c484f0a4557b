"""All of England at one row per person: set-up, burn-in and step time, memory, time by mechanism.

Builds `make_scenario("england", regime, people_per_agent=1)` (326 districts, 149 travel-to-work
markets, about 34.75 million people of working age and 2.1 million businesses), runs the burn-in
and `--months` policy months with the model's per-mechanism timers on, and prints:

- wall time of set-up (building people, firms and rates; `model.build_seconds`), of the burn-in
  months and of the policy months (the steps), each with the process's CPU time beside it (on a
  machine shared with other jobs, CPU time is what the run itself cost);
- peak resident memory of the process (ru_maxrss) and its resident memory after imports;
- bytes of state per person (the People arrays plus the model's per-person arrays) and per firm row;
- seconds per month by mechanism over the policy months (`LabourMarketModel(timers=True)`);
- the fastest, median and slowest month (wall), which show how steady the machine was.

    python benchmarks/england.py [--scale 1] [--months 60] [--burn-in 24] [--regime centralised] [--json out.json]

At scale 1 this needs about 3-4 GiB of memory and several minutes; `--scale 10` is a quick check.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import machine, machine_line, maxrss_bytes, table

MECHANISMS = (
    "participation",
    "ageing",
    "separations",
    "business",
    "providers",
    "conditionality",
    "developers",
    "partnerships",
    "skills",
    "training",
    "matching",
    "accounts",
)


def per_person_bytes(model: Any) -> dict[str, float]:
    """Bytes per person of the People arrays, and of the model's own arrays over people."""
    n = model.people.n
    extra = 0
    for value in vars(model).values():
        arrays = value if isinstance(value, list | tuple) else [value]
        for a in arrays:
            if isinstance(a, np.ndarray) and a.ndim == 1 and a.shape[0] >= n // 16 and a is not model.people:
                extra += a.nbytes
    return {"people": model.people.nbytes() / n, "model_arrays": extra / n}


def run(scale: float, months: int, burn_in: int, regime: str, seed: int) -> dict[str, Any]:
    from simulation.config import make_scenario
    from simulation.model import LabourMarketModel

    rss_imports = maxrss_bytes()
    t0 = time.perf_counter()
    sc = make_scenario("england", regime, months=months, burn_in=burn_in, people_per_agent=scale)
    config_s = time.perf_counter() - t0
    gc.collect()
    model = LabourMarketModel(config=sc, seed=seed, agent_views=False, timers=True)
    build = dict(model.build_seconds)
    model.timers.clear()
    gc.collect()
    gc.disable()
    t0, c0 = time.perf_counter(), time.process_time()
    month_s = []
    while model.running:
        t1 = time.perf_counter()
        model.step()
        month_s.append(time.perf_counter() - t1)
    steps_s, steps_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    month_s = month_s[: model.months]  # the last call only finds the run over
    gc.enable()
    n = model.people.n
    return {
        "scale": scale,
        "regime": regime,
        "seed": seed,
        "months": months,
        "burn_in": burn_in,
        "people": n,
        "districts": model.n_districts,
        "markets": len(model.market_names),
        "firm_rows": model.firms.capacity,
        "firms_alive": int(model.firms.alive.sum()),
        "config_s": config_s,
        "setup_s": build["setup"],
        "burn_in_s": build["burn_in"],
        "steps_s": steps_s,
        "setup_cpu_s": build["setup_cpu"],
        "burn_in_cpu_s": build["burn_in_cpu"],
        "steps_cpu_s": steps_cpu_s,
        "month_s": month_s,
        "ns_per_person_month": steps_s / (n * months) * 1e9,
        "peak_rss_bytes": maxrss_bytes(),
        "rss_after_imports_bytes": rss_imports,
        "bytes_per_person": per_person_bytes(model),
        "bytes_per_firm_row": model.firms.nbytes() / model.firms.capacity,
        "mechanism_s": dict(model.timers),
    }


def spread(month_s: list[float]) -> str:
    """The fastest, median and slowest month: a median near the fastest says the machine held
    steady through the run; a shared machine's slow spells show as a median well above it."""
    m = sorted(month_s)
    return f"{m[0]:.2f} / {m[len(m) // 2]:.2f} / {m[-1]:.2f}" if m else ""


def report(r: dict[str, Any]) -> str:
    gib = 2**30
    b = r["bytes_per_person"]
    head = table(
        ["figure", "wall (CPU)", "target"],
        [
            ["people (rows)", f"{r['people']:,}", ""],
            ["districts / markets", f"{r['districts']} / {r['markets']}", ""],
            ["firm rows (alive at end)", f"{r['firm_rows']:,} ({r['firms_alive']:,})", ""],
            ["set-up s", f"{r['setup_s']:.1f} ({r['setup_cpu_s']:.1f})", "< 30"],
            [f"burn-in s ({r['burn_in']} months)", f"{r['burn_in_s']:.1f} ({r['burn_in_cpu_s']:.1f})", ""],
            [f"steps s ({r['months']} months)", f"{r['steps_s']:.1f} ({r['steps_cpu_s']:.1f})", "< 60"],
            ["s per month", f"{r['steps_s'] / r['months']:.2f} ({r['steps_cpu_s'] / r['months']:.2f})", ""],
            ["s per month: fastest / median / slowest (wall)", spread(r["month_s"]), ""],
            [
                "ns per person-month",
                f"{r['ns_per_person_month']:.1f} ({r['steps_cpu_s'] / (r['people'] * r['months']) * 1e9:.1f})",
                "",
            ],
            ["peak RSS GiB", f"{r['peak_rss_bytes'] / gib:.2f}", "< 4"],
            ["RSS after imports GiB", f"{r['rss_after_imports_bytes'] / gib:.2f}", ""],
            ["bytes per person: People / model arrays", f"{b['people']:.0f} / {b['model_arrays']:.0f}", ""],
            ["bytes per firm row", f"{r['bytes_per_firm_row']:.0f}", ""],
        ],
    )
    mech = r["mechanism_s"]
    total = r["steps_s"]
    names = [m for m in MECHANISMS if m in mech] + sorted(set(mech) - set(MECHANISMS))
    rows = [
        [m, f"{mech[m] / r['months'] * 1e3:.0f}", f"{mech[m] / total:.1%}"]
        for m in sorted(names, key=lambda m: -mech[m])
    ]
    untimed = total - sum(mech.values())
    rows.append(
        [
            "(untimed: results row, data collector, councils, hubs, cohorts)",
            f"{untimed / r['months'] * 1e3:.0f}",
            f"{untimed / total:.1%}",
        ]
    )
    rows.append(["total step", f"{total / r['months'] * 1e3:.0f}", "100%"])
    return (
        f"England at {r['scale']:g} person(s) per row, {r['regime']}, seed {r['seed']}\n\n"
        + head
        + "\n\nStep time by mechanism (policy months, timers on)\n\n"
        + table(["mechanism", "ms/month", "share"], rows)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="people per row (default 1: one row per person)")
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--burn-in", type=int, default=24)
    ap.add_argument("--regime", default="centralised")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    info = machine()
    print(f"england: scale {args.scale:g}, {args.months} months ...", file=sys.stderr, flush=True)
    r = run(args.scale, args.months, args.burn_in, args.regime, args.seed)
    print(f"machine: {machine_line(info)}\n")
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, **r}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
