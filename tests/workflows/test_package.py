"""LabourLab as an installed package: the wheel carries the shipped configs and data.

Builds the wheel from a copy of the checkout (so no build/ or *.egg-info is left in the repository)
without build isolation, installs it with `pip install --target SITE`, and runs the installed copy
from an empty folder: `labourlab run` on a shipped place and regime, and `labourlab experiment` on a
spec written there. Nothing of the checkout is on the path, so a shipped file read from the
checkout's configs/ instead of the package data fails with "no such place".

Building needs setuptools in the environment (the dev extra has it); offline, nothing is fetched.
The first run compiles the model's numba kernels into SITE, which is most of the test's time.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]

# What the wheel does not need from the checkout (generated, large or not packaged).
NOT_BUILT = shutil.ignore_patterns(
    ".git",
    ".venv",
    "results",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "benchmarks",
    "tests",
)

SPEC = """\
name = "packaged"
description = "the installed package: Southampton, two arms, one seed, a few months"
place = "southampton"
months = 2
burn_in = 1
seeds = [1]
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.cooperative]
regime = "cooperative"
"""


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(args)} exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout, installed into a folder of its own."""
    root = tmp_path_factory.mktemp("package")
    src, dist, site = root / "src", root / "dist", root / "site"
    shutil.copytree(CHECKOUT, src, ignore=NOT_BUILT)
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)], root, env)
    wheels = sorted(dist.glob("labourlab-*.whl"))
    assert len(wheels) == 1, wheels
    _run([*pip, "install", "--no-deps", "--target", str(site), str(wheels[0])], root, env)
    assert (site / "simulation" / "configs" / "places" / "southampton.toml").is_file()
    assert (site / "simulation" / "configs" / "england" / "districts_2015.csv").is_file()
    return site


@pytest.fixture(scope="module")
def elsewhere(site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An empty folder and an environment in which `import simulation` finds only the installed copy."""
    cwd = tmp_path_factory.mktemp("elsewhere")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("DASK_CONFIG", None)
    return cwd, env


def test_the_installed_copy_is_the_one_imported(site: Path, elsewhere: tuple[Path, dict[str, str]]) -> None:
    cwd, env = elsewhere
    code = "import simulation, simulation.config as c; print(simulation.__file__); print(c.shipped_configs())"
    out = _run([sys.executable, "-c", code], cwd, env).stdout.split()
    module, configs = (Path(p).resolve() for p in out)
    assert module.is_relative_to(site.resolve()), module
    assert configs == (site / "simulation" / "configs").resolve()


def test_labourlab_run_from_an_empty_folder(elsewhere: tuple[Path, dict[str, str]]) -> None:
    cwd, env = elsewhere
    args = ["run", "--place", "southampton", "--regime", "cooperative", "--seed", "1"]
    args += ["--months", "3", "--burn-in", "1", "--out", "out"]
    _run([sys.executable, "-m", "simulation.cli", *args], cwd, env)
    assert (cwd / "out" / "monthly.parquet").is_file()
    assert (cwd / "out" / "manifest.json").is_file()


def test_labourlab_experiment_from_an_empty_folder(site: Path, elsewhere: tuple[Path, dict[str, str]]) -> None:
    cwd, env = elsewhere
    (cwd / "packaged.toml").write_text(SPEC, encoding="utf-8")
    # The console script pip installed (its shebang is this interpreter), run with this interpreter.
    script = site / "bin" / "labourlab"
    assert script.is_file()
    args = ["experiment", "packaged.toml", "--out", "exp", "--executor", "local", "--workers", "1"]
    _run([sys.executable, str(script), *args], cwd, env)
    runs = sorted(glob.glob(str(cwd / "exp" / "monthly" / "scenario=*" / "seed=1.parquet")))
    assert len(runs) == 2, runs
    assert (cwd / "exp" / "manifest.json").is_file()
