"""The monthly person step written as Mesa agents, against the model's vectorised step.

The agent version is how a Mesa model is usually written: one `Person` agent per row, stepped in
random order with `AgentSet.shuffle_do("step")`. It does the same per-person work as the bare
kernel in `kernel.py` (participation, ill health, separation, search with the same weight and
per-market Cobb-Douglas rate, skills), one agent at a time, reading the model's parameters.
Both run in this process on the same synthetic place and starting state (the model's people after
its burn-in), for `--months` months each (more at small sizes, to time at least
`MIN_PERSON_MONTHS` person-months); the minimum month of each is reported per person-month.
Each first runs `WARM_UP` months untimed: the model's first policy months load its compiled
kernels from numba's cache (milliseconds each, once per process), which is start-up, not a
month's cost.
The model's whole step does more than the agent step (ageing, providers, firms, training,
developers, accounts, results): the last column times only the model's mechanisms doing the agent
step's work (its timers: participation with the months' count, separations, matching, skills).
Those still do more than the agents do: separations and hires change firms' headcounts, and
matching shares each market's hires among firms' posts.

The last column is each side's employment rate after its months: a check that both did the
work, not a validation. The agent step has no firms, programmes or ageing, so over many months
(1e4's 100) the two drift apart.

    python benchmarks/mesa_loop.py [--sizes 1e4,1e5] [--months 3] [--json out.json]
"""

from __future__ import annotations

import gc
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mesa
from common import size_label, sized_main, table, write_place

REGIME = "centralised"
# The model's mechanisms doing what the Mesa step does (its per-mechanism timers): the last
# column compares like with like; the whole step also runs ageing, providers, business, training,
# accounts and more.
SAME_WORK = ("participation", "separations", "matching", "skills")
SEED = 1
BURN_IN = 2
WARM_UP = 2  # months each side runs before the timed ones
# Small sizes time more months: a 1e4 month is about 1 ms of the model's work, and the minimum of
# 3 such months moved with the shared machine (41x to 72x like for like in one session's runs).
MIN_PERSON_MONTHS = 10**6  # each side times at least this many person-months (and `--months`)


class Person(mesa.Agent):
    """One person of working age, with the state the monthly step reads and writes."""

    def __init__(self, model: AgentModel, row: int, src: Any) -> None:
        super().__init__(model)
        self.status = int(src.people.status[row])
        self.months = int(src.people.months_in_status[row])
        self.benefit = int(src.people.benefit[row])
        self.skill = float(src.people.skill[row])
        self.barrier = float(src.people.barrier[row])
        self.hours = float(src.people.support_hours[row])
        self.district = int(src.people.district[row])
        self.market = int(src.person_market[row])

    def weight(self) -> float:
        p = self.model.p
        if self.status == 0:
            return 0.0
        w = 1.0 if self.status == 1 else p.inactive_search_intensity
        w *= math.exp(p.skill_elasticity * self.skill) * (1.0 - self.barrier) ** p.barrier_exponent
        if self.status == 1:
            w *= math.exp(-p.duration_scarring * min(self.months, p.duration_scarring_max_months))
        return w * (1.0 + p.support_max_effect * -math.expm1(-math.log(2.0) * self.hours / p.support_half_hours))

    def step(self) -> None:
        m, p, rng = self.model, self.model.p, self.model.random
        self.months = min(self.months + 1, 32000)
        status = self.status
        u, claim, u_ill = rng.random(), rng.random() < p.claim_take_up, rng.random()
        if status == 1 and u < p.exit_rate_ui:
            status = 2
        elif status == 2 and u < m.entry_rate[self.district]:
            status = 1
            if claim:
                self.benefit = 1
        if status != 0 and self.benefit != 2 and u_ill < m.esa_onflow[self.district]:
            status, self.benefit = 2, 2
        if status == 0:
            u = rng.random()
            if u < m.rate_eu:
                status = 1
                if claim:
                    self.benefit = 1
            elif u < m.rate_eu + p.sep_rate_ei:
                status = 2
        if status != self.status:
            self.months = 0
        self.status = status
        if status != 0 and rng.random() < -math.expm1(-m.q[self.market] * self.weight()):
            self.status, self.benefit, self.months = 0, 0, 0
        if self.status == 0:
            self.skill += p.skill_growth_in_work
        elif self.status == 1 and self.months >= p.skill_decay_after_months:
            self.skill -= p.skill_decay_unemployed
        self.skill = min(max(self.skill, -4.0), 4.0)


