"""Speed and memory of LabourLab's monthly step, against a bare-numpy floor.

For each population size, in a fresh subprocess (so peak memory does not mix between sizes):

1. time `model.step()` over the timed months (min over repeats; set-up and burn-in excluded,
   set-up timed on its own) and report person-months per second and ns per person-month;
2. report peak resident memory (ru_maxrss) and bytes of state per person and per firm row;
3. time a bare numpy kernel doing the step's minimum work on state of identical size and content
   (separation draw, search draw, matching weight, per-market Cobb-Douglas rate, hire
   probability, status and duration update, stocks by district), and the model/kernel ratio;
4. run once more with `timers=True` and split step time by mechanism.

The place is synthetic: one travel-to-work market of several districts, written as a place TOML
(the format of configs/places/testville.toml) into a temp dir and scaled to the population asked.

    python benchmarks/step.py [--sizes 1e5,1e6] [--months 12] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
N_DISTRICTS = 8
BURN_IN = 2
REGIME = "centralised"
SEED = 1
MECHANISMS = ("participation", "separations", "business", "developers", "providers", "skills", "matching", "accounts")

# District profiles from configs/places/testville.toml (rates, businesses and construction value per
# 16-64 resident), cycled over the synthetic districts. Copied, so edits to testville do not move the
# benchmark.
PROFILES = (
    # employment, unemployment, inactivity, claimant, esa_ib, businesses per resident, £m construction per resident
    (0.730, 0.060, 0.223, 0.022, 0.068, 170 / 3000, 2.5 / 3000),
    (0.755, 0.048, 0.207, 0.016, 0.055, 125 / 2000, 1.5 / 2000),
    (0.745, 0.050, 0.216, 0.018, 0.060, 90 / 1500, 1.0 / 1500),
)


# ----------------------------------------------------------------------------------- the place
def place_toml(n_people: int, n_districts: int = N_DISTRICTS) -> str:
    """A place of `n_districts` districts in one market whose populations sum to `n_people`."""
    nd = max(1, min(n_districts, n_people))
    lines = [
        f'name = "bench{n_people}"',
        f'description = "Synthetic benchmark place: {nd} districts in one market, {n_people} people of working age."',
        "people_per_agent = 1",
        'sources = ["Synthetic: testville district profiles (configs/places/testville.toml) scaled in size"]',
    ]
    for d in range(nd):
        emp, unemp, inact, claim, esa, firms_per, build_per = PROFILES[d % len(PROFILES)]
        wap = n_people // nd + (1 if d < n_people % nd else 0)
        lines += [
            "",
            "[[districts]]",
            f'name = "Bench{d}"',
            f'code = "B{d:08d}"',
            'market = "bench"',
            f"working_age_pop = {wap}",
            f"employment_rate = {emp}",
            f"unemployment_rate = {unemp}",
            f"inactivity_rate = {inact}",
            f"claimant_rate = {claim}",
            f"esa_ib_rate = {esa}",
            f"businesses = {max(1, round(wap * firms_per))}",
            f"construction_value_m = {wap * build_per:.4f}",
        ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- machine
def machine() -> dict[str, Any]:
    cpu, cores, phys = "", set(), None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (s.strip() for s in line.partition(":"))
            if key == "model name" and not cpu:
                cpu = value
            elif key == "physical id":
                phys = value
            elif key == "core id":
                cores.add((phys, value))
    except OSError:
        pass
    cpu = cpu or platform.processor() or platform.machine()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "physical_cores": len(cores) or None,
        "usable_cpus": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": _version("mesa"),
        "platform": platform.platform(),
    }


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def maxrss_bytes() -> int:
    """Peak resident set of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


