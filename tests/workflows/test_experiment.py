"""`labourlab experiment`: spec validation, the Parquet dataset it writes, identical results on the
local and dask executors (a LocalCluster and a real scheduler with workers), resuming after the
driver is killed, failed runs, an unreachable scheduler and the folder lock.

Everything runs on testville with short horizons. Datasets are compared by a content hash: each
Parquet file read back, sorted by every column and hashed row by row (pandas.util.hash_pandas_object).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from simulation import cli, experiment
from simulation.config import ROOT, ConfigError, make_scenario
from simulation.executors import LocalExecutor
from simulation.experiment import load_experiment, run_paths
from simulation.model import LabourMarketModel

SPEC = """\
name = "t"
description = "test experiment"
place = "testville"
months = 8
burn_in = 4
seeds = 3
baseline = "no_programme"

[arms.no_programme]
regime = "no_programme"

[arms.centralised]
regime = "centralised"

[arms.hubs]
regime = "no_programme"
levers = { hub_firms_per_year = 30.0, hub_council_share = 0.5 }
params = { matching_alpha = 0.6 }
"""
SCENARIOS = ["no_programme", "centralised", "hubs"]
SEEDS = [1, 2, 3]
RUNS = len(SCENARIOS) * len(SEEDS)
_DASK_CLI = Path(sys.executable).parent / "dask"
SCHEDULER = (
    [str(_DASK_CLI), "scheduler"] if _DASK_CLI.exists() else [sys.executable, "-m", "distributed.cli.dask_scheduler"]
)
WORKER = [str(_DASK_CLI), "worker"] if _DASK_CLI.exists() else [sys.executable, "-m", "distributed.cli.dask_worker"]


# ------------------------------------------------------------------------------------ helpers
def digest(out: Path) -> dict[tuple[str, str, int], str]:
    """Content hash of every table in an experiment folder, by (table, scenario, seed)."""
    found = {}
    for kind in ("monthly", "cohorts"):
        for f in sorted((out / kind).glob("scenario=*/seed=*.parquet")):
            df = pd.read_parquet(f)
            df = df.sort_values(list(df.columns), kind="stable").reset_index(drop=True)
            h = hashlib.sha256(",".join(df.columns).encode())
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
            found[(kind, f.parent.name.removeprefix("scenario="), int(f.stem.removeprefix("seed=")))] = h.hexdigest()
    return found


def finished(out: Path) -> int:
    return len(list((out / "runs").glob("scenario=*/seed=*.json")))


def log_events(out: Path, event: str) -> list[str]:
    return [ln for ln in (out / "experiment.log").read_text().splitlines() if ln.split(" ")[1] == event]


def cli_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulation.cli", "experiment", *args]


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (experiment.FAIL_HOOK, experiment.DELAY_HOOK)}
    env.update(extra)
    return env


def one_line_error(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("labourlab: error: "), lines[0]
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"
    return lines[0]


def wait_for(cond, timeout: float, what: str, interval: float = 0.02) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def kill_group(p: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, sig)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=20)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "t.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_run(spec_file, tmp_path_factory) -> Path:
    """The spec run once on the local executor (2 processes): the reference dataset."""
    out = tmp_path_factory.mktemp("local") / "out"
    assert cli.main(["experiment", str(spec_file), "--out", str(out), "--workers", "2"]) == 0
    return out


@pytest.fixture(scope="module")
def reference(local_run) -> dict[tuple[str, str, int], str]:
    d = digest(local_run)
    assert len(d) == 2 * RUNS
    return d


# ---------------------------------------------------------------------------- spec validation
BAD_SPECS = [
    # (what, old text, new text, fragments of the one-line error)
    ("unknown key", "seeds = 3", "seed = 3", ["seed: unknown key", "did you mean 'seeds'"]),
    ("unknown arm key", 'regime = "centralised"', 'regme = "centralised"', ["arms.centralised.regme", "'regime'"]),
    (
        "unknown regime",
        'regime = "centralised"',
        'regime = "centralized"',
        ["arms.centralised.regime", "'centralised'"],
    ),
    ("unknown place", 'place = "testville"', 'place = "testvile"', ["place:", "no such place", "'testville'"]),
    (
        "unknown parameter",
        "matching_alpha = 0.6",
        "matching_alfa = 0.6",
        ["arms.hubs.params.matching_alfa", "'matching_alpha'"],
    ),
    (
        "parameter domain",
        "matching_alpha = 0.6",
        "matching_alpha = 1.5",
        ["arms.hubs.params.matching_alpha", "[0.05, 0.95]"],
    ),
    (
        "parameter type",
        "matching_alpha = 0.6",
        'matching_alpha = "high"',
        ["arms.hubs.params.matching_alpha", "number"],
    ),
    (
        "unknown lever",
        "hub_firms_per_year = 30.0",
        "hub_firms_per_yr = 30.0",
        ["arms.hubs.levers.hub_firms_per_yr", "'hub_firms_per_year'"],
    ),
    ("lever range", "hub_council_share = 0.5", "hub_council_share = 1.5", ["arms.hubs.levers.hub_council_share", "1"]),
    (
        "lever type",
        "hub_council_share = 0.5",
        'hub_council_share = "half"',
        ["arms.hubs.levers.hub_council_share", "number"],
    ),
    (
        "unknown group",
        "hub_council_share = 0.5",
        "groups.esa_nwe.referral_month = 5",
        ["arms.hubs.levers.groups.esa_nwe.referral_month", "'esa_new'"],
    ),
    ("months too few", "months = 8", "months = 0", ["months:", "greater than or equal to 1"]),
    ("months too many", "months = 8", "months = 5000", ["months:", "less than or equal to 1200"]),
    ("months type", "months = 8", 'months = "8"', ["months:", "integer"]),
    ("burn-in", "burn_in = 4", "burn_in = -1", ["burn_in:", "greater than or equal to 0"]),
    ("lead-in", "burn_in = 4", "burn_in = 4\nlead_in = -1", ["lead_in:", "greater than or equal to 0"]),
    ("lead-in too long", "burn_in = 4", "burn_in = 4\nlead_in = 601", ["lead_in:", "less than or equal to 600"]),
    (
        "scale",
        "burn_in = 4",
        "burn_in = 4\npeople_per_agent = 0.5",
        ["people_per_agent:", "greater than or equal to 1"],
    ),
    ("no seeds", "seeds = 3", "seeds = []", ["seeds:", "at least one seed"]),
    ("zero seeds", "seeds = 3", "seeds = 0", ["seeds:", "count of seeds from 1 to 100,000"]),
    ("too many seeds", "seeds = 3", "seeds = 99999999999999999999", ["seeds:", "count of seeds from 1 to 100,000"]),
    ("repeated seed", "seeds = 3", "seeds = [1, 5, 1]", ["seeds:", "distinct", "1 more than once"]),
    ("negative seed", "seeds = 3", "seeds = [1, -2]", ["seeds:", "whole numbers >= 0"]),
    ("seed type", "seeds = 3", 'seeds = "three"', ["seeds:", "a count of seeds"]),
    (
        "baseline",
        'baseline = "no_programme"',
        'baseline = "no_programe"',
        ["baseline:", "expected one of the arms", "'no_programme'"],
    ),
    ("missing baseline", 'baseline = "no_programme"\n', "", ["baseline:", "required key is missing"]),
    (
        "duplicate arm",
        "[arms.hubs]",
        '[arms.centralised]\nregime = "centralised"\n\n[arms.hubs]',
        ["TOML syntax error", "twice"],
    ),
    ("arm name", "[arms.hubs]", '[arms."hubs everywhere"]', ["arms.hubs everywhere:", "arm name"]),
    ("spec name", 'name = "t"', 'name = "my test"', ["name:", "output folder"]),
    (
        "sweep parameter",
        "[arms.no_programme]",
        "[sweep]\nmatching_alfa = [0.4]\n\n[arms.no_programme]",
        ["sweep.matching_alfa", "'matching_alpha'"],
    ),
    (
        "sweep domain",
        "[arms.no_programme]",
        "[sweep]\nbirth_size_mean = [2.0, 160.0]\n\n[arms.no_programme]",
        ["sweep.birth_size_mean[1]", "[0.1, 100.0]"],
    ),
    (
        "sweep empty",
        "[arms.no_programme]",
        "[sweep]\nbirth_size_mean = []\n\n[arms.no_programme]",
        ["sweep.birth_size_mean", "non-empty"],
    ),
    (
        "sweep repeated",
        "[arms.no_programme]",
        "[sweep]\nbirth_size_mean = [2, 2.0]\n\n[arms.no_programme]",
        ["sweep.birth_size_mean", "distinct"],
    ),
    (
        "sweep and arm",
        "[arms.no_programme]",
        "[sweep]\nmatching_alpha = [0.4]\n\n[arms.no_programme]",
        ["sweep.matching_alpha", "also set in arms.hubs.params"],
    ),
    (
        "sweep consistency",
        "[arms.no_programme]",
        "[sweep]\nsurvival_1yr = [0.95, 0.3]\n\n[arms.no_programme]",
        ["sweep.survival_1yr[1]", "survival_1yr >= survival_3yr"],
    ),
]


@pytest.mark.parametrize("what,old,new,fragments", BAD_SPECS, ids=[c[0] for c in BAD_SPECS])
def test_bad_spec_is_one_line_naming_file_and_field(tmp_path, what, old, new, fragments):
    assert old in SPEC, old
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(path)), msg
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"


def test_spec_without_arms(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.split("[arms.no_programme]")[0] + "arms = {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.toml: arms: expected at least one arm"):
        load_experiment(path)


def test_missing_spec_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_experiment(tmp_path / "nope.toml")


def test_bad_spec_on_the_command_line_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.replace('regime = "centralised"', 'regime = "centralized"'), encoding="utf-8")
    p = subprocess.run(cli_cmd(str(path), "--out", str(tmp_path / "o")), capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p
    one_line_error(p.stderr, str(path), "arms.centralised.regime", "did you mean 'centralised'")
    assert not (tmp_path / "o").exists()  # nothing starts before everything is valid


def test_bad_executor_options_exit_2(spec_file, tmp_path, capsys):
    for argv, fragment in (
        (["--workers", "0"], "--workers"),
        (["--executor", "local", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    ):
        assert cli.main(["experiment", str(spec_file), "--out", str(tmp_path / "o"), *argv]) == 2
        one_line_error(capsys.readouterr().err, fragment)


def test_expansion_sweep_and_dotted_levers(tmp_path):
    text = SPEC.replace("seeds = 3", "seeds = [1, 5, 9]").replace(
        "[arms.no_programme]",
        "[sweep]\nbirth_size_mean = [2, 3.5]\nsep_rate_eu = [0.004]\n\n[arms.no_programme]",
    )
    text = text.replace("hub_council_share = 0.5 }", "hub_council_share = 0.5, groups.esa_new.referral_month = 5 }")
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    exp = load_experiment(path)
    points = ["@birth_size_mean=2", "@birth_size_mean=3.5", "@sep_rate_eu=0.004"]
    assert [s.name for s in exp.scenarios] == [a + p for a in SCENARIOS for p in points]
    assert exp.seeds == [1, 5, 9]
    assert len(exp.tasks(tmp_path)) == 9 * 3
    hubs = next(s for s in exp.scenarios if s.name == "hubs@birth_size_mean=3.5")
    assert hubs.params == {"matching_alpha": 0.6, "birth_size_mean": 3.5}
    assert hubs.levers["groups.esa_new.referral_month"] == 5
    # The built scenario has the levers and parameters the spec asks for.
    t = next(t for t in exp.tasks(tmp_path) if t.scenario == hubs.name)
    sc = make_scenario(
        t.place, t.regime, months=t.months, burn_in=t.burn_in, overrides=t.params, lever_overrides=t.levers
    )
    assert sc.regime.levers.hub_firms_per_year == 30.0 and sc.regime.levers.groups.esa_new.referral_month == 5
    assert sc.params.birth_size_mean == 3.5 and sc.params.matching_alpha == 0.6


def test_place_and_regime_paths_are_relative_to_the_spec(tmp_path, shipped):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "town.toml").write_text(shipped("places", "testville"), encoding="utf-8")
    (tmp_path / "configs" / "mine.toml").write_text(shipped("regimes", "cooperative"), encoding="utf-8")
    text = SPEC.replace('place = "testville"', 'place = "configs/town.toml"')
    text = text.replace('regime = "centralised"', 'regime = "configs/mine.toml"')
    (tmp_path / "specs").mkdir()
    path = tmp_path / "specs" / "s.toml"
    path.write_text(text.replace("configs/", "../configs/"), encoding="utf-8")
    exp = load_experiment(path)
    assert exp.place == str(tmp_path / "configs" / "town.toml")  # absolute, so any worker finds it
    assert exp.arms["centralised"]["regime"] == str(tmp_path / "configs" / "mine.toml")
    assert exp.scenarios[1].regime_name == "cooperative"


def test_shipped_specs_are_valid(tmp_path):
    demo = load_experiment(ROOT / "experiments" / "demo.toml")
    assert [s.name for s in demo.scenarios] == ["no_programme", "centralised", "cooperative"]
    assert demo.seeds == [1, 2, 3] and (demo.months, demo.burn_in, demo.lead_in) == (60, 24, 24)
    # claims.toml is for England; its structure is checked on testville (England is checked where it lives).
    text = (ROOT / "experiments" / "claims.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    assert raw["place"] == "england" and "people_per_agent" not in raw  # the place file's scale
    path = tmp_path / "claims.toml"
    path.write_text(text.replace('place = "england"', 'place = "testville"'), encoding="utf-8")
    claims = load_experiment(path)
    names = ["no_programme", "centralised", "cooperative", "hubs_everywhere", "brokerage_everywhere"]
    assert [s.name for s in claims.scenarios] == names
    assert claims.seeds == list(range(1, 11)) and claims.baseline == "no_programme"
    coop = make_scenario("testville", "cooperative").regime.levers
    t = {t.scenario: t for t in claims.tasks(tmp_path) if t.seed == 1}
    hubs = make_scenario("testville", t["hubs_everywhere"].regime, lever_overrides=t["hubs_everywhere"].levers)
    assert hubs.regime.levers.hub_firms_per_year == coop.hub_firms_per_year
    assert hubs.regime.levers.hub_council_share == coop.hub_council_share
    assert hubs.regime.levers.hub_prestart_per_year == coop.hub_prestart_per_year > 0
    assert not hubs.regime.levers.brokerage
    brok = make_scenario(
        "testville", t["brokerage_everywhere"].regime, lever_overrides=t["brokerage_everywhere"].levers
    )
    assert brok.regime.levers.brokerage and brok.regime.levers.hub_firms_per_year == 0


# ------------------------------------------------------------------------------- local executor
def test_local_dataset_has_every_run_and_equals_direct_runs(local_run, spec_file):
    df = pd.read_parquet(local_run / "monthly")  # one dataset, partitioned by scenario
    got = set(zip(df["scenario"].astype(str), df["seed"], strict=True))
    assert got == {(s, seed) for s in SCENARIOS for seed in SEEDS}
    assert len(df) == RUNS * 8 * 3  # months x districts
    cohorts = pd.read_parquet(local_run / "cohorts")
    assert set(cohorts["scenario"].astype(str)) == set(SCENARIOS)
    exp = load_experiment(spec_file)
    for task in exp.tasks(local_run):
        paths = run_paths(local_run, task.scenario, task.seed)
        man = json.loads(paths.manifest.read_text())
        assert (man["scenario"], man["arm"], man["seed"]) == (task.scenario, task.scenario, task.seed)
        assert man["config"]["months"] == 8 and man["git_commit"] and man["peak_memory_mb"] > 0
        if task.seed != 2:
            continue
        sc = make_scenario(  # the spec gives no lead_in: an experiment's default is 24 months
            "testville",
            task.regime,
            months=8,
            burn_in=4,
            lead_in=24,
            overrides=task.params,
            lever_overrides=task.levers,
        )
        assert man["config"] == json.loads(json.dumps(sc.resolved()))
        model = LabourMarketModel(config=sc, seed=task.seed, agent_views=False)
        while model.running:
            model.step()
        direct = model.results_frame()
        direct.insert(0, "seed", task.seed)
        pd.testing.assert_frame_equal(pd.read_parquet(paths.monthly), direct)
        direct_c = model.cohorts.frame(model.district_names)
        direct_c.insert(0, "seed", task.seed)
        pd.testing.assert_frame_equal(pd.read_parquet(paths.cohorts), direct_c)
    # Arms differ (hubs and centralised are not the counterfactual), seeds differ.
    totals = df.groupby(["scenario", "seed"], observed=True)["employed"].sum()
    assert totals.nunique() > 1
    m = json.loads((local_run / "manifest.json").read_text())
    assert m["status"] == "finished" and m["counts"] == {"total": RUNS, "finished": RUNS, "failed": 0, "missing": 0}
    assert m["executor"]["kind"] == "local" and m["spec"]["seeds"] == SEEDS and m["spec"]["baseline"] == "no_programme"
    assert {(r["scenario"], r["seed"], r["status"]) for r in m["runs"]} == {
        (s, seed, "finished") for s in SCENARIOS for seed in SEEDS
    }
    assert len(log_events(local_run, "done")) == RUNS and len(log_events(local_run, "started")) == RUNS
    assert not (local_run / "failed").exists() and not (local_run / ".lock").exists()
    assert not list(local_run.rglob("*.tmp"))
    assert [(r.scenario, r.seed) for r in experiment.finished_runs(local_run)] == sorted(
        (s, seed) for s in SCENARIOS for seed in SEEDS
    )


def test_rerun_of_a_finished_experiment_runs_nothing(local_run, spec_file, reference, capsys):
    before = len(log_events(local_run, "skipped-finished"))
    man_path = local_run / "manifest.json"
    man = json.loads(man_path.read_text())
    assert man["code_sha256"] == experiment.code_sha256()
    man["code_sha256"] = "0" * 64  # as if the earlier runs were made by other model code
    man_path.write_text(json.dumps(man))
    assert cli.main(["experiment", str(spec_file), "--out", str(local_run)]) == 0
    printed = capsys.readouterr().out
    assert "9 of 9 runs already finished" in printed
    assert "note: the model code changed" in printed and "use a new --out to recompute" in printed
    assert len(log_events(local_run, "skipped-finished")) == before + RUNS
    assert len(log_events(local_run, "done")) == RUNS
    assert digest(local_run) == reference
    m = json.loads((local_run / "manifest.json").read_text())
    assert len(m["sessions"]) >= 2 and m["sessions"][-1]["ran"] == 0


def test_another_spec_into_the_same_folder_is_refused(local_run, tmp_path, capsys):
    other = tmp_path / "t.toml"
    other.write_text(SPEC.replace("seeds = 3", "seeds = 4"), encoding="utf-8")
    assert cli.main(["experiment", str(other), "--out", str(local_run)]) == 2
    one_line_error(capsys.readouterr().err, "manifest.json", "different resolved spec", "seeds", "another --out")


# --------------------------------------------------------------------------------------- dask
def test_dask_local_cluster_gives_identical_dataset(spec_file, reference, tmp_path, capsys):
    out = tmp_path / "dask"
    assert cli.main(["experiment", str(spec_file), "--out", str(out), "--executor", "dask", "--workers", "2"]) == 0
    assert "dask executor (LocalCluster), 2 workers" in capsys.readouterr().out
    assert digest(out) == reference
    m = json.loads((out / "manifest.json").read_text())
    assert m["executor"]["kind"] == "dask" and m["executor"]["workers"] == 2


def test_unreachable_scheduler_exits_2_quickly(spec_file, tmp_path):
    t0 = time.monotonic()
    p = subprocess.run(
        cli_cmd(str(spec_file), "--out", str(tmp_path / "o"), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - t0 < 20
    assert p.returncode == 2, p
    one_line_error(p.stderr, "--scheduler", "tcp://127.0.0.1:1", "cannot reach")
    assert not (tmp_path / "o" / ".lock").exists() and not (tmp_path / "o" / "manifest.json").exists()


def test_real_cluster_survives_a_killed_worker(spec_file, reference, tmp_path):
    """A scheduler and two workers as separate processes on 127.0.0.1; one worker is SIGKILLed
    while the experiment runs, and its runs are retried on the other."""
    sched_file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []
    out = tmp_path / "cluster"
    slow = env_with(**{experiment.DELAY_HOOK: "0.3"})
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "cwd": tmp_path}
    try:
        procs.append(
            subprocess.Popen(
                [
                    *SCHEDULER,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(sched_file),
                ],
                env=env_with(),
                **quiet,
            )
        )
        wait_for(lambda: sched_file.exists() and sched_file.stat().st_size > 0, 30, "the scheduler file", 0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        *WORKER,
                        address,
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                    ],
                    env=slow,
                    **quiet,
                )
            )
        from dask.distributed import Client

        with Client(address, timeout=20) as c:
            c.wait_for_workers(2, timeout=60)
        run = subprocess.Popen(
            cli_cmd(str(spec_file), "--out", str(out), "--scheduler", address),
            env=env_with(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        procs.append(run)
        wait_for(lambda: (out / "runs").exists() and finished(out) >= 2, 60, "two finished runs")
        assert finished(out) < RUNS
        kill_group(procs[1])  # one worker (its nanny and process), mid-experiment
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, (stdout, stderr)
        assert f"{RUNS} runs done, 0 failed" in stdout
        assert digest(out) == reference
        pids = {ln.split("pid=")[1] for ln in log_events(out, "started")}
        assert len(pids) >= 2  # both workers ran something
    finally:
        for p in reversed(procs):
            kill_group(p)


# ------------------------------------------------------------------------------------ resume
@pytest.mark.parametrize("kill_after", [1, 5])
def test_resume_after_sigkill_gives_identical_dataset(spec_file, reference, tmp_path, kill_after):
    out = tmp_path / "out"
    p = subprocess.Popen(
        cli_cmd(str(spec_file), "--out", str(out), "--workers", "2"),
        env=env_with(**{experiment.DELAY_HOOK: "0.25"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: (out / "runs").exists() and finished(out) >= kill_after, 60, f"{kill_after} finished runs")
    finally:
        kill_group(p)
    done_before = finished(out)
    assert kill_after <= done_before < RUNS
    assert (out / ".lock").exists()  # left behind by the killed driver: stale, taken over below
    r = subprocess.run(
        cli_cmd(str(spec_file), "--out", str(out)), env=env_with(), capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r
    assert f"{done_before} of {RUNS} runs already finished" in r.stdout
    assert len(log_events(out, "skipped-finished")) == done_before
    assert digest(out) == reference
    assert not list(out.rglob("*.tmp")) and not (out / ".lock").exists()
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "finished" and m["counts"]["finished"] == RUNS and len(m["sessions"]) == 2
    assert m["sessions"][0]["status"] == "running"  # the killed session never finished


# ------------------------------------------------------------------------------- failed runs
def test_a_failing_run_is_recorded_and_retried_alone(spec_file, reference, tmp_path):
    out = tmp_path / "out"
    r = subprocess.run(
        cli_cmd(str(spec_file), "--out", str(out), "--workers", "2"),
        env=env_with(**{experiment.FAIL_HOOK: "centralised:2"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r
    assert "Traceback" not in r.stderr
    assert f"{RUNS - 1} runs done, 1 failed" in r.stdout
    failed = run_paths(out, "centralised", 2).failed
    rec = json.loads(failed.read_text())
    assert rec["error_type"] == "RuntimeError" and "test hook" in rec["message"]
    assert "Traceback" in rec["traceback"] and (rec["scenario"], rec["seed"]) == ("centralised", 2)
    assert finished(out) == RUNS - 1 and not run_paths(out, "centralised", 2).manifest.exists()
    assert [ln for ln in log_events(out, "failed") if "scenario=centralised seed=2" in ln]
    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "failed" and m["counts"]["failed"] == 1
    # The fault removed: only the failed run runs again, and its failure record goes.
    r = subprocess.run(
        cli_cmd(str(spec_file), "--out", str(out)), env=env_with(), capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r
    assert "1 runs done, 0 failed, 8 already finished" in r.stdout
    assert not failed.exists()
    assert digest(out) == reference
    starts = [ln for ln in log_events(out, "started")]
    assert len(starts) == RUNS + 1 and "scenario=centralised seed=2" in starts[-1]


# ------------------------------------------------------------------------------------ the lock
def test_lock_held_by_a_live_process_refuses(spec_file, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now"}))
    assert cli.main(["experiment", str(spec_file), "--out", str(out)]) == 2
    one_line_error(capsys.readouterr().err, str(out), f"another experiment (pid {os.getpid()}", "another --out")
    assert not (out / "manifest.json").exists()


def test_stale_lock_of_a_dead_process_is_taken_over(spec_file, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "then"}))
    exp = load_experiment(spec_file)
    exp.seeds = [1]
    res = experiment.run_experiment(exp, out, LocalExecutor(2))
    assert res.exit_code == 0 and res.done == len(SCENARIOS)
    assert not (out / ".lock").exists()


def test_two_experiments_into_one_folder_at_once(spec_file, tmp_path):
    out = tmp_path / "out"
    first = subprocess.Popen(
        cli_cmd(str(spec_file), "--out", str(out), "--workers", "1"),
        env=env_with(**{experiment.DELAY_HOOK: "1.0"}),  # long enough to be still running below
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: (out / "experiment.log").exists() and log_events(out, "started"), 60, "the first experiment")
        second = subprocess.run(cli_cmd(str(spec_file), "--out", str(out)), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2, second
        one_line_error(second.stderr, f"another experiment (pid {first.pid}", "is writing this folder", "another --out")
        # SIGTERM unwinds the first like Ctrl-C: it releases the lock and records the session.
        os.kill(first.pid, signal.SIGTERM)
        _, err = first.communicate(timeout=60)
        assert first.returncode == 130, err
        assert not (out / ".lock").exists()
        assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    finally:
        kill_group(first)


# ------------------------------------------------------------------------------- executors
def test_local_executor_reports_a_worker_that_keeps_dying():
    """A task whose process dies breaks the pool; it is retried on fresh pools, then reported."""
    from concurrent.futures.process import BrokenProcessPool

    from simulation.executors import RESTARTS

    t0 = time.monotonic()
    got = list(LocalExecutor(2).run(os._exit, [3]))
    assert len(got) == 1 and got[0][0] == 3 and isinstance(got[0][2], BrokenProcessPool)
    assert RESTARTS == 2 and time.monotonic() - t0 < 30
    assert sorted(r for _, r, e in LocalExecutor(2).run(abs, [-1, -2, 3]) if e is None) == [1, 2, 3]
