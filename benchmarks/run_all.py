"""`make bench`: run every benchmark, each in a fresh process, and write benchmarks/results.md.

Each script prints its own figures; this collects their output under the machine's description
and the time of the run, and keeps the hand-written notes (everything after the NOTES marker in
the existing results.md) so the interpretation stays beside the latest figures. Each script also
takes `--json FILE` for machine-readable figures.

    python benchmarks/run_all.py [--quick]     # --quick: smaller sizes, for a smoke test
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, machine, machine_line

from simulation.results import atomic_write

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
NOTES = "<!-- NOTES: hand-written below this line; run_all.py keeps it -->"

FULL = [
    ("kernel", ["--sizes", "1e6,1e7", "--months", "6"]),
    ("mesa_loop", ["--sizes", "1e4,1e5,1e6", "--months", "3"]),
    ("england", ["--scale", "1", "--months", "60", "--burn-in", "24"]),
    ("ensemble", ["--seeds", "25"]),
]
QUICK = [
    ("kernel", ["--sizes", "1e5,1e6", "--months", "3"]),
    ("mesa_loop", ["--sizes", "1e4", "--months", "2"]),
    ("england", ["--scale", "100", "--months", "12", "--burn-in", "6"]),
    ("ensemble", ["--place", "stevenage", "--seeds", "2", "--months", "12", "--burn-in", "6", "--repeat", "1"]),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not the figures")
    ap.add_argument("--only", help="comma-separated scripts to run (default: all)")
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.only:
        wanted = set(args.only.split(","))
        plan = [(name, a) for name, a in plan if name in wanted]
    info = machine()
    sections = []
    for name, extra in plan:
        cmd = [sys.executable, str(HERE / f"{name}.py"), *extra]
        print(f"$ {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, check=False)
        print(done.stdout, flush=True)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            print(f"error: benchmarks/{name}.py failed (exit {done.returncode})", file=sys.stderr)
            return 1
        body = "\n".join(line for line in done.stdout.splitlines() if not line.startswith("machine:"))
        sections.append(
            f"## {name}.py\n\n`python benchmarks/{name}.py {' '.join(extra)}` ({time.perf_counter() - t0:.0f} s)\n\n"
            + body.strip()
            + "\n"
        )
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    text = (
        "# Benchmark results\n\n"
        f"Written by `make bench` (benchmarks/run_all.py{' --quick' if args.quick else ''}) on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        f"Machine: {machine_line(info)}; {info['platform']}.\n\n" + "\n".join(sections) + "\n" + NOTES + notes
    )
    if not args.only:
        atomic_write(RESULTS, lambda p: p.write_text(text, encoding="utf-8"))
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