# --------------------------------------------------------------------------------- bare kernel
def kernel_state(model: Any) -> dict[str, Any]:
    """Copies of the arrays the minimal step reads, with the model's parameters and vacancies."""
    from simulation.people import EMPLOYED, INACTIVE, UNEMPLOYED

    people, firms, p = model.people, model.firms, model.params
    n_markets = len(model.market_names)
    intensity = np.zeros(3)
    intensity[UNEMPLOYED], intensity[INACTIVE] = 1.0, p.inactive_search_intensity
    assert EMPLOYED == 0 and intensity[EMPLOYED] == 0.0
    return {
        "status": people.status.copy(),
        "months_in_status": people.months_in_status.copy(),
        "skill": people.skill.copy(),
        "barrier": people.barrier.copy(),
        "district": people.district.copy(),
        "market": model.person_market.copy(),
        "n_districts": model.n_districts,
        "n_markets": n_markets,
        "vacancies": np.bincount(firms.market, weights=firms.vacancies(), minlength=n_markets),
        "intensity": intensity,
        "hazard": float(model.rate_eu + p.sep_rate_ei),
        "skill_elasticity": p.skill_elasticity,
        "barrier_exponent": p.barrier_exponent,
        "scarring": p.duration_scarring,
        "scarring_cap": int(p.duration_scarring_max_months),
        "efficiency": p.matching_efficiency,
        "alpha": p.matching_alpha,
    }