class AgentModel(mesa.Model):
    """People as Mesa agents; the market rate is computed once a month before they act."""

    def __init__(self, src: Any) -> None:
        super().__init__(rng=SEED)
        self.p = src.params
        self.entry_rate = [float(x) for x in src.entry_rate]
        self.esa_onflow = [float(x) for x in src.esa_onflow]
        self.rate_eu = float(src.rate_eu)
        self.vacancies = [float(x) for x in src.firms_vacancies_by_market]
        self.q = [0.0] * len(self.vacancies)
        for row in range(src.people.n):
            Person(self, row, src)

    def step(self) -> None:
        p = self.p
        s = [0.0] * len(self.vacancies)
        for a in self.agents:
            s[a.market] += a.weight()
        for i, v in enumerate(self.vacancies):
            m = min(p.matching_efficiency * s[i] ** p.matching_alpha * v ** (1 - p.matching_alpha), v)
            self.q[i] = m / s[i] if s[i] > 0 else 0.0
        self.agents.shuffle_do("step")


def run_size(n_people: int, months: int) -> dict[str, Any]:
    months = max(months, math.ceil(MIN_PERSON_MONTHS / n_people))
    import numpy as np

    from simulation.model import LabourMarketModel

    with tempfile.TemporaryDirectory(prefix="labourlab-bench-") as tmp:
        place = write_place(n_people, Path(tmp))
        model = LabourMarketModel(
            place=str(place),
            regime=REGIME,
            seed=SEED,
            months=WARM_UP + months,
            burn_in=BURN_IN,
            agent_views=False,
            timers=True,
        )
    n = model.people.n
    model.firms_vacancies_by_market = np.bincount(
        model.firms.market, weights=model.firms.vacancies(), minlength=len(model.market_names)
    )
    t0 = time.perf_counter()
    agents = AgentModel(model)
    build_agents = time.perf_counter() - t0
    model_times, agent_times, model_wall, agent_wall = [], [], [], []  # CPU and wall seconds per month
    gc.collect()
    gc.disable()
    same_work = []  # wall seconds of the model's mechanisms that do the Mesa step's work
    for _ in range(WARM_UP):
        model.step()
    for _ in range(months):
        model.timers.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        model.step()
        model_times.append(time.process_time() - c0)
        model_wall.append(time.perf_counter() - t0)
        same_work.append(sum(model.timers.get(k, 0.0) for k in SAME_WORK))
    for _ in range(WARM_UP):
        agents.step()
    for _ in range(months):
        t0, c0 = time.perf_counter(), time.process_time()
        agents.step()
        agent_times.append(time.process_time() - c0)
        agent_wall.append(time.perf_counter() - t0)
    gc.enable()
    employment = sum(a.status == 0 for a in agents.agents) / n
    return {
        "people": n,
        "months": months,
        "model_cpu_s": model_times,
        "agents_cpu_s": agent_times,
        "model_wall_s": model_wall,
        "agents_wall_s": agent_wall,
        "ratio_wall": min(agent_wall) / min(model_wall),
        "build_agents_s": build_agents,
        "model_ns": min(model_times) / n * 1e9,
        "agents_ns": min(agent_times) / n * 1e9,
        "ratio": min(agent_times) / min(model_times),
        "model_same_work_ns": min(same_work) / n * 1e9,
        "ratio_same_work_wall": min(agent_wall) / min(same_work),
        "agents_employment_rate": employment,
        "model_employment_rate": float((model.people.status == 0).mean()),
    }


def report(results: list[dict[str, Any]], months: int) -> str:
    rows = [
        [
            size_label(r["people"]),
            str(r["months"]),
            f"{r['agents_ns'] / 1e3:.2f}",
            f"{r['model_ns']:.0f}",
            f"{r['ratio']:.0f}x",
            f"{r['ratio_wall']:.0f}x",
            f"{r['model_same_work_ns']:.0f} / {r['ratio_same_work_wall']:.0f}x",
            f"{r['agents_employment_rate']:.3f} / {r['model_employment_rate']:.3f}",
        ]
        for r in results
    ]
    return (
        f"Mesa agent loop (shuffle_do) vs the model's step ({REGIME}, seed {SEED}, min of the months timed on"
        f" each side (at least {months}, and {MIN_PERSON_MONTHS:,} person-months), after {WARM_UP} untimed;"
        " CPU time of the process, and the ratio of wall times, since the machine is shared)\n\n"
        + table(
            [
                "agents",
                "months timed",
                "Mesa us/person-month",
                "model ns/person-month",
                "Mesa/model",
                "Mesa/model (wall)",
                "same mechanisms only: model ns / Mesa/model (wall)",
                "employment (Mesa / model)",
            ],
            rows,
        )
    )


def main(argv: list[str] | None = None) -> int:
    return sized_main(argv, __doc__, "mesa_loop", "agents", run_size, report, [10**4, 10**5], 3)


if __name__ == "__main__":
    sys.exit(main())
