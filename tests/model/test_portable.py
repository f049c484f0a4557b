"""Results do not depend on the CPU: the golden runs give the golden digests in a process held to
baseline code everywhere a CPU-specific path could enter (`machine.baseline_environment`):
numpy without any dispatched SIMD feature this machine has, glibc's libm without its FMA and AVX2
variants, numba compiling for a generic x86-64 (into an empty cache, so nothing compiled for this
CPU is reused). Together with the default run (tests/model/test_golden.py), that is a machine with and
a machine without every vector extension this one has, on whatever machine runs the tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simulation import machine

ROOT = Path(__file__).resolve().parents[2]


def test_golden_runs_on_baseline_code_paths_give_the_golden_digests(tmp_path: Path) -> None:
    env = machine.baseline_environment()
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba-cache")
    env["LABOURLAB_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "model" / "test_golden.py"), "--print"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    seen = got["machine"]
    # The child really ran on the baseline paths.
    assert seen["numpy_simd"]["dispatch_used"] == [], seen["numpy_simd"]
    assert seen["numba"]["cpu_name"] == "generic"
    assert seen["glibc_tunables"] == machine.GLIBC_BASELINE
    golden = json.loads((ROOT / "tests" / "data" / "golden.json").read_text(encoding="utf-8"))
    assert got["digests"] == golden
