"""The model's monthly person step against a bare numpy kernel doing the same per-person work.

For each size (default 1e6 and 1e7 people, a synthetic place of 8 districts in one market), in one
process: build `LabourMarketModel` (centralised regime, seed 1, 2 burn-in months, no agent views),
time each of `--months` policy months' `model.step()`, then run the bare kernel for the same
number of months on a copy of the model's state and time each of its months. The minimum month of
each is reported as ns per person-month, with their ratio.

The kernel is the least the step's per-person work needs, written as plain numpy (what a careful
user would write by hand, without the model's structure): every month, for every person,

- durations: one more month in the current status;
- participation: one uniform (leave the search / start searching at the district rate), one for
  a benefit claim, one for ill health (an ESA claim at the district rate);
- separations: one uniform against the job-loss hazard (to unemployment or inactivity);
- matching: one uniform; the search weight (intensity x exp(skill) x (1 - barrier)^b x duration
  scar x adviser support); the per-market Cobb-Douglas rate by `bincount`; 1 - exp(-q w);
- skills: growth in work, decay in long unemployment, clipped;
- stocks by district (employed, unemployed, inactive, long-term unemployed, claimants).

It leaves out what touches only a few rows (firms, programme attachment, placements) and the
results row, so the ratio model/kernel is the model's overhead over a floor it cannot go below
with numpy alone.

    python benchmarks/kernel.py [--sizes 1e6,1e7] [--months 6] [--json out.json]
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import size_label, sized_main, table, write_place

REGIME = "centralised"
SEED = 1
BURN_IN = 2


def kernel_state(model: Any) -> dict[str, Any]:
    """Copies of the arrays the kernel reads and writes, and the model's rates and parameters."""
    from simulation.people import EMPLOYED, ESA, INACTIVE, UNEMPLOYED

    people, firms, p = model.people, model.firms, model.params
    n_markets = len(model.market_names)
    intensity = np.zeros(3)
    intensity[UNEMPLOYED], intensity[INACTIVE] = 1.0, p.inactive_search_intensity
    assert EMPLOYED == 0 and UNEMPLOYED == 1 and INACTIVE == 2 and ESA == 2
    return {
        "status": people.status.copy(),
        "months": people.months_in_status.copy(),
        "benefit": people.benefit.copy(),
        "skill": people.skill.copy(),
        "barrier": people.barrier.copy(),
        "hours": people.support_hours.copy(),
        "district": people.district.copy(),
        "market": model.person_market.copy(),
        "n_districts": model.n_districts,
        "n_markets": n_markets,
        "entry_rate": model.entry_rate.copy(),
        "esa_onflow": model.esa_onflow.copy(),
        "vacancies": np.bincount(firms.market, weights=firms.vacancies(), minlength=n_markets),
        "intensity": intensity,
        "rate_eu": float(model.rate_eu),
        "p": p,
    }


