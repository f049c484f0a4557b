"""Mesa's own `batch_run` works with the model, for users who already know it.

`batch_run` sets the global multiprocessing start method to spawn, so it runs in a subprocess here
and does not disturb other tests' process pools.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    import mesa

    from simulation.model import LabourMarketModel

    PARAMETERS = {
        "place": "testville",
        "regime": ["centralised", "cooperative"],
        "months": 3,
        "burn_in": 2,
        "agent_views": False,
    }


    def batch(processes):
        return mesa.batch_run(
            LabourMarketModel,
            parameters=PARAMETERS,
            rng=[1, 2],
            max_steps=3,
            number_processes=processes,
            data_collection_period=-1,
            display_progress=False,
        )


    if __name__ == "__main__":
        json.dump({"first": batch(1), "second": batch(1), "parallel": batch(2)}, sys.stdout)
    """
)


def test_mesa_batch_run_gives_model_reporters_deterministically(tmp_path):
    script = tmp_path / "batch.py"
    script.write_text(SCRIPT, encoding="utf-8")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    rows = out["first"]
    assert len(rows) == 4  # 2 regimes x 2 seeds, one row each at the end (data_collection_period=-1)
    key = lambda r: (r["regime"], r["seed"])  # noqa: E731
    assert sorted(map(key, rows)) == [("centralised", 1), ("centralised", 2), ("cooperative", 1), ("cooperative", 2)]
    for r in rows:
        assert r["Step"] == 3 and r["month"] == 3
        assert 0 < r["unemployment_rate"] < 0.2 and 0.5 < r["employment_rate"] < 0.9
        assert {"participants", "public_cost_cumulative", "job_outcomes_cumulative"} <= set(r)
    # Deterministic: the same rows from a second call, and from two processes (rows arrive unordered).
    assert out["second"] == rows
    assert sorted(out["parallel"], key=key) == sorted(rows, key=key)
    # Seeds and regimes matter.
    by = {key(r): r["unemployment_rate"] for r in rows}
    assert by[("centralised", 1)] != by[("centralised", 2)]