def kernel_month(k: dict[str, Any], status: np.ndarray, mis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One month of the minimal work per person; returns stocks by (district, status)."""
    from simulation.people import EMPLOYED, UNEMPLOYED

    n = status.shape[0]
    # Separations: one uniform against one hazard.
    u_sep = rng.random(n)
    sep = (status == EMPLOYED) & (u_sep < k["hazard"])
    status[sep] = UNEMPLOYED
    # Search: weight from skill, barrier and duration (exp, power), zero for the employed.
    u_search = rng.random(n)
    dur = np.minimum(mis, k["scarring_cap"])
    w = np.exp(k["skill_elasticity"] * k["skill"] - k["scarring"] * dur)
    w *= np.power(1.0 - k["barrier"], k["barrier_exponent"])
    w *= k["intensity"][status]
    # Per-market Cobb-Douglas matches shared by weight.
    s = np.bincount(k["market"], weights=w, minlength=k["n_markets"])
    v = k["vacancies"]
    m = np.minimum(k["efficiency"] * s ** k["alpha"] * v ** (1.0 - k["alpha"]), v)
    q = np.divide(m, s, out=np.zeros_like(m), where=s > 0)
    p = -np.expm1(-q[k["market"]] * w)
    hire = u_search < p
    status[hire] = EMPLOYED
    # Durations: one more month, reset on a change of status.
    np.add(mis, 1, out=mis)
    np.minimum(mis, 32000, out=mis)
    mis[sep | hire] = 0
    # Stocks by district and status.
    return np.bincount(k["district"].astype(np.intp) * 3 + status, minlength=3 * k["n_districts"])


def time_kernel(k: dict[str, Any], months: int, repeats: int) -> tuple[float, np.ndarray]:
    best, stocks = float("inf"), np.zeros(0)
    for r in range(repeats):
        status, mis = k["status"].copy(), k["months_in_status"].copy()
        rng = np.random.Generator(np.random.PCG64(SEED + r))
        gc.collect()
        gc.disable()
        t0 = time.perf_counter()
        for _ in range(months):
            stocks = kernel_month(k, status, mis, rng)
        best = min(best, time.perf_counter() - t0)
        gc.enable()
    return best, stocks


# -------------------------------------------------------------------------------------- worker
def worker(n_people: int, months: int, repeats: int) -> dict[str, Any]:
    """Everything for one size, in this (fresh) process."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from simulation.model import LabourMarketModel

    rss_imports = maxrss_bytes()
    out: dict[str, Any] = {"people_requested": n_people, "months": months, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="labourlab-bench-") as tmp:
        place = Path(tmp) / f"bench{n_people}.toml"
        place.write_text(place_toml(n_people))

        def build(timers: bool = False) -> Any:
            return LabourMarketModel(
                place=str(place),
                regime=REGIME,
                seed=SEED,
                months=months,
                burn_in=BURN_IN,
                agent_views=False,
                timers=timers,
            )

        def run(model: Any) -> float:
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            for _ in range(months):
                model.step()
            elapsed = time.perf_counter() - t0
            gc.enable()
            if model.month != months:
                raise RuntimeError(f"model stopped at month {model.month}, expected {months}")
            return elapsed

        # 1. Step speed; set-up (construction plus burn-in) timed separately.
        setups, steps = [], []
        model = None
        for _ in range(repeats):
            model = None
            gc.collect()
            t0 = time.perf_counter()
            model = build()
            setups.append(time.perf_counter() - t0)
            steps.append(run(model))
        assert model is not None
        n = model.people.n
        out.update(
            people=n,
            districts=model.n_districts,
            markets=len(model.market_names),
            setup_s=min(setups),
            step_s=min(steps),
            step_s_all=steps,
            setup_s_all=setups,
            ms_per_month=min(steps) / months * 1e3,
            person_months_per_s=n * months / min(steps),
            ns_per_person_month=min(steps) / (n * months) * 1e9,
        )

        # 2. Memory: the peak so far is one model (earlier repeats are freed) plus its temporaries.
        extra = model.person_market.nbytes
        extra += sum(a.nbytes for a in model.month_draws.values())
        out.update(
            rss_after_imports_bytes=rss_imports,
            peak_rss_bytes=maxrss_bytes(),
            people_bytes=model.people.nbytes(),
            people_bytes_per_person=model.people.nbytes() / n,
            model_extra_bytes_per_person=extra / n,
            firm_rows=model.firms.capacity,
            firms_alive=int(model.firms.alive.sum()),
            firm_bytes=model.firms.nbytes(),
            firm_bytes_per_row=model.firms.nbytes() / model.firms.capacity,
            employment_rate=float((model.people.status == 0).mean()),
        )
        model = None
        gc.collect()

        # 4. Mechanism split (timers accumulate through burn-in, so they are cleared first).
        model = build(timers=True)
        model.timers.clear()
        total = run(model)
        timers = dict(model.timers)
        out["timers"] = {
            "step_s": total,
            "mechanism_s": timers,
            "unattributed_s": total - sum(timers.values()),
        }

        # 3. Bare numpy kernel on a copy of the same state.
        k = kernel_state(model)
        model = None
        gc.collect()
        kernel_s, stocks = time_kernel(k, months, repeats)
        out.update(
            kernel_s=kernel_s,
            kernel_ns_per_person_month=kernel_s / (n * months) * 1e9,
            model_over_kernel=out["ns_per_person_month"] / (kernel_s / (n * months) * 1e9),
            kernel_employment_rate=float(stocks[0::3].sum() / max(stocks.sum(), 1)),
        )
    return out


# -------------------------------------------------------------------------------------- report
def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    lines = [title, rule, fmt.format(*header), rule, *(fmt.format(*r) for r in rows), rule]
    return "\n".join(lines)


def size_label(n: int) -> str:
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else f"{n:,}"


def report(info: dict[str, Any], results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    mib = 2**20
    cores = info["physical_cores"]
    parts = [
        "LabourLab monthly step benchmark",
        f"machine: {info['cpu']}; {info['logical_cpus']} logical CPUs"
        + (f" ({cores} physical cores)" if cores else "")
        + f"; Python {info['python']}; numpy {info['numpy']}; mesa {info['mesa']}",
        f"run: regime {REGIME}, seed {SEED}, burn-in {BURN_IN}, {args.months} timed months, min of {args.repeats}"
        f" repeats; synthetic place of {N_DISTRICTS} districts in one market; each size in a fresh process",
        "",
        table(
            "Speed: model.step() over the timed months (set-up = construction + burn-in)",
            ["people", "set-up s", "ms/month", "person-months/s", "ns/person-month", "kernel ns/pm", "model/kernel"],
            [
                [
                    size_label(r["people"]),
                    f"{r['setup_s']:.2f}",
                    f"{r['ms_per_month']:.1f}",
                    f"{r['person_months_per_s']:.3g}",
                    f"{r['ns_per_person_month']:.1f}",
                    f"{r['kernel_ns_per_person_month']:.1f}",
                    f"{r['model_over_kernel']:.1f}x",
                ]
                for r in results
            ],
        ),
        "",
        table(
            "Memory: peak RSS of the size's process; state bytes per person and per firm row",
            [
                "people",
                "peak RSS MiB",
                "after imports MiB",
                "people B/person",
                "+model B/person",
                "firm rows",
                "firm B/row",
            ],
            [
                [
                    size_label(r["people"]),
                    f"{r['peak_rss_bytes'] / mib:.0f}",
                    f"{r['rss_after_imports_bytes'] / mib:.0f}",
                    f"{r['people_bytes_per_person']:.0f}",
                    f"{r['model_extra_bytes_per_person']:.0f}",
                    f"{r['firm_rows']:,}",
                    f"{r['firm_bytes_per_row']:.0f}",
                ]
                for r in results
            ],
        ),
    ]
    split = next((r for r in results if r["people"] == 10**6), max(results, key=lambda r: r["people"]))
    t = split["timers"]
    names = [m for m in MECHANISMS if m in t["mechanism_s"]] + sorted(set(t["mechanism_s"]) - set(MECHANISMS))
    rows = [
        [m, f"{t['mechanism_s'][m] / args.months * 1e3:.1f}", f"{t['mechanism_s'][m] / t['step_s']:.1%}"] for m in names
    ]
    rows.append(
        [
            "(untimed: results row, data collector, agents)",
            f"{t['unattributed_s'] / args.months * 1e3:.1f}",
            f"{t['unattributed_s'] / t['step_s']:.1%}",
        ]
    )
    rows.append(["total step", f"{t['step_s'] / args.months * 1e3:.1f}", "100.0%"])
    parts += [
        "",
        table(
            f"Step time by mechanism at {size_label(split['people'])} people (timers=True, one run)",
            ["mechanism", "ms/month", "share"],
            rows,
        ),
        "",
        "kernel: bare numpy, same state: separation draw, search draw, weight (exp, power), per-market"
        " Cobb-Douglas rate (bincount), -expm1(-q*w), status and duration update, stocks by district.",
    ]
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------- main
def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated sizes like 1e5,1e6, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=parse_sizes, default=[10**5, 10**6], help="people, e.g. 1e5,1e6 (default)")
    ap.add_argument("--months", type=int, default=12, help="timed months per run (default 12)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per size; the fastest counts (default 3)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.months < 1 or args.repeats < 1:
        ap.error("--months and --repeats must be at least 1")

    if args.worker is not None:
        result = worker(args.worker, args.months, args.repeats)
        args.out.write_text(json.dumps(result))
        return 0

    info = machine()
    results = []
    for n in args.sizes:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = Path(f.name)
        try:
            cmd = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                str(n),
                "--months",
                str(args.months),
                "--repeats",
                str(args.repeats),
                "--out",
                str(out),
            ]
            print(f"running {size_label(n)} people ...", file=sys.stderr, flush=True)
            done = subprocess.run(cmd, cwd=ROOT, check=False)
            if done.returncode != 0:
                print(f"error: the run for {n} people failed (exit {done.returncode})", file=sys.stderr)
                return 1
            results.append(json.loads(out.read_text()))
        finally:
            out.unlink(missing_ok=True)

    print(report(info, results, args))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "config": {
                        "regime": REGIME,
                        "seed": SEED,
                        "burn_in": BURN_IN,
                        "months": args.months,
                        "repeats": args.repeats,
                        "districts": N_DISTRICTS,
                    },
                    "sizes": results,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