def kernel_month(k: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """One month of the per-person work; returns stocks by (district, measure)."""
    p = k["p"]
    status, months, benefit, skill = k["status"], k["months"], k["benefit"], k["skill"]
    n = status.shape[0]
    np.minimum(months + 1, 32000, out=months)
    # Participation and ill health.
    u = rng.random(n)
    claim = rng.random(n) < p.claim_take_up
    to_i = (status == 1) & (u < p.exit_rate_ui)
    to_u = (status == 2) & (u < k["entry_rate"][k["district"]])
    ill = (status != 0) & (benefit != 2) & (rng.random(n) < k["esa_onflow"][k["district"]])
    status[to_i | ill] = 2
    status[to_u & ~ill] = 1
    benefit[to_u & claim] = 1
    benefit[ill] = 2
    # Separations.
    u = rng.random(n)
    employed = status == 0
    to_u = employed & (u < k["rate_eu"])
    to_i = employed & ~to_u & (u < k["rate_eu"] + p.sep_rate_ei)
    status[to_u] = 1
    status[to_i] = 2
    benefit[to_u & claim] = 1
    changed = to_i | to_u | ill
    # Matching.
    scar = np.exp(-p.duration_scarring * np.minimum(months, int(p.duration_scarring_max_months)))
    w = k["intensity"][status] * np.exp(p.skill_elasticity * skill) * (1.0 - k["barrier"]) ** p.barrier_exponent
    w *= np.where(status == 1, scar, 1.0)
    w *= 1.0 + p.support_max_effect * -np.expm1(-np.log(2.0) * k["hours"] / p.support_half_hours)
    s = np.bincount(k["market"], weights=w, minlength=k["n_markets"])
    v = k["vacancies"]
    m = np.minimum(p.matching_efficiency * s**p.matching_alpha * v ** (1 - p.matching_alpha), v)
    q = np.divide(m, s, out=np.zeros_like(m), where=s > 0)
    hired = rng.random(n) < -np.expm1(-q[k["market"]] * w)
    status[hired] = 0
    benefit[hired] = 0
    months[changed | hired] = 0
    # Skills.
    growth = np.where(status == 0, p.skill_growth_in_work, 0.0)
    decay = np.where((status == 1) & (months >= p.skill_decay_after_months), p.skill_decay_unemployed, 0.0)
    k["skill"] = np.clip(skill + growth - decay, -4.0, 4.0).astype(np.float32)
    # Stocks by district.
    key = k["district"].astype(np.intp) * 5
    ltu = (status == 1) & (months >= 12)
    claimant = (benefit != 0) & (status != 0)
    stocks = np.bincount(key + status, minlength=5 * k["n_districts"])
    stocks += np.bincount(key[ltu] + 3, minlength=5 * k["n_districts"])
    stocks += np.bincount(key[claimant] + 4, minlength=5 * k["n_districts"])
    return stocks


def run_size(n_people: int, months: int) -> dict[str, Any]:
    from simulation.model import LabourMarketModel

    with tempfile.TemporaryDirectory(prefix="labourlab-bench-") as tmp:
        place = write_place(n_people, Path(tmp))
        t0 = time.perf_counter()
        model = LabourMarketModel(
            place=str(place), regime=REGIME, seed=SEED, months=months, burn_in=BURN_IN, agent_views=False
        )
        setup = time.perf_counter() - t0
    n = model.people.n
    model_times, model_wall = [], []  # CPU and wall seconds of each month
    gc.collect()
    gc.disable()
    for _ in range(months):
        t0, c0 = time.perf_counter(), time.process_time()
        model.step()
        model_times.append(time.process_time() - c0)
        model_wall.append(time.perf_counter() - t0)
    gc.enable()
    k = kernel_state(model)
    del model
    gc.collect()
    rng = np.random.Generator(np.random.PCG64(SEED))
    kernel_times, kernel_wall = [], []
    gc.disable()
    for _ in range(months):
        t0, c0 = time.perf_counter(), time.process_time()
        kernel_month(k, rng)
        kernel_times.append(time.process_time() - c0)
        kernel_wall.append(time.perf_counter() - t0)
    gc.enable()
    ns = lambda t: t / n * 1e9  # noqa: E731
    return {
        "people": n,
        "setup_s": setup,
        "model_cpu_s": model_times,
        "kernel_cpu_s": kernel_times,
        "model_wall_s": model_wall,
        "kernel_wall_s": kernel_wall,
        "model_ns": ns(min(model_times)),
        "kernel_ns": ns(min(kernel_times)),
        "ratio": min(model_times) / min(kernel_times),
        "model_wall_ns": ns(min(model_wall)),
        "kernel_wall_ns": ns(min(kernel_wall)),
        "ratio_wall": min(model_wall) / min(kernel_wall),
    }


def report(results: list[dict[str, Any]], months: int) -> str:
    rows = [
        [
            size_label(r["people"]),
            f"{r['model_ns']:.1f}",
            f"{r['kernel_ns']:.1f}",
            f"{r['ratio']:.2f}x",
            f"{r['model_wall_ns']:.1f} / {r['kernel_wall_ns']:.1f} = {r['ratio_wall']:.2f}x",
            f"{min(r['model_cpu_s']) * 1e3:.0f}",
            f"{r['setup_s']:.1f}",
        ]
        for r in results
    ]
    return (
        f"Model step vs bare numpy kernel ({REGIME}, seed {SEED}, min of {months} months each; CPU time of the"
        " process, and wall time beside it, since the machine is shared)\n\n"
        + table(
            [
                "people",
                "model ns/person-month",
                "kernel ns/person-month",
                "model/kernel",
                "wall: model / kernel ns",
                "model ms/month",
                "set-up s",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> int:
    return sized_main(argv, __doc__, "kernel", "people", run_size, report, [10**6, 10**7], 6)


if __name__ == "__main__":
    sys.exit(main())
