"""Helpers shared by the benchmark scripts: the machine, peak memory, a synthetic place, tables.

The synthetic place is one travel-to-work market of several districts with testville's rates
(configs/places/testville.toml), scaled to any population, written as a place TOML at run time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# District profiles copied from testville (so edits there do not move the benchmarks):
# employment, unemployment, inactivity, claimant, esa_ib, businesses per resident, GBP m construction per resident.
PROFILES = (
    (0.730, 0.060, 0.223, 0.022, 0.068, 170 / 3000, 2.5 / 3000),
    (0.755, 0.048, 0.207, 0.016, 0.055, 125 / 2000, 1.5 / 2000),
    (0.745, 0.050, 0.216, 0.018, 0.060, 90 / 1500, 1.0 / 1500),
)


def place_toml(n_people: int, n_districts: int = 8) -> str:
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


def write_place(n_people: int, folder: Path) -> Path:
    path = folder / f"bench{n_people}.toml"
    path.write_text(place_toml(n_people), encoding="utf-8")
    return path


def machine() -> dict[str, Any]:
    """CPU model, core counts, memory and library versions, for the results note."""
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
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "physical_cores": len(cores) or None,
        "usable_cpus": usable,
        "memory_gib": mem / 2**30,
        "load_1min": load,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": version("numba"),
        "mesa": version("mesa"),
        "platform": platform.platform(),
    }


def machine_line(info: dict[str, Any]) -> str:
    cores = f" ({info['physical_cores']} physical cores)" if info["physical_cores"] else ""
    return (
        f"{info['cpu']}; {info['logical_cpus']} logical CPUs{cores}; {info['memory_gib']:.0f} GiB; "
        f"load {info['load_1min']:.2f} at start; Python {info['python']}, numpy {info['numpy']}, "
        f"numba {info['numba']}, mesa {info['mesa']}"
    )


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def maxrss_bytes() -> int:
    """Peak resident set of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call takes, with the garbage collector paused (as `timeit` does)."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def size_label(n: int) -> str:
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else f"{n:,}"


def parse_sizes(text: str) -> list[int]:
    sizes = [int(float(s)) for s in text.split(",") if s.strip()]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"sizes must be positive numbers like 1e6,1e7, got {text!r}")
    return sizes


def sized_main(
    argv: list[str] | None,
    doc: str,
    name: str,
    unit: str,
    run_size: Callable[[int, int], dict[str, Any]],
    report: Callable[[list[dict[str, Any]], int], str],
    sizes: list[int],
    months: int,
) -> int:
    """The command line of a benchmark timed at several population sizes (kernel.py, mesa_loop.py):
    --sizes, --months and --json; prints the machine and the report."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    labels = ",".join(size_label(n) for n in sizes)
    ap.add_argument("--sizes", type=parse_sizes, default=sizes, help=f"{unit} (default {labels})")
    ap.add_argument("--months", type=int, default=months, help=f"months timed for each (default {months})")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    info = machine()
    results = []
    for n in args.sizes:
        print(f"{name}: {size_label(n)} {unit} ...", file=sys.stderr, flush=True)
        results.append(run_size(n, args.months))
    print(f"machine: {machine_line(info)}\n")
    print(report(results, args.months))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "months": args.months, "sizes": results}, indent=2) + "\n")
    return 0
